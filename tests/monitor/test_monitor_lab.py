"""The exporter against the lab's real OpenStack regions, scraped by a real Prometheus (Debian's 2.42) started on
a free loopback port with a generated configuration: every family's values against what the lab and the state
store hold, a server created → its node's ACTIVE servers up by one at the next refresh, every dashboard query
answering, and a node whose API stops answering → its ``nxgov_up`` 0 while the other nodes are still served.

The estate is the lab's with its own estate name and department codes (tests/cloud/conftest.py ``lab_shape``),
applied with ``nxgov cloud apply`` and pruned away at the end."""

from __future__ import annotations

import functools
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

from nxgov.audit import AuditLog
from nxgov.backup import catalog
from nxgov.lab.prometheus import Prometheus, config
from nxgov.network.verify import PlaneResult, Report, SiteResult, save
from nxgov.state import StateStore
from tests.cloud.conftest import LAB_ESTATE, lab_shape
from tests.cloud.proxy import FaultProxy, proxied_clouds
from tests.monitor.helpers import ROOT, Served, promtool, require_prometheus, serve
from tests.monitor.test_rules import dashboard_queries

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REFRESH = 2
NODES = ("yinchuan", "zhongwei", "backup")


@dataclass
class Setup:
    directory: Path
    estate: Path
    name: str
    doc: dict[str, Any]
    env: dict[str, str]
    clouds: Path

    def nxgov(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "-e", str(self.estate),
                               *args], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, **self.env, **(extra or {})}, timeout=900)


def _connection(clouds: Path, node: str) -> Any:
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    region = OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
        cloud=f"nxlab-{node}", region_name=node)
    return Connection(config=region)


