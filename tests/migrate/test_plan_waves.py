"""Wave planning (``nxgov.migrate.plan.make_plan``) from synthetic assessments: no lab, no SSH."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.migrate.plan import MigrationPlan, make_plan
from nxgov.migrate.windows import SHANGHAI
from tests.migrate.plan_helpers import GIB, MONDAY, NIGHTLY, WEEKEND, assessment, estate_text, load

WEDNESDAY_NOON = "[{days: [wed], start: '12:00', end: '14:00'}]"


def _waves(plan: MigrationPlan) -> list[list[str]]:
    return [[s.code for s in wave.systems] for wave in plan.waves]


def _at(day: int, hour: int) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour)


def test_dependencies_migrate_first_or_in_the_same_wave(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND, "d2": WEEKEND},
                                        [("d1-app", "d1"), ("d1-gis", "d1"), ("d2-db", "d2")]))
    found = {"d1-app": assessment("d1-app", ["d2-db"]), "d1-gis": assessment("d1-gis", ["d1-app"])}

    one_by_one = make_plan(estate, found, start=MONDAY, created="t", max_per_wave=1)
    assert _waves(one_by_one) == [["d2-db"], ["d1-app"], ["d1-gis"]]
    together = make_plan(estate, found, start=MONDAY, created="t", max_per_wave=3)
    assert _waves(together) == [["d1-app", "d1-gis", "d2-db"]]
    assert together.waves[0].systems[0].depends_on == ["d2-db"]


def test_a_cycle_migrates_in_one_wave_and_is_named(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND, "d2": WEEKEND},
                                        [("d1-a", "d1"), ("d1-b", "d1"), ("d2-c", "d2"), ("d1-d", "d1")]))
    found = {"d1-a": assessment("d1-a", ["d2-c"]), "d2-c": assessment("d2-c", ["d1-b"]),
             "d1-b": assessment("d1-b", ["d1-a"])}

    plan = make_plan(estate, found, start=MONDAY, created="t", max_per_wave=3)

    assert _waves(plan) == [["d1-a", "d1-b", "d2-c"], ["d1-d"]]
    assert plan.notes == ["dependency cycle d1-a, d1-b, d2-c: migrated together in one wave"]
    assert "in a dependency cycle with d1-b, d2-c: same wave" in plan.waves[0].systems[0].warnings
    with pytest.raises(InputError, match="cycle of 3, more than --max-per-wave 2") as refused:
        make_plan(estate, found, start=MONDAY, created="t", max_per_wave=2)
    assert refused.value.hint == "raise --max-per-wave to 3 or more"


def test_a_cycle_across_departments_that_never_share_a_window_is_not_planned(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND, "d2": WEDNESDAY_NOON},
                                        [("d1-a", "d1"), ("d2-b", "d2"), ("d2-c", "d2")]))
    found = {"d1-a": assessment("d1-a", ["d2-b"]), "d2-b": assessment("d2-b", ["d1-a"]),
             "d2-c": assessment("d2-c", ["d2-b"])}

    plan = make_plan(estate, found, start=MONDAY, created="t")

    assert _waves(plan) == [["d2-c"]]
    assert plan.waves[0].systems[0].warnings == ["depends on d2-b, which is not planned"]
    assert [(n.code, n.reason) for n in plan.not_planned] == [
        (code, "a dependency cycle across departments d1, d2, whose maintenance windows never overlap")
        for code in ("d1-a", "d2-b")]
    assert plan.notes == []


def test_a_departments_systems_stay_together(tmp_path: Path) -> None:
    systems = [(f"{d}-s{n}", d) for n in range(3) for d in ("d1", "d2")]
    estate = load(tmp_path, estate_text({"d1": WEEKEND, "d2": WEEKEND}, systems))

    assert _waves(make_plan(estate, {}, start=MONDAY, created="t", max_per_wave=4)) == [
        ["d1-s0", "d1-s1", "d1-s2"], ["d2-s0", "d2-s1", "d2-s2"]]
    assert _waves(make_plan(estate, {}, start=MONDAY, created="t", max_per_wave=6)) == [
        ["d1-s0", "d2-s0", "d1-s1", "d2-s1", "d1-s2", "d2-s2"]]


def test_at_most_max_per_wave(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND}, [(f"d1-s{n}", "d1") for n in range(5)]))

    plan = make_plan(estate, {}, start=MONDAY, created="t", max_per_wave=2)

    assert [len(w.systems) for w in plan.waves] == [2, 2, 1]


def test_waves_open_in_their_departments_windows_one_after_another(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND, "d2": WEDNESDAY_NOON, "d3": None},
                                        [("d1-a", "d1"), ("d1-b", "d1"), ("d2-a", "d2"), ("d3-a", "d3")],
                                        no_source=[("d1-web", "d1")]))

    plan = make_plan(estate, {}, start=MONDAY, created="t", max_per_wave=1)

    assert [(w.start, w.end, [s.code for s in w.systems]) for w in plan.waves] == [
        (_at(2, 12), _at(2, 14), ["d2-a"]),       # Wednesday noon opens first
        (_at(5, 22), _at(6, 6), ["d1-a"]),        # Saturday night
        (_at(6, 22), _at(7, 6), ["d1-b"]),        # Sunday night, after the previous wave
    ]
    assert plan.waves[0].start.utcoffset() == timedelta(hours=8)
    assert [(n.code, n.reason) for n in plan.not_planned] == [
        ("d3-a", "department d3 declares no maintenance windows"), ("d1-web", "no source: nothing to migrate")]


def test_a_start_inside_a_window_waits_for_the_next_opening(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": NIGHTLY}, [("d1-a", "d1")]))

    plan = make_plan(estate, {}, start=_at(0, 2), created="t")

    assert (plan.waves[0].start, plan.waves[0].end) == (_at(1, 1), _at(1, 5))
    assert plan.waves[0].start.tzinfo == SHANGHAI


def test_server_warnings_name_both_numbers(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND}, [("d1-big", "d1"), ("d1-odd", "d1"), ("d1-new", "d1"),
                                                          ("d1-ok", "d1")]))
    odd = estate.systems[1].model_copy(update={"servers": [estate.systems[1].servers[0].model_copy(
        update={"flavor": "c9.huge", "volumes_gb": []})]})
    estate = estate.model_copy(update={"systems": [estate.systems[0], odd, *estate.systems[2:]]})
    found = {"d1-big": assessment("d1-big", cpus=8, memory_gib=16, data_bytes=15 * GIB),
             "d1-odd": assessment("d1-odd", data_bytes=3 * GIB),
             "d1-ok": assessment("d1-ok", cpus=2, memory_gib=4, data_bytes=10 * GIB)}

    plan = make_plan(estate, found, start=MONDAY, created="t")

    warnings = {s.code: s.warnings for s in plan.waves[0].systems}
    assert warnings["d1-big"] == [
        "servers have 2 vCPUs in all (app 2xm1.small), fewer than the source's 8 CPUs",
        "servers have 4.0 GiB of memory in all (app 2xm1.small), less than the source's 16.0 GiB",
        "15.0 GiB of data under its paths, more than its largest data volume, 10 GiB (server app)"]
    assert warnings["d1-odd"] == [
        "flavor c9.huge: size not declared under the estate's flavors, so the servers are not compared with the "
        "source's CPUs and memory",
        "3.0 GiB of data under its paths and no data volume: it would land on the servers' root disks"]
    assert warnings["d1-new"] == ["not assessed: servers not checked against the source, dependencies unknown "
                                  "(run nxgov migrate assess)"]
    assert warnings["d1-ok"] == []


def test_dependencies_outside_the_plan_are_warned_about(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND}, [("d1-a", "d1")], no_source=[("d1-web", "d1")]))

    plan = make_plan(estate, {"d1-a": assessment("d1-a", ["d1-web", "gone-sys"])}, start=MONDAY, created="t")

    assert plan.waves[0].systems[0].warnings == [
        "depends on d1-web, which is not planned (no source: nothing to migrate)",
        "depends on gone-sys, which is not in the estate"]


def test_the_same_inputs_give_the_same_plan(tmp_path: Path) -> None:
    systems = [(f"d{d}-s{n}", f"d{d}") for d in range(1, 5) for n in range(4)]
    estate = load(tmp_path, estate_text({f"d{d}": (WEEKEND, NIGHTLY)[d % 2] for d in range(1, 5)}, systems))
    rng = random.Random(7)
    order = rng.sample([c for c, _ in systems], len(systems))
    found = {code: assessment(code, rng.sample(order[:i], min(i, 2))) for i, code in enumerate(order)}
    found["d1-s0"] = assessment("d1-s0", [*found["d1-s0"].depends_on, "d3-s3"])
    found["d3-s3"] = assessment("d3-s3", [*found["d3-s3"].depends_on, "d1-s0"])
    shuffled = dict(rng.sample(list(found.items()), len(found)))

    first = make_plan(estate, found, start=MONDAY, created="t", max_per_wave=5).to_document()
    again = make_plan(estate, shuffled, start=MONDAY, created="t", max_per_wave=5).to_document()

    assert first == again
    placed = {s["code"]: w["wave"] for w in first["waves"] for s in w["systems"]}
    assert sorted(placed) == sorted(c for c, _ in systems)
    assert first["notes"] == ["dependency cycle d1-s0, d2-s1, d3-s0, d3-s3: migrated together in one wave"]
    assert all(placed[dep] <= placed[code] for code, a in found.items() for dep in a.depends_on)
