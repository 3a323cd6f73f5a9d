"""Each metric family from synthetic data: names, labels, base units, one series per enum state; the exposition
passes ``promtool check metrics``. The cloud reads go through a stand-in connection that answers canned JSON and
counts the calls (the real services are in test_monitor_lab.py)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nxgov.audit import AuditLog
from nxgov.estate import load_estate
from nxgov.estate.model import Estate
from nxgov.migrate.assessment import save_assessment
from nxgov.migrate.status import STATES, migration_status
from nxgov.monitor.auditlog import AuditSource
from nxgov.monitor.cloud import SERVER_STATUSES, VOLUME_STATUSES, CloudSnapshot
from nxgov.monitor.cloudread import GIB, MIB, NodeReading, QuotaUse, ResourceUse, read_node
from nxgov.monitor.extranet import ExtranetSource
from nxgov.monitor.migration import MigrationSnapshot
from nxgov.monitor.samples import Samples
from nxgov.monitor.source import MonitorConfig
from nxgov.network.archive import Archive
from nxgov.network.attention import note
from nxgov.network.verify import PlaneResult, Report, SiteResult, save
from nxgov.state import StateStore
from tests.migrate.lifecycle_helpers import walk
from tests.migrate.plan_helpers import assessment, estate_text, load
from tests.monitor.helpers import ROOT, exposition, parse, promtool

LAB = ROOT / "inventories" / "lab"


def scrape(*snapshots: Any) -> str:
    out = Samples()
    for snapshot in snapshots:
        snapshot.add_to(out)
    return exposition(out)


def test_cloud_metrics_are_in_base_units_with_every_status() -> None:
    reading = NodeReading(
        node="yinchuan",
        resources={"vcpus": ResourceUse(32, 6, 512), "memory": ResourceUse(64 * GIB, 8 * GIB, 96 * GIB),
                   "disk": ResourceUse(1000 * GIB, 40 * GIB, 900 * GIB)},
        servers=Counter({"ACTIVE": 3, "ERROR": 1, "SOMETHING_NEW": 1}), volumes=Counter({"in-use": 2}),
        volume_bytes=30 * GIB,
        quotas=(QuotaUse("nxdrc", "cores", 16, 15), QuotaUse("nxdrc", "memory", 32 * GIB, 8 * GIB),
                QuotaUse("nxdrc", "instances", -1, 3), QuotaUse("nxdrc", "volume", 0, 0)),
        networks_without_ipv6={"nxdrc": 1})
    text = scrape(CloudSnapshot(reading))
    found = parse(text)
    node = (("node", "yinchuan"),)
    assert found["nxgov_cloud_memory_capacity_bytes"][node] == 64 * GIB
    assert found["nxgov_cloud_vcpus_allocatable"][node] == 512
    servers = {dict(k)["status"]: v for k, v in found["nxgov_cloud_servers"].items()}
    assert set(servers) == {*SERVER_STATUSES, "SOMETHING_NEW"} and servers["ACTIVE"] == 3 and servers["BUILD"] == 0
    assert {dict(k)["status"] for k in found["nxgov_cloud_volumes"]} == set(VOLUME_STATUSES)
    assert found["nxgov_cloud_volume_size_bytes"][node] == 30 * GIB
    ratios = {dict(k)["resource"]: v for k, v in found["nxgov_cloud_quota_usage_ratio"].items()}
    assert ratios == {"cores": 15 / 16, "memory": 0.25}, "no ratio for an unlimited (-1) or zero quota"
    assert found["nxgov_cloud_quota_instances_limit"][(("department", "nxdrc"), *node)] == -1
    assert found["nxgov_cloud_networks_without_ipv6"][(("department", "nxdrc"), *node)] == 1
    assert not any("id" in dict(k) or "name" in dict(k) for samples in found.values() for k in samples)
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), checked


class _Response:
    def __init__(self, body: dict[str, Any]) -> None:
        self.status_code = 200
        self.headers: dict[str, str] = {}
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


class _Service:
    """Answers GET path → canned JSON (by path without query), and counts the calls."""

    def __init__(self, answers: dict[str, dict[str, Any]], calls: Counter[str]) -> None:
        self.answers = answers
        self.calls = calls

    def get(self, path: str, params: Any = None, microversion: Any = None) -> _Response:
        self.calls[path] += 1
        return _Response(self.answers[path])


class _Conn:
    def __init__(self, servers: int, projects: int) -> None:
        self.calls: Counter[str] = Counter()
        ids = [f"p{n}" for n in range(projects)]
        self.identity = _Service({"/projects": {"projects": [{"id": p, "name": f"d{p}"} for p in ids]
                                                + [{"id": "x", "name": "admin"}], "links": {}}}, self.calls)
        self.compute = _Service({"/servers/detail": {"servers": [
            {"status": "ACTIVE" if n % 4 else "SHUTOFF", "tenant_id": ids[n % projects]} for n in range(servers)]},
            **{"/limits": {"limits": {"absolute": {"maxTotalCores": 20, "totalCoresUsed": 5, "maxTotalRAMSize": 2048,
                                                   "totalRAMUsed": 1024, "maxTotalInstances": 10,
                                                   "totalInstancesUsed": 2}}}}}, self.calls)
        self.block_storage = _Service({"/volumes/detail": {"volumes": [{"status": "available", "size": 2}] * servers},
                                       **{f"/os-quota-sets/{p}": {"quota_set": {"gigabytes": {"limit": 100,
                                                                                              "in_use": 4}}}
                                          for p in ids}}, self.calls)
        self.network = _Service({"/networks": {"networks": [{"id": f"n{p}", "project_id": p} for p in ids]},
                                 "/subnets": {"subnets": [{"network_id": "np0", "ip_version": 6}]}}, self.calls)
        self.placement = _Service({
            "/resource_providers": {"resource_providers": [{"uuid": "h1"}, {"uuid": "h2"}]},
            **{f"/resource_providers/{h}/inventories": {"inventories": {
                "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 4.0},
                "MEMORY_MB": {"total": 4096, "reserved": 512, "allocation_ratio": 1.5}}} for h in ("h1", "h2")},
            **{f"/resource_providers/{h}/usages": {"usages": {"VCPU": 3, "MEMORY_MB": 1024}} for h in ("h1", "h2")}},
            self.calls)


def test_a_node_read_costs_calls_per_kind_and_project_not_per_server() -> None:
    departments = {"dp0", "dp1"}
    small, large = _Conn(servers=4, projects=2), _Conn(servers=400, projects=2)
    reading = read_node(large, "yinchuan", departments)
    read_node(small, "yinchuan", departments)
    assert sum(small.calls.values()) == sum(large.calls.values()) == 1 + 1 + 2 * 2 + 4 + 2 * 2
    assert reading.servers == Counter({"ACTIVE": 300, "SHUTOFF": 100})
    assert reading.volume_bytes == 400 * 2 * GIB
    assert reading.resources["vcpus"] == ResourceUse(16, 6, 64)
    assert reading.resources["memory"] == ResourceUse(8192 * MIB, 2048 * MIB, 2 * 3584 * 1.5 * MIB)
    assert reading.resources["disk"] == ResourceUse(0, 0, 0), "no DISK_GB inventory: nothing"
    assert {(q.department, q.resource): (q.limit, q.used) for q in reading.quotas}[("dp0", "volume")] == (
        100 * GIB, 4 * GIB)
    assert reading.networks_without_ipv6 == {"dp0": 0, "dp1": 1}
    more = _Conn(servers=4, projects=3)
    read_node(more, "yinchuan", {"dp0", "dp1", "dp2"})
    assert sum(more.calls.values()) == sum(small.calls.values()) + 2, "two calls per department project"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(tmp_path / "state.db") as opened:
        yield opened


def test_migration_per_department(tmp_path: Path, store: StateStore) -> None:
    text = estate_text({"d1": None, "d2": None}, [("d1-a", "d1"), ("d1-b", "d1"), ("d2-a", "d2")])
    estate = load(tmp_path, text.replace("    name: d1\n", "    name: d1\n    migration_deadline: 2026-12-20\n"))
    log = AuditLog(tmp_path / "audit.jsonl")
    for code in ("d1-a", "d1-b", "d2-a"):
        save_assessment(store, assessment(code))
    walk(store, log, "d1-a", "replicate", "replicated", "test", "tested", "cutover", "cut-over")
    status = migration_status(estate, store, datetime(2026, 12, 1, tzinfo=UTC))
    found = parse(scrape(MigrationSnapshot(status)))
    d1 = (("department", "d1"),)
    states = {dict(k)["state"]: v for k, v in found["nxgov_migration_systems"].items() if dict(k)["department"] == "d1"}
    assert list(states) == list(STATES) and states["cut-over"] == 1 and states["assessed"] == 1
    assert found["nxgov_migration_cloud_ratio"] == {d1: 0.5, (("department", "d2"),): 0.0}
    assert found["nxgov_migration_at_risk_systems"] == {d1: 1, (("department", "d2"),): 0}
    assert found["nxgov_migration_deadline_timestamp_seconds"][d1] == datetime(2026, 12, 20, 16, 0,
                                                                              tzinfo=UTC).timestamp() - 1e-6
    assert set(found["nxgov_migration_zombie_candidates"]) == {d1, (("department", "d2"),)}


def _config(tmp_path: Path, estate: Estate) -> MonitorConfig:
    return MonitorConfig(estate, LAB, tmp_path / "state.db", tmp_path / "audit.jsonl")


def test_extranet_from_the_state_store(tmp_path: Path, store: StateStore) -> None:
    estate = load_estate(LAB).estate
    assert estate.extranet is not None
    sites = {s.code: s for s in estate.extranet.sites}

    def site(code: str, state: Any, *planes: tuple[str, Any]) -> SiteResult:
        return SiteResult(code, sites[code].name, sites[code].level, "2001:db8::/48", state,
                          tuple(PlaneResult(p, s, "") for p, s in planes), None, ())

    save(store, Report("lab", "2026-11-27T10:00:00+00:00", (
        site("640000", "both-up", ("A", "up"), ("B", "up")),
        site("640104", "degraded", ("A", "down"), ("B", "up"))), ()))
    Archive(tmp_path / "archive", tmp_path / "state.db").add("vrp-640100-a", "sysname a\n")
    note(tmp_path / "state.db", "cmw-640100-b", "net push", None, "session lost")
    note(tmp_path / "state.db", "cmw-640100-b", "net push", None, "again")
    note(tmp_path / "state.db", "not-in-the-estate", "net push", None, "elsewhere")
    found = parse(scrape(ExtranetSource(_config(tmp_path, estate)).read()))
    assert found["nxgov_extranet_plane_up"] == {(("plane", "A"), ("site", "640000")): 1,
                                                (("plane", "B"), ("site", "640000")): 1,
                                                (("plane", "A"), ("site", "640104")): 0,
                                                (("plane", "B"), ("site", "640104")): 1}
    assert {dict(k)["state"]: v for k, v in found["nxgov_extranet_sites"].items()} == {
        "both-up": 1, "degraded": 1, "down": 0, "unknown": 0, "unverified": 3}
    assert found["nxgov_extranet_verify_timestamp_seconds"][(("site", "640104"),)] == datetime(
        2026, 11, 27, 10, tzinfo=UTC).timestamp()
    assert list(found["nxgov_extranet_config_archived_timestamp_seconds"]) == [(("device", "vrp-640100-a"),)]
    assert found["nxgov_extranet_devices_needing_attention"] == {(): 1}, "one estate device, counted once"


def test_audit_chain_records_and_last_time(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", operator="tester")
    source = AuditSource(log.path)
    empty = parse(scrape(source.read()))
    assert empty["nxgov_audit_chain_intact"] == {(): 1} and empty["nxgov_audit_records_total"] == {(): 0}
    assert "nxgov_audit_last_record_timestamp_seconds" not in empty
    records = [log.append("test", f"t{n}", "ok") for n in range(5)]
    found = parse(scrape(source.read()))
    assert found["nxgov_audit_records_total"] == {(): 5}
    assert found["nxgov_audit_last_record_timestamp_seconds"] == {(): records[-1].timestamp.timestamp()}
    log.append("test", "t5", "ok")
    assert parse(scrape(source.read()))["nxgov_audit_records_total"] == {(): 6}, "the records since are counted"
    lines = log.path.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[2])
    edited["operator"] = "someone else"
    lines[2] = json.dumps(edited, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    broken = parse(scrape(source.read()))
    assert broken["nxgov_audit_chain_intact"] == {(): 0}, "an edit inside the part already verified is found"
    assert broken["nxgov_audit_records_total"] == {(): 2}