@pytest.fixture(scope="module")
def setup(openstack_lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    require_prometheus()
    directory = tmp_path_factory.mktemp("monitor-lab")
    name = "m" + secrets.token_hex(3)
    doc = lab_shape(name)
    doc["extranet"] = yaml.safe_load(LAB_ESTATE.read_text(encoding="utf-8"))["extranet"]
    estate = directory / "estate.yaml"
    estate.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    clouds = Path(openstack_lab.env()["OS_CLIENT_CONFIG_FILE"])
    made = Setup(directory, estate, name, doc, {"NXGOV_STATE": str(directory / "state.db"),
                                                "NXGOV_AUDIT_LOG": str(directory / "audit.jsonl"),
                                                "OS_CLIENT_CONFIG_FILE": str(clouds)}, clouds)
    applied = made.nxgov("cloud", "apply", "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    yield made
    made.doc["departments"], made.doc["systems"] = [], []
    estate.write_text(yaml.safe_dump(made.doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    pruned = made.nxgov("cloud", "apply", "--prune", "--yes")
    assert pruned.returncode == 0, pruned.stderr[-3000:]


@pytest.fixture(scope="module")
def running(setup: Setup) -> Iterator[tuple[Served, Prometheus]]:
    exporter = serve(setup.directory, "-e", str(setup.estate), "monitor", "serve", "--listen", "127.0.0.1:0",
                     "--refresh", str(REFRESH), env=setup.env)
    prometheus = Prometheus(setup.directory / "prometheus", config([exporter.address], interval=1.0))
    try:
        prometheus.start()
        prometheus.wait(lambda: len(prometheus.values("nxgov_up == 1")) == 7, 120, "every source up")
        yield exporter, prometheus
    finally:
        prometheus.stop()
        exporter.stop()


def _by(values: dict[tuple[tuple[str, str], ...], float], *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(dict(k)[label] for label in labels): v for k, v in values.items()}


def _lab_servers(setup: Setup, node: str) -> list[Any]:
    conn = _connection(setup.clouds, node)
    try:
        return list(conn.compute.servers(all_projects=True, limit=50))
    finally:
        conn.close()


def _served_counts(prometheus: Prometheus, node: str) -> dict[str, float]:
    return {status: v for (n, status), v in _by(prometheus.values("nxgov_cloud_servers"), "node", "status").items()
            if n == node and v}


def _lab_counts(setup: Setup, node: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for server in _lab_servers(setup, node):
        counts[server.status] = counts.get(server.status, 0) + 1
    return counts


def _counts_agree(prometheus: Prometheus, setup: Setup, node: str) -> bool:
    return _served_counts(prometheus, node) == _lab_counts(setup, node)


def test_every_family_matches_the_lab(setup: Setup, running: tuple[Served, Prometheus]) -> None:
    exporter, prometheus = running
    for node in NODES:
        prometheus.wait(functools.partial(_counts_agree, prometheus, setup, node), 30,
                        f"{node}'s servers by status as the lab lists them (others may be making servers)")
    d, e = f"{setup.name}d", f"{setup.name}e"
    limits = _by(prometheus.values("nxgov_cloud_quota_cores_limit"), "node", "department")
    assert limits[("yinchuan", d)] == limits[("zhongwei", e)] == 16, "the estate's quota, as applied"
    memory = _by(prometheus.values("nxgov_cloud_quota_memory_limit_bytes"), "node", "department")
    assert memory[("yinchuan", d)] == 32 * 1024 ** 3
    used = _by(prometheus.values("nxgov_cloud_quota_instances_used"), "node", "department")
    for node in ("yinchuan", "zhongwei"):
        projects = {p.id: p.name for p in _connection(setup.clouds, node).identity.projects()}
        for dept in (d, e):
            mine = [s for s in _lab_servers(setup, node) if projects.get(s.project_id) == dept]
            assert used.get((node, dept), 0) == len(mine), (node, dept)
    assert set(prometheus.values("nxgov_cloud_networks_without_ipv6 != 0")) == set(), "every network is dual-stack"
    capacity = _by(prometheus.values("nxgov_cloud_vcpus_allocatable"), "node")
    assert all(capacity[(node,)] > 0 for node in NODES)
    states = _by(prometheus.values("nxgov_migration_systems"), "department", "state")
    systems_with_source = {dept: sum(1 for s in setup.doc["systems"] if s["department"] == dept and s.get("source"))
                           for dept in (d, e)}
    assert {dept: states[(dept, "not-assessed")] for dept in (d, e)} == systems_with_source
    records = AuditLog(setup.directory / "audit.jsonl").verify().records
    assert list(prometheus.values("nxgov_audit_records_total").values()) == [records] and records > 0
    code, text = exporter.get("/metrics")
    checked = promtool("check", "metrics", stdin=text)
    assert code == 200 and checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked


def test_a_new_server_is_counted_at_the_next_refresh(setup: Setup, running: tuple[Served, Prometheus]) -> None:
    _, prometheus = running
    department = f"{setup.name}e"
    query = f'nxgov_cloud_quota_instances_used{{node="zhongwei", department="{department}"}}'
    (before,) = prometheus.values(query).values()
    admin = _connection(setup.clouds, "zhongwei")
    conn = admin.connect_as_project(department)
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros-lab")
    server = conn.compute.create_server(name=f"{department}-monitor-probe", flavor_id=flavor.id, image_id=image.id,
                                        networks="none")
    try:
        conn.compute.wait_for_server(server, status="ACTIVE", wait=120)
        prometheus.wait(lambda: list(prometheus.values(query).values()) == [before + 1], 60,
                        f"{department}'s instances on zhongwei to go from {before:g} to {before + 1:g}")
        prometheus.wait(functools.partial(_counts_agree, prometheus, setup, "zhongwei"), 30,
                        "zhongwei's ACTIVE servers to count the new one")
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
        conn.close()
        admin.close()
    prometheus.wait(lambda: list(prometheus.values(query).values()) == [before], 60, "the server gone again")


def test_every_dashboard_query_returns_data(setup: Setup, running: tuple[Served, Prometheus]) -> None:
    _, prometheus = running
    estate = setup.doc["extranet"]
    with StateStore.open(setup.directory / "state.db") as store:
        save(store, Report(setup.name, "2026-11-27T10:00:00+00:00", tuple(
            SiteResult(site["code"], site["name"], site["level"], "2001:db8::/48", "degraded",
                       (PlaneResult("A", "down", ""), PlaneResult("B", "up", "")), None, ())
            for site in estate["sites"]), ()))
        for node in ("yinchuan", "zhongwei"):           # a good copy of the level-3 system's volume on each node
            copy = catalog.open_copy(store, f"{setup.name}d-web", node, f"{setup.name}d-web-web-1-data1", "v",
                                     "backup", "full")
            catalog.update(store, copy.id, state="good", finished=catalog.now())
    from nxgov.network.archive import Archive

    Archive(setup.directory / "archive", setup.directory / "state.db").add(estate["devices"][0]["name"], "cfg\n")
    prometheus.wait(lambda: bool(prometheus.values("nxgov_extranet_plane_up == 0")), 30, "the verify results")
    prometheus.wait(lambda: bool(prometheus.values("nxgov_extranet_config_archived_timestamp_seconds")), 30,
                    "the archive")
    prometheus.wait(lambda: bool(prometheus.values("nxgov_backup_last_good_timestamp_seconds")), 30, "the copies")
    empty = [(title, expr) for title, expr in dashboard_queries() if not prometheus.query(expr)]
    assert empty == [], f"dashboard queries without data: {empty}"


def test_a_node_that_stops_answering_is_down_alone(setup: Setup, tmp_path: Path) -> None:
    proxy = FaultProxy(fault_rate=0.0)
    clouds = proxied_clouds(setup.clouds, proxy, tmp_path / "clouds.yaml", {"nxlab-zhongwei": "zhongwei"})
    exporter = serve(tmp_path, "-e", str(setup.estate), "monitor", "serve", "--listen", "127.0.0.1:0", "--refresh",
                     str(REFRESH), "--only", "cloud", "--timeout", "5",
                     env={**setup.env, "OS_CLIENT_CONFIG_FILE": str(clouds)})
    prometheus = Prometheus(tmp_path / "prometheus", config([exporter.address], interval=1.0))
    try:
        prometheus.start()
        prometheus.wait(lambda: len(prometheus.values("nxgov_up == 1")) == 3, 120, "every node up")
        assert proxy.forwarded > 0, "zhongwei is read through the proxy"
        proxy.fault_rate = 1.0
        proxy.close()
        prometheus.wait(lambda: _by(prometheus.values("nxgov_up"), "node") == {
            ("yinchuan",): 1, ("zhongwei",): 0, ("backup",): 1}, 60, "zhongwei down, the others up")
        served = _by(prometheus.values("nxgov_cloud_servers"), "node", "status")
        assert served[("yinchuan", "ACTIVE")] == sum(1 for s in _lab_servers(setup, "yinchuan")
                                                     if s.status == "ACTIVE")
        assert list(prometheus.values('up{job="nxgov"}').values()) == [1], "the scrapes still succeed"
        status, health = exporter.get("/healthz")
        assert status == 200 and json.loads(health)["sources"]["cloud/zhongwei"] is False
    finally:
        prometheus.stop()
        exporter.stop()
        proxy.close()
