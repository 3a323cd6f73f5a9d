"""The estate fields migration planning reads (departments' maintenance windows, migration deadline and hooks; the
flavor table), validated like the rest: every mistake located by `estate validate`, exit 2."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nxgov.estate import load_estate
from nxgov.estate.generate import generate, write
from nxgov.migrate.plan import make_plan
from tests.estate.mistakes import Case, assert_located
from tests.migrate.plan_helpers import MONDAY, WEEKEND, estate_text

BASE = estate_text({"d1": WEEKEND}, [("d1-a", "d1")]).replace(
    "    networks: [{name: app}]\n",
    "    migration_deadline: 2027-06-30\n    hooks: {cutover: {pre: [drain-lb.yml], post: [hooks/notify.yaml]}}\n"
    "    networks: [{name: app}]\n", 1)


def _window(name: str, old: str, new: str, field: str, message: str, hint: str = "") -> Case:
    """A mistake in the first department's first maintenance window (``field``: the path below it)."""
    return Case(name, old, new, f"departments[0].maintenance[0]{field}", message, hint)


CASES = [
    _window("day-name", "days: [sat, sun]", "days: [sat, sunday]", ".days[1]",
            "'sunday' is not one of: mon, tue, wed, thu, fri, sat, sun", "did you mean 'sun'?"),
    _window("no-days", "days: [sat, sun]", "days: []", ".days", "at least 1 item"),
    _window("day-twice", "days: [sat, sun]", "days: [sat, sat]", "", "a day is listed twice"),
    _window("time-of-day", "start: '22:00'", "start: '25:00'", ".start", "'25:00' is not a time of day", "HH:MM"),
    _window("unquoted-time", "start: '22:00'", "start: 22:00", ".start",
            "22:00 must be quoted: unquoted, YAML reads it as the number 1320", "write '22:00'"),
    _window("no-length", "end: '06:00'", "end: '22:00'", "", "the window opens and closes at 22:00",
            "give it a length"),
    Case("no-windows", f"maintenance: {WEEKEND}", "maintenance: []", "departments[0].maintenance", "at least 1 item"),
    Case("deadline", "migration_deadline: 2027-06-30", "migration_deadline: '2027-13-01'",
         "departments[0].migration_deadline", "'2027-13-01' is not a date", "YYYY-MM-DD"),
    Case("deadline-with-time", "migration_deadline: 2027-06-30", "migration_deadline: 2027-06-30 18:00:00",
         "departments[0].migration_deadline", "2027-06-30T18:00:00 is a time, not a date", "write the day only"),
    Case("hook-name", "pre: [drain-lb.yml]", "pre: [../drain-lb.yml]", "departments[0].hooks.cutover.pre[0]",
         "'../drain-lb.yml' is not a playbook name", "without '..'"),
    Case("hook-phase", "hooks: {cutover:", "hooks: {cutovr:", "departments[0].hooks.cutovr",
         "unknown key 'cutovr'", "did you mean 'cutover'?"),
    Case("unknown-flavor", "flavor: m1.small", "flavor: m1.smal", "systems[0].servers[0].flavor",
         "unknown flavor 'm1.smal'", "did you mean 'm1.small'?"),
    Case("flavor-size", "m1.large: {vcpus: 4, ram_mb: 8192}", "m1.large: {vcpus: 0, ram_mb: 8192}",
         "flavors.m1.large.vcpus", "greater than or equal to 1", "virtual CPUs"),
]


def test_base_is_valid_and_reads_the_fields(tmp_path: Path) -> None:
    (tmp_path / "estate.yaml").write_text(BASE, encoding="utf-8")
    estate = load_estate(tmp_path / "estate.yaml").estate
    dept = estate.departments[0]
    assert dept.migration_deadline == date(2027, 6, 30)
    assert dept.maintenance is not None and dept.maintenance[0].days == ["sat", "sun"]
    assert dept.hooks is not None and dept.hooks.cutover is not None
    assert dept.hooks.cutover.post == ["hooks/notify.yaml"]
    assert estate.flavors["m1.large"].ram_mb == 8192


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_mistake_is_located(case: Case, tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    assert_located(BASE, case, tmp_path, nxgov)


def test_generated_estates_declare_windows_and_plan_every_system(tmp_path: Path) -> None:
    write(generate("medium"), tmp_path)
    estate = load_estate(tmp_path).estate
    assert all(d.maintenance and d.migration_deadline for d in estate.departments)

    plan = make_plan(estate, {}, start=MONDAY, created="t")

    assert sum(len(w.systems) for w in plan.waves) == len(estate.systems) and not plan.not_planned
    assert all(len(w.systems) <= 10 for w in plan.waves)
    waves_of = {d.code: {w.wave for w in plan.waves for s in w.systems if s.department == d.code}
                for d in estate.departments}
    assert all(len(waves) == 1 for waves in waves_of.values()), waves_of
