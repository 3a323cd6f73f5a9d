"""``nxgov status`` against the lab's real OpenStack regions: each node's capacity and its departments' quota use
against what Placement and Nova list, each department ``n of m`` provisioned against what ``nxgov cloud plan``
said it would create, a resource removed by hand found missing (and named), and a node whose API cannot be
reached reported unreachable while the others are still read.

The estate is the lab's with its own estate name and department codes (tests/cloud/conftest.py ``lab_shape``),
without legacy sources and backup policies (so that only the cloud can need attention; level 2 then), applied
with ``nxgov cloud apply`` and pruned away at the end."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from nxgov.cloud import naming
from tests.cloud.conftest import lab_shape
from tests.conftest import ROOT

pytestmark = [pytest.mark.lab, pytest.mark.slow]

PRIMARY = ("yinchuan", "zhongwei")
GIB = 1024 ** 3


@dataclass
class Setup:
    directory: Path
    estate: Path
    name: str
    clouds: Path
    lab_clouds: Path
    env: dict[str, str]
    creates: dict[str, int]
    """Per department: the resources ``nxgov cloud plan`` said it would create for the new estate."""

    def nxgov(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "-e", str(self.estate),
                               *args], capture_output=True, text=True, cwd=ROOT, env={**os.environ, **self.env},
                              timeout=900)

    def status(self) -> tuple[int, dict[str, Any]]:
        done = self.nxgov("-o", "json", "status", "--timeout", "30")
        assert done.returncode in (0, 3), done.stderr[-3000:]
        document: dict[str, Any] = json.loads(done.stdout)
        return done.returncode, document

    def connection(self, node: str) -> Any:
        from openstack.config import OpenStackConfig
        from openstack.connection import Connection

        region = OpenStackConfig(config_files=[str(self.lab_clouds)], load_envvars=False).get_one(
            cloud=f"nxlab-{node}", region_name=node)
        return Connection(config=region)


def _write_clouds(source: Path, target: Path, unreachable: str | None = None) -> None:
    """A copy of the lab's clouds.yaml (mode 0600: it holds passwords), ``unreachable``'s entry pointed at a closed
    port."""
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    if unreachable is not None:
        doc["clouds"][f"nxlab-{unreachable}"]["auth"]["auth_url"] = "http://127.0.0.1:9/v3"
    target.touch(mode=0o600)
    target.write_text(yaml.safe_dump(doc), encoding="utf-8")


@pytest.fixture(scope="module")
def setup(openstack_lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    directory = tmp_path_factory.mktemp("status-lab")
    name = "s" + secrets.token_hex(3)
    doc = lab_shape(name)
    for system in doc["systems"]:
        for key in ("source", "service", "backup"):
            system.pop(key, None)
        system["level"] = 2
    for dept in doc["departments"]:
        dept.pop("hooks", None)
        if dept["code"] == f"{name}e":
            dept["networks"].append({"name": "spare"})
    for node in doc["clouds"].values():
        node["clouds_yaml"] = "clouds.yaml"
    lab_clouds = Path(openstack_lab.env()["OS_CLIENT_CONFIG_FILE"])
    _write_clouds(lab_clouds, directory / "clouds.yaml")
    estate = directory / "estate.yaml"
    estate.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    made = Setup(directory, estate, name, directory / "clouds.yaml", lab_clouds,
                 {"NXGOV_STATE": str(directory / "state.db"), "NXGOV_AUDIT_LOG": str(directory / "audit.jsonl"),
                  "COLUMNS": "200"}, {})
    planned = made.nxgov("-o", "json", "cloud", "plan")
    assert planned.returncode == 0, planned.stderr[-3000:]
    for change in json.loads(planned.stdout)["changes"]:
        department = change["desired"]["department"] if change["desired"] else ""
        if change["action"] == "create" and department:
            made.creates[department] = made.creates.get(department, 0) + 1
    applied = made.nxgov("cloud", "apply", "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    yield made
    _write_clouds(lab_clouds, made.clouds)
    doc["departments"], doc["systems"] = [], []
    estate.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pruned = made.nxgov("cloud", "apply", "--prune", "--yes")
    assert pruned.returncode == 0, pruned.stderr[-3000:]


def _placement_vcpus(conn: Any) -> tuple[float, float]:
    """(total, (total - reserved) x ratio) of VCPU summed over the node's resource providers, read here."""
    total = allocatable = 0.0
    for provider in conn.placement.get("/resource_providers").json()["resource_providers"]:
        inventory = conn.placement.get(f"/resource_providers/{provider['uuid']}/inventories").json()[
            "inventories"].get("VCPU")
        if inventory:
            total += inventory["total"]
            allocatable += (inventory["total"] - inventory["reserved"]) * inventory["allocation_ratio"]
    return total, allocatable


