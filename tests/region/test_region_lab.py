"""``nxgov plan`` / ``nxgov apply`` / ``nxgov status`` against the whole lab, through the real CLI, as the README's
main command (scripts/demo.sh) runs them: real OpenStack regions, FRR routers and simulated VRP/Comware devices,
a legacy host migrated with real ansible-runner and rsync, a real backup sync and restore drill.

The tests of this module run in order on one state store and audit log (a fresh one: the lab's IPv6 plan,
migration lifecycle and backup catalog start empty), on a copy of the lab estate whose service records file
is the test's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, Run
from tests.migrate.legacy_hosts import as_the_lab_starts_them, health

pytestmark = pytest.mark.lab

LAB = Path("/var/lib/nxgov/lab")
ENTRY = "from nxgov.cli.main import run; run()"
SOURCE = "2001:db8:ff10:1::10"


@dataclass
class Rehearsal:
    work: Path
    estate: Path
    env: dict[str, str]
    records: Path

    def nx(self, *args: str, estate: Path | None = None, timeout: float = 1800) -> Run:
        proc = subprocess.run([sys.executable, "-c", ENTRY, "-e", str(estate or self.estate), *args],
                              capture_output=True, text=True, cwd=ROOT, env=self.env, timeout=timeout)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def audit(self) -> list[dict[str, Any]]:
        lines = (self.work / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


def _estate_copy(work: Path, records: Path, extra: dict[str, list[dict[str, Any]]] | None = None,
                 name: str = "estate") -> Path:
    directory = work / name
    directory.mkdir()
    shutil.copytree(ROOT / "inventories" / "lab" / "hooks", directory / "hooks")
    text = (ROOT / "inventories" / "lab" / "estate.yaml").read_text().replace(str(LAB / "service-records.hosts"),
                                                                            str(records))
    if extra is not None:
        doc = yaml.safe_load(text)
        for key, items in extra.items():
            doc[key] += items
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (directory / "estate.yaml").write_text(text)
    return directory


@pytest.fixture(scope="module")
def rehearsal(lab_session: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    work = tmp_path_factory.mktemp("region-lab")
    records = work / "service-records.hosts"
    env = {**os.environ, "NXGOV_STATE": str(work / "state.db"), "NXGOV_AUDIT_LOG": str(work / "audit.jsonl"),
           "NXGOV_KNOWN_HOSTS": str(work / "known_hosts"), "OS_CLIENT_CONFIG_FILE": str(LAB / "clouds.yaml"),
           "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    made = Rehearsal(work, _estate_copy(work, records), env, records)
    as_the_lab_starts_them()  # an earlier test's cutover may have stopped a source
    from nxgov.lab.frr import Extranet

    extranet = Extranet(LAB)
    for device in yaml.safe_load((made.estate / "estate.yaml").read_text())["extranet"]["devices"]:
        # an earlier test may have configured the routers as this plan would: make it push (and verify) again
        if device["platform"] == "frr" and "router bgp" in extranet.vtysh(device["name"], "show running-config"):
            extranet.vtysh(device["name"], "configure terminal\nno router bgp")
    yield made
    as_the_lab_starts_them()  # for the tests after these: the rehearsal cut labdrc-web over
    doc = yaml.safe_load((made.estate / "estate.yaml").read_text())
    doc["departments"], doc["systems"] = [], []
    (made.estate / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    made.nx("cloud", "apply", "--prune", "--yes")


def _by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {part["part"]: part for part in document["result"]["parts"]}


def test_plan_then_apply_rehearses_the_region_end_to_end_and_a_second_run_changes_nothing(
        rehearsal: Rehearsal) -> None:
    planned = rehearsal.nx("-o", "json", "plan", "--migrate", "labdrc-web", "--out", str(rehearsal.work / "plan.json"))
    assert planned.code == 0, planned.err
    plan = planned.json()
    assert plan["schema"] == "nxgov.plan/1" and not plan["empty"]
    keys = [p["key"] for p in plan["parts"]]
    for key in ("ipv6", "verify", "assess:labdrc-web", "replicate:labdrc-web", "test:labdrc-web",
                "cutover:labdrc-web", "sync:labdrc-web", "drill:labdrc-web"):
        assert key in keys, keys
    stages = [p["stage"] for p in plan["parts"]]
    assert stages == sorted(stages, key=["cloud", "ipv6", "push", "verify", "assess", "replicate", "test",
                                         "cutover", "sync", "drill"].index)
    groups = {p["key"]: p["group"] for p in plan["parts"]}
    assert groups["ipv6"] == "net" and groups["cutover:labdrc-web"] == "migrate" and groups["drill:labdrc-web"] \
        == "backup"
    assert "cutover:labdrc-web" in next(p for p in plan["parts"] if p["key"] == "sync:labdrc-web")["needs"]
    assert {"key": "sync:labedu-exam", "reason": "not on the cloud yet: its backups start after its cutover"} \
        in plan["deferred"]

    applied = rehearsal.nx("-o", "json", "apply", str(rehearsal.work / "plan.json"))
    assert applied.code == 0, applied.err + applied.out
    parts = _by_key(applied.json())
    assert all(p["result"] in ("changed", "ok") for p in parts.values()), parts
    assert parts["cutover:labdrc-web"]["detail"].startswith("now cut-over")
    assert parts["drill:labdrc-web"]["detail"].startswith("passed")
    assert "both-up" in parts["verify"]["detail"]
    targets = [line.split()[0] for line in rehearsal.records.read_text().splitlines()
               if line.strip().endswith("labdrc-web.lab.nxgov.cn")]
    assert targets and SOURCE not in targets and health(f"http://[{targets[0]}]:8080/health") == 200

    lab = rehearsal.nx("-o", "json", "lab", "status")  # the source's app stopped by the cutover: the host is still up
    host = next(c for c in lab.json()["components"] if c["name"] == "labdrc-web")
    assert lab.code == 0 and host["state"] == "running" and "web app does not answer" in host["detail"], lab.out

    again = rehearsal.nx("-o", "json", "plan", "--migrate", "labdrc-web", "--detailed-exitcode")
    assert again.code == 0, again.err + again.out
    assert again.json()["empty"] and again.json()["parts"] == []
    unchanged = rehearsal.nx("apply", "--migrate", "labdrc-web", "--yes")
    assert unchanged.code == 0 and "nothing to change" in unchanged.out, unchanged.err + unchanged.out

    status = rehearsal.nx("-o", "json", "status")
    assert status.code in (0, 3), status.err
    text = json.dumps(status.json(), ensure_ascii=False)
    assert "both-up" in text and "labdrc" in text

    records = rehearsal.audit()
    per_part = {r["target"]: r["result"] for r in records if r["command"] == "apply" and not
                r["target"].startswith("region/")}
    assert set(per_part) == set(keys) and set(per_part.values()) <= {"changed", "ok"}
    assert {r["command"] for r in records} >= {"cloud apply", "net push", "migrate cutover", "backup sync",
                                              "backup drill", "migrate lifecycle"}
    verified = rehearsal.nx("audit", "verify")
    assert verified.code == 0, verified.err


def test_a_saved_plan_is_refused_after_a_change_on_a_node_and_apply_converges_again(rehearsal: Rehearsal) -> None:
    saved = rehearsal.work / "saved.json"
    planned = rehearsal.nx("plan", "--out", str(saved))
    assert planned.code == 0, planned.err
    import openstack

    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(LAB / "clouds.yaml"))
    conn: Any = openstack.connect(cloud="nxlab-yinchuan")
    project = conn.identity.find_project("labdrc", ignore_missing=False)
    cores = conn.compute.get_quota_set(project.id).cores
    conn.compute.update_quota_set(project.id, cores=cores + 3)  # an operator's change by hand, outside nxgov

    refused = rehearsal.nx("apply", str(saved))
    assert refused.code == 2, refused.err + refused.out
    assert "the region changed since" in refused.err and "cloud (read" in refused.err
    assert "nothing was changed" in refused.err and "Traceback" not in refused.err
    assert conn.compute.get_quota_set(project.id).cores == cores + 3

    converged = rehearsal.nx("-o", "json", "apply", "--yes")
    assert converged.code == 0, converged.err + converged.out
    assert "cloud:labdrc" in _by_key(converged.json())
    assert conn.compute.get_quota_set(project.id).cores == cores


def test_a_migration_whose_network_failed_is_skipped_with_the_reason_and_the_rest_goes_on(
        rehearsal: Rehearsal) -> None:
    """Department labfail's network cannot be completed: Neutron's subnet quota (which nxgov does not manage) is set
    to 0 by hand in its project, so the network's subnets fail, and with them everything that needs them."""
    department = {"code": "labfail", "name": "配额演练", "quotas": {"cores": 2, "ram_gb": 2, "instances": 2}}
    system = {"code": "labfail-app", "name": "配额演练系统", "department": "labfail", "level": 2,
              "placement": {"mode": "single", "node": "yinchuan"},
              "source": {"host": SOURCE, "user": "ops", "credentials": "legacy-ssh", "paths": ["/srv/labdrc-web/data"]},
              "service": {"start": "true", "stop": "true"},
              "servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-lab", "network": "app"}]}
    first = _estate_copy(rehearsal.work, rehearsal.records, {"departments": [department],  # on yinchuan, empty
                                                              "systems": [{**system, "servers": []}]}, "estate-quota")
    estate = _estate_copy(rehearsal.work, rehearsal.records, {
        "departments": [{**department, "networks": [{"name": "app", "ipv4": "198.51.100.128/26"}]}],
        "systems": [system]}, "estate-extra")
    try:
        made = rehearsal.nx("cloud", "apply", "--prune", "--yes", estate=first)  # the project, nothing in it
        assert made.code == 0, made.err + made.out
        import openstack

        os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(LAB / "clouds.yaml"))
        conn: Any = openstack.connect(cloud="nxlab-yinchuan")
        conn.network.update_quota(conn.identity.find_project("labfail", ignore_missing=False).id, subnets=0)
        applied = rehearsal.nx("-o", "json", "apply", "--migrate", "labfail-app", "--yes", estate=estate)
        assert applied.code == 1, applied.err + applied.out
        parts = _by_key(applied.json())
        assert parts["cloud:labfail"]["result"] == "failed" and "subnet" in parts["cloud:labfail"]["detail"]
        assert parts["assess:labfail-app"]["result"] == "changed"  # reading the host needs no cloud
        assert parts["replicate:labfail-app"] == {**parts["replicate:labfail-app"], "result": "skipped",
                                                  "detail": "it needs cloud:labfail, which failed"}
        assert parts["test:labfail-app"]["detail"] == "it needs replicate:labfail-app, which was skipped"
        assert parts["cutover:labfail-app"]["result"] == "skipped"
        done = [key for key, part in parts.items() if part["result"] in ("changed", "ok")]
        assert "assess:labfail-app" in done
        skipped = [r for r in rehearsal.audit() if r["command"] == "apply" and r["target"] == "replicate:labfail-app"]
        assert skipped and skipped[-1]["result"] == "failed" and skipped[-1]["details"]["result"] == "skipped"
    finally:  # what labfail got removed (a project of a department the estate no longer has is never looked at)
        pruned = rehearsal.nx("cloud", "apply", "--prune", "--yes", estate=first)
        assert pruned.code == 0, pruned.err
