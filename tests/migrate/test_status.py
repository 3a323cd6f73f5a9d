"""``migration_status`` and ``nxgov migrate status``: states, 上云率 at several stages, deadline risk, zombie rule,
waves from a plan file, and the JSON document through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nxgov.audit import AuditLog
from nxgov.errors import InputError
from nxgov.estate.model import Estate
from nxgov.migrate.assessment import Assessment, ZombieEvidence, save_assessment
from nxgov.migrate.plan import make_plan
from nxgov.migrate.planfile import read_plan, render_yaml
from nxgov.migrate.status import STATES, migration_status
from nxgov.state import StateStore
from tests.migrate.lifecycle_helpers import walk
from tests.migrate.plan_helpers import MONDAY, NIGHTLY, assessment, estate_text, load

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
"""2026-12-01 12:00 in Asia/Shanghai."""
SYSTEMS = [("d1-a", "d1"), ("d1-b", "d1"), ("d1-c", "d1"), ("d2-a", "d2"), ("d2-b", "d2"), ("d3-a", "d3")]
DEADLINES = {"d1": "2026-12-31", "d2": "2027-01-01", "d3": None}
"""d1: 30 days from NOW (at risk), d2: 31 days (not yet), d3: none."""
IN_USE = ZombieEvidence(last_login="2026-11-19T08:00:00+00:00", newest_change="2026-11-19T09:00:00+00:00",
                        connections_seen=3, access_log_requests=120)


def _estate_text() -> str:
    text = estate_text(dict.fromkeys(DEADLINES, NIGHTLY), SYSTEMS, no_source=[("d1-web", "d1")])
    for code, deadline in DEADLINES.items():
        if deadline:
            text = text.replace(f"    name: {code}\n", f"    name: {code}\n    migration_deadline: {deadline}\n")
    return text


def used(code: str, **evidence: object) -> Assessment:
    """An assessment of a system in use, with ``evidence`` changed."""
    return assessment(code).model_copy(update={"zombie": IN_USE.model_copy(update=evidence)})


@pytest.fixture
def estate(tmp_path: Path) -> Estate:
    return load(tmp_path, _estate_text())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(tmp_path / "state.db") as opened:
        yield opened


def test_nothing_assessed_yet(estate: Estate, store: StateStore) -> None:
    status = migration_status(estate, store, NOW)
    assert status.total.systems == 6 and status.total.by_state["not-assessed"] == 6
    assert list(status.total.by_state) == list(STATES)
    assert (status.total.on_cloud, status.total.to_migrate, status.total.ratio) == (0, 6, 0.0)
    assert [(d.department, d.tally.systems) for d in status.departments] == [("d1", 3), ("d2", 2), ("d3", 1)]
    assert "d1-web" not in {s.system for s in status.systems}, "a system without source is not migrated"
    assert status.zombies == () and status.waves == ()


def test_numbers_at_several_stages(estate: Estate, store: StateStore, log: AuditLog) -> None:
    for code, _ in SYSTEMS:
        save_assessment(store, used(code))
    first = migration_status(estate, store, NOW)
    assert first.total.by_state["assessed"] == 6 and first.total.ratio == 0.0

    walk(store, log, "d1-a", "replicate", "replicated", "test", "tested", "cutover", "cut-over")
    walk(store, log, "d1-b", "replicate")
    walk(store, log, "d2-a", "replicate", "replicated", "test", "tested", "cutover", "cut-over", "finalize")
    second = migration_status(estate, store, NOW)
    assert {s.system: s.state for s in second.systems} == {
        "d1-a": "cut-over", "d1-b": "replicating", "d1-c": "assessed", "d2-a": "finalized", "d2-b": "assessed",
        "d3-a": "assessed"}
    assert (second.total.on_cloud, second.total.to_migrate) == (2, 6) and second.total.ratio == pytest.approx(1 / 3)
    d1, d2, d3 = second.departments
    assert (d1.tally.on_cloud, d1.tally.to_migrate, d1.tally.by_state["replicating"]) == (1, 3, 1)
    assert (d2.tally.ratio, d3.tally.ratio) == (0.5, 0.0)

    walk(store, log, "d1-b", "rollback")
    walk(store, log, "d2-b", "retire")
    walk(store, log, "d3-a", "replicate", "replicated", "test", "tested", "cutover", "cut-over")
    third = migration_status(estate, store, NOW)
    assert third.total.by_state["rolled-back"] == 1 and third.total.by_state["retired"] == 1
    assert (third.total.on_cloud, third.total.to_migrate) == (3, 5), "a retired zombie is not to migrate"
    assert [d.tally.ratio for d in third.departments] == [pytest.approx(1 / 3), 1.0, 1.0]
    changed = {s.system: s.changed for s in third.systems}
    assert changed["d1-c"] == "2026-11-20T00:00:00+00:00", "an assessed system's time is its assessment's"


def test_deadline_risk(estate: Estate, store: StateStore, log: AuditLog) -> None:
    for code, _ in SYSTEMS:
        save_assessment(store, used(code))
    walk(store, log, "d1-a", "replicate", "replicated", "test", "tested", "cutover", "cut-over")
    status = migration_status(estate, store, NOW)
    assert [(r.system, r.state, r.deadline.isoformat(), r.days_left) for r in status.at_risk] == [
        ("d1-b", "assessed", "2026-12-31", 30), ("d1-c", "assessed", "2026-12-31", 30)]
    later = migration_status(estate, store, datetime(2027, 1, 3, tzinfo=UTC))
    assert [(r.system, r.days_left) for r in later.at_risk] == [
        ("d1-b", -3), ("d1-c", -3), ("d2-a", -2), ("d2-b", -2)], "past deadlines; d3 has none"


def test_zombie_rule(estate: Estate, store: StateStore, log: AuditLog) -> None:
    save_assessment(store, used("d1-a", last_login="2026-08-01T00:00:00+00:00",
                                newest_change="2026-07-01T00:00:00+00:00", connections_seen=0, access_log_requests=0))
    save_assessment(store, used("d1-b", last_login=None, newest_change=None, connections_seen=0,
                                access_log_requests=None))
    save_assessment(store, used("d1-c", last_login="2026-08-01T00:00:00+00:00", newest_change=None,
                                connections_seen=0, access_log_requests=5))
    save_assessment(store, used("d2-a", last_login=None, newest_change="2026-11-01T00:00:00+00:00",
                                connections_seen=0, access_log_requests=0))
    save_assessment(store, used("d2-b", last_login=None, newest_change=None, connections_seen=1,
                                access_log_requests=0))
    save_assessment(store, used("d3-a", last_login=None, newest_change=None, connections_seen=0,
                                access_log_requests=0))
    walk(store, log, "d3-a", "retire")
    status = migration_status(estate, store, NOW)
    assert [(z.system, z.why) for z in status.zombies] == [
        ("d1-a", ("no login since 2026-08-01T00:00:00+00:00",
                  "no change under its data paths since 2026-07-01T00:00:00+00:00", "no established connection",
                  "no request in its access log")),
        ("d1-b", ("no login recorded", "no change under its data paths recorded", "no established connection",
                  "no access log found")),
    ], "d1-c has requests, d2-a a recent change, d2-b a connection, d3-a is retired already"
    zombie = status.zombies[0]
    assert (zombie.assessed_at, zombie.connections_seen, zombie.access_log_requests) == (
        "2026-11-20T00:00:00+00:00", 0, 0)


def test_waves_from_a_plan_and_one_department(tmp_path: Path, estate: Estate, store: StateStore,
                                              log: AuditLog) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(render_yaml(make_plan(estate, {}, start=MONDAY, created="2026-11-27T00:00:00+00:00",
                                          max_per_wave=3)), encoding="utf-8")
    plan = read_plan(path, estate)
    save_assessment(store, used("d1-a"))
    walk(store, log, "d1-a", "replicate", "replicated", "test", "tested", "cutover", "cut-over")
    status = migration_status(estate, store, NOW, plan=plan)
    waves = {s.system: s.wave for s in status.systems}
    assert [(w.wave, w.tally.systems) for w in status.waves] == [(1, 3), (2, 3)]
    assert waves["d1-a"] == 1 and status.waves[0].tally.on_cloud == 1 and status.waves[1].tally.ratio == 0.0
    only = migration_status(estate, store, NOW, plan=plan, department="d2")
    assert [d.department for d in only.departments] == ["d2"] and only.total.systems == 2
    assert [(w.wave, w.tally.systems) for w in only.waves] == [(2, 2)], "waves without its systems left out"
    with pytest.raises(InputError, match="--department 'd11' is not a department of estate test") as unknown:
        migration_status(estate, store, NOW, department="d11")
    assert unknown.value.hint == "did you mean 'd1'?"
    with pytest.raises(InputError) as far:
        migration_status(estate, store, NOW, department="zzz")
    assert far.value.hint == "give one of: d1, d2, d3"


def test_status_json_through_the_cli(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    estate_path = tmp_path / "estate.yaml"
    estate_path.write_text(_estate_text(), encoding="utf-8")
    with StateStore.open(tmp_path / "state.db") as store:
        save_assessment(store, assessment("d1-a"))
        save_assessment(store, used("d1-b"))
        walk(store, AuditLog(tmp_path / "audit.jsonl"), "d1-b", "replicate")
    plan = nxgov("-e", str(estate_path), "migrate", "plan", "--start", "2026-11-30", "--out", str(tmp_path / "p.yaml"))
    assert plan.code == 0, plan.err
    result = nxgov("-e", str(estate_path), "-o", "json", "migrate", "status", "--plan", str(tmp_path / "p.yaml"))
    assert result.code == 0, result.err
    document = result.json()
    assert document["schema"] == "nxgov.migrate.status/1" and document["estate"] == "test"
    assert set(document) == {"schema", "estate", "time", "department", "plan", "at_risk_days", "zombie_idle_days",
                             "total", "departments", "waves", "systems", "at_risk", "zombies"}
    assert document["plan"] == str(tmp_path / "p.yaml") and document["department"] is None
    assert document["total"]["by_state"]["replicating"] == 1 and document["total"]["to_migrate"] == 6
    assert document["departments"][0] == {
        "department": "d1", "deadline": "2026-12-31", "systems": 3, "on_cloud": 0, "to_migrate": 3, "ratio": 0.0,
        "by_state": {state: {"assessed": 1, "replicating": 1, "not-assessed": 1}.get(state, 0) for state in STATES}}
    assert set(document["waves"][0]) == {"wave", "window", "systems", "by_state", "on_cloud", "to_migrate", "ratio"}
    assert [z["system"] for z in document["zombies"]] == ["d1-a"]
    assert document["zombies"][0]["why"][-1] == "no access log found"
    assert {"system": "d1-b", "department": "d1", "wave": 1, "state": "replicating"}.items() <= \
        next(s for s in document["systems"] if s["system"] == "d1-b").items()

    table = nxgov("-e", str(estate_path), "migrate", "status", "--department", "d1")
    assert table.code == 0, table.err
    assert "上云率 0/3 (0%)" in table.out and "zombie candidates" in table.out and "d1-a" in table.out
    unknown = nxgov("-e", str(estate_path), "-o", "json", "migrate", "status", "--department", "d9")
    assert unknown.code == 2 and "not a department of estate test" in unknown.err