def _servers_of(conn: Any, project: str) -> int:
    project_id = conn.identity.find_project(project, ignore_missing=False).id
    return len(list(conn.compute.servers(all_projects=True, project_id=project_id)))


def test_status_against_the_lab(setup: Setup) -> None:
    code, document = setup.status()
    assert document["schema"] == "nxgov.status/1"
    assert code == 0 and document["ok"] is True and document["attention"] == [], document["attention"]
    nodes = {n["node"]: n for n in document["nodes"]}
    assert set(nodes) == {*PRIMARY, "backup"} and {n["health"] for n in nodes.values()} == {"up"}
    d, e = f"{setup.name}d", f"{setup.name}e"
    for node in PRIMARY:
        conn = setup.connection(node)
        try:
            total, allocatable = _placement_vcpus(conn)
            servers = {dept: _servers_of(conn, dept) for dept in (d, e)}
        finally:
            conn.close()
        vcpus = nodes[node]["resources"]["vcpus"]
        assert (vcpus["capacity"], vcpus["allocatable"]) == (total, allocatable) and total > 0
        quotas = {(q["department"], q["resource"]): q for q in nodes[node]["quotas"]}
        for dept in (d, e):
            assert quotas[(dept, "cores")]["limit"] == 16, "the estate's quota, as applied"
            assert quotas[(dept, "memory")]["limit"] == 32 * GIB
            assert quotas[(dept, "instances")]["used"] == servers[dept], f"{dept} on {node}"
    assert sum(servers.values()) > 0, "the estate's servers are there to be counted"
    depts = {x["department"]: x for x in document["departments"]}
    assert set(setup.creates) == {d, e}
    for dept in (d, e):
        provisioned = depts[dept]["provisioned"]
        assert provisioned["declared"] == provisioned["present"] == setup.creates[dept], dept
        assert provisioned["missing"] == [] and provisioned["changed"] == []

    conn = setup.connection("yinchuan")
    try:
        project = conn.identity.find_project(e, ignore_missing=False)
        router = next(conn.network.routers(project_id=project.id, name=naming.router(e)))
        subnet = next(conn.network.subnets(project_id=project.id, name=naming.subnet(e, "spare", 6)))
        conn.network.remove_interface_from_router(router, subnet=subnet.id)
    finally:
        conn.close()
    code, document = setup.status()
    assert code == 3 and document["ok"] is False
    gone = f"yinchuan/router_interface/{naming.router_interface(naming.router(e), naming.subnet(e, 'spare', 6))}"
    depts = {x["department"]: x for x in document["departments"]}
    assert depts[e]["provisioned"]["missing"] == [gone]
    assert depts[e]["provisioned"]["present"] == setup.creates[e] - 1
    assert depts[d]["provisioned"]["present"] == setup.creates[d]
    assert [(a["kind"], a["subject"], a["look"]) for a in document["attention"]] == [
        ("cloud-missing", e, "nxgov cloud plan")]

    _write_clouds(setup.lab_clouds, setup.clouds, unreachable="backup")
    code, document = setup.status()
    assert code == 3
    nodes = {n["node"]: n for n in document["nodes"]}
    assert nodes["backup"]["health"] == "unreachable" and "node backup is unreachable" in nodes["backup"]["error"]
    assert nodes["backup"]["resources"] is None
    assert all(nodes[node]["health"] == "up" and nodes[node]["resources"]["vcpus"]["capacity"] > 0
               for node in PRIMARY), "the other nodes are still read"
    assert document["cloud_error"] is None, "the backup node holds no department: provisioning is still read"
    kinds = [(a["kind"], a["subject"]) for a in document["attention"]]
    assert kinds == [("node-unreachable", "backup"), ("cloud-missing", e)]
    shown = setup.nxgov("status")
    assert shown.returncode == 3 and "unreachable" in shown.stdout and "nxgov cloud plan" in shown.stdout
    assert "password" not in shown.stdout + shown.stderr
