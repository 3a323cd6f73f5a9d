"""Against the lab's real services: apply from empty, re-plan empty, targeted changes, drift (a network, a
quota and a server made or changed by hand), prune."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.conftest import LabEstate, Run

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def plan_json(cli: Callable[..., Run], estate: LabEstate, *extra: str) -> dict[str, Any]:
    run = cli("-o", "json", "cloud", "plan", *extra, estate=estate.path)
    assert run.code == 0, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def _key(change: dict[str, dict[str, str]]) -> str:
    r = change["desired"] or change["actual"]
    return f"{r['node']}/{r['kind']}/{r['name']}"


def test_apply_replan_change_drift_prune(cli: Callable[..., Run], estate: LabEstate, tmp_path: Path,
                                        lab_clouds: Path) -> None:
    d, e = f"{estate.name}d", f"{estate.name}e"
    first = plan_json(cli, estate)
    assert first["schema"] == "nxgov.cloud.plan/1"
    kinds = {c["desired"]["kind"] for c in first["changes"]}
    assert {"project", "quota_compute", "network", "subnet", "router_interface", "security_group", "server_group",
            "server", "volume", "attachment"} <= kinds
    servers = {_key(c): c["desired"]["attrs"]["status"] for c in first["changes"] if c["desired"]["kind"] == "server"}
    assert servers == {f"yinchuan/server/{d}-web-web-1": "ACTIVE", f"zhongwei/server/{d}-web-web-1": "SHUTOFF",
                       f"zhongwei/server/{e}-exam-app-1": "ACTIVE", f"yinchuan/server/{e}-portal-web-1": "ACTIVE",
                       f"zhongwei/server/{e}-portal-web-2": "ACTIVE"}

    # --dry-run changes nothing
    dry = cli("cloud", "apply", "--dry-run", estate=estate.path)
    assert dry.code == 0, dry.err
    assert plan_json(cli, estate)["summary"] == first["summary"]

    # apply from empty, then the re-plan is empty; one audit record per change (+ one summary)
    applied = cli("cloud", "apply", "--yes", estate=estate.path)
    assert applied.code == 0, applied.out + applied.err
    replan = cli("cloud", "plan", "--detailed-exitcode", estate=estate.path)
    assert replan.code == 0, replan.out + replan.err
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    per_change = [r for r in records if r["command"] == "cloud apply"
                  and r["target"].startswith(("cloud/yinchuan/", "cloud/zhongwei/"))]
    assert len(per_change) == len(first["changes"])
    assert all(r["result"] == "changed" for r in per_change)

    # a quota, a security rule and a flavor change: exactly those are planned, then applied
    estate.doc["departments"][0]["quotas"]["cores"] = 12
    estate.doc["operations"].append("2001:db8:ffff:2::/64")
    estate.doc["systems"][1]["servers"][0]["flavor"] = "m1.small"
    estate.write()
    saved = tmp_path / "plan.json"
    code = cli("cloud", "plan", "--out", str(saved), "--detailed-exitcode", estate=estate.path).code
    assert code == 3
    planned = json.loads(saved.read_text())
    got = sorted((c["action"], _key(c)) for c in planned["changes"])
    assert got == sorted([
        ("update", f"yinchuan/quota_compute/{d}"), ("update", f"zhongwei/quota_compute/{d}"),
        ("update", f"yinchuan/security_group/{d}-level3"), ("update", f"zhongwei/security_group/{d}-level3"),
        ("update", f"yinchuan/security_group/{e}-level2"), ("update", f"zhongwei/security_group/{e}-level2"),
        ("replace", f"zhongwei/server/{e}-exam-app-1")])
    replace = next(c for c in planned["changes"] if c["action"] == "replace")
    assert replace["reason"].startswith("flavor:")
    assert cli("cloud", "apply", str(saved), estate=estate.path).code == 0
    assert cli("cloud", "plan", "--detailed-exitcode", estate=estate.path).code == 0
    # the saved plan is now stale: refused
    stale = cli("cloud", "apply", str(saved), estate=estate.path)
    assert stale.code == 2 and "changed since" in stale.err

    # drift: a server made by hand in the department's project, and a quota changed by hand
    _hand_made(lab_clouds, d)
    drift = cli("-o", "json", "cloud", "drift", estate=estate.path)
    assert drift.code == 3, drift.err
    found = json.loads(drift.out)
    assert any(o["name"] == "by-hand" and o["kind"] == "network" and not o["marked"] for o in found["orphans"])
    assert any(c["kind"] == "quota_network" and "by hand" in c["detail"] for c in found["changed"])

    # remove a department with --prune
    estate.doc["departments"] = [x for x in estate.doc["departments"] if x["code"] != e]
    estate.doc["systems"] = [s for s in estate.doc["systems"] if s["department"] != e]
    estate.write()
    e_project = _admin(lab_clouds).identity.find_project(e, ignore_missing=False).id
    pruned = plan_json(cli, estate, "--prune")
    deleted = {_key(c) for c in pruned["changes"] if c["action"] == "delete"}
    assert f"yinchuan/project/{e}" in deleted and f"zhongwei/server/{e}-exam-app-1" in deleted
    assert all(c["actual"]["department"] == e for c in pruned["changes"] if c["action"] == "delete")
    assert cli("cloud", "apply", "--prune", "--yes", estate=estate.path).code == 0
    for node in ("yinchuan", "zhongwei"):
        network = _admin(lab_clouds, node=node).network
        # listed unfiltered: a listing filtered by project makes Neutron create the project's default group
        assert [g for g in network.security_groups() if g.project_id == e_project] == [], f"{node}: default group"
        assert [q for q in network.quotas() if q.project_id == e_project] == [], f"{node}: no quota override left"
    after = plan_json(cli, estate, "--prune")
    assert [c for c in after["changes"] if c["action"] != "update"] == []
    _remove_hand_made(lab_clouds, d)


def test_server_made_by_hand_is_drift_until_deleted(cli: Callable[..., Run], estate: LabEstate,
                                                    lab_clouds: Path) -> None:
    d = f"{estate.name}d"
    estate.doc["departments"] = [x for x in estate.doc["departments"] if x["code"] == d]
    estate.doc["systems"] = [s for s in estate.doc["systems"] if s["department"] == d]
    estate.doc["systems"][0]["placement"] = {"mode": "single", "node": "yinchuan"}
    estate.write()
    applied = cli("cloud", "apply", "--yes", estate=estate.path)
    assert applied.code == 0, applied.out + applied.err
    assert cli("cloud", "drift", estate=estate.path).code == 0

    conn = _admin(lab_clouds, project=d)
    server = conn.compute.create_server(
        name="by-hand-vm", flavor_id=conn.compute.find_flavor("m1.tiny", ignore_missing=False).id,
        image_id=conn.image.find_image("cirros-lab", ignore_missing=False).id,
        networks=[{"uuid": conn.network.find_network(f"{d}-app", ignore_missing=False).id}])
    try:
        conn.compute.wait_for_server(server, status="ACTIVE", wait=180)
        drift = cli("-o", "json", "cloud", "drift", estate=estate.path)
        assert drift.code == 3, drift.out + drift.err
        assert drift.json()["orphans"] == [{"kind": "server", "node": "yinchuan", "department": d, "name": "by-hand-vm",
                                            "marked": False, "detail": "not made by nxgov (by hand?)"}]
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=180)
    gone = cli("-o", "json", "cloud", "drift", estate=estate.path)
    assert gone.code == 0, gone.out + gone.err
    assert gone.json()["orphans"] == []


def _admin(clouds: Path, project: str | None = None, node: str = "yinchuan") -> Any:
    """The lab's admin connection to a node, scoped to ``project`` (domain Default) when given."""
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    scope: dict[str, Any] = {} if project is None else {"project_name": project, "project_id": None,
                                                        "project_domain_name": "Default"}
    return Connection(config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
        cloud=f"nxlab-{node}", region_name=node, **scope))


def _hand_made(clouds: Path, dept: str) -> None:
    """A network made by hand in the department's project, and its network quota changed by hand."""
    conn = _admin(clouds)
    project = conn.identity.find_project(dept, ignore_missing=False)
    conn.network.create_network(name="by-hand", project_id=project.id)
    conn.network.update_quota(project.id, networks=7)


def _remove_hand_made(clouds: Path, dept: str) -> None:
    conn = _admin(clouds)
    project = conn.identity.find_project(dept, ignore_missing=False)
    for net in conn.network.networks(name="by-hand", project_id=project.id):
        conn.network.delete_network(net)
