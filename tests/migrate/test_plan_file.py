"""``nxgov migrate plan`` through the real CLI: the plan from stored assessments, the editable YAML plan file,
its round trip, and every kind of bad edit reported located (file:line) with exit 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from nxgov.migrate.assessment import save_assessment
from nxgov.migrate.plan import make_plan
from nxgov.migrate.planfile import PlanFileError, read_plan, render_yaml
from nxgov.state import StateStore
from tests.migrate.plan_helpers import GIB, MONDAY, WEEKEND, assessment, estate_text, load

WEDNESDAY_NOON = "[{days: [wed], start: '12:00', end: '14:00'}]"
SYSTEMS = [("d1-a", "d1"), ("d1-b", "d1"), ("d1-c", "d1"), ("d2-a", "d2")]


@pytest.fixture
def made(tmp_path: Path, nxgov):  # type: ignore[no-untyped-def]
    """An estate, assessments in the CLI's state store, and the plan file `migrate plan --out` wrote."""
    (tmp_path / "estate.yaml").write_text(estate_text({"d1": WEEKEND, "d2": WEDNESDAY_NOON}, SYSTEMS,
                                                      no_source=[("d1-web", "d1")]), encoding="utf-8")
    with StateStore.open(tmp_path / "state.db") as store:
        save_assessment(store, assessment("d1-a", cpus=8, memory_gib=16, data_bytes=25 * GIB))
        save_assessment(store, assessment("d1-b", ["d1-a"]))
    result = nxgov("-e", str(tmp_path / "estate.yaml"), "-o", "json", "migrate", "plan", "--start", "2026-11-30",
                   "--max-per-wave", "2", "--out", str(tmp_path / "plan.yaml"))
    assert result.code == 0, result.err
    return result.json()


def test_plan_from_stored_assessments(made) -> None:  # type: ignore[no-untyped-def]
    assert made["schema"] == "nxgov.migrate.plan/1" and made["estate"] == "test"
    assert made["start"] == "2026-11-30T00:00:00+08:00" and made["max_per_wave"] == 2
    assert [(w["wave"], w["window"], [s["code"] for s in w["systems"]]) for w in made["waves"]] == [
        (1, {"start": "2026-12-02T12:00:00+08:00", "end": "2026-12-02T14:00:00+08:00"}, ["d2-a"]),
        (2, {"start": "2026-12-05T22:00:00+08:00", "end": "2026-12-06T06:00:00+08:00"}, ["d1-a", "d1-b"]),
        (3, {"start": "2026-12-06T22:00:00+08:00", "end": "2026-12-07T06:00:00+08:00"}, ["d1-c"]),
    ]
    first = made["waves"][1]["systems"][0]
    assert first["targets"] == ["yinchuan", "zhongwei"]
    assert first["warnings"] == [
        "servers have 2 vCPUs in all (app 2xm1.small), fewer than the source's 8 CPUs",
        "servers have 4.0 GiB of memory in all (app 2xm1.small), less than the source's 16.0 GiB",
        "25.0 GiB of data under its paths, more than its largest data volume, 10 GiB (server app)"]
    assert made["waves"][1]["systems"][1]["depends_on"] == ["d1-a"]
    assert made["not_planned"] == [{"code": "d1-web", "department": "d1", "reason": "no source: nothing to migrate"}]


def test_table_output_and_check(tmp_path: Path, made, nxgov) -> None:  # type: ignore[no-untyped-def]
    table = nxgov("-e", str(tmp_path / "estate.yaml"), "migrate", "plan", "--start", "2026-11-30")
    assert table.code == 0, table.err
    assert "Sat 2026-12-05 22:00" in table.out and "not planned" in table.out
    assert "fewer than the source's 8" in table.out
    checked = nxgov("-e", str(tmp_path / "estate.yaml"), "migrate", "plan", "--check", str(tmp_path / "plan.yaml"))
    assert checked.code == 0, checked.err
    assert "is a valid migration plan for estate test" in checked.out
    again = nxgov("-e", str(tmp_path / "estate.yaml"), "-o", "json", "migrate", "plan", "--check",
                  str(tmp_path / "plan.yaml"))
    assert again.code == 0 and again.json() == made


def test_round_trip_in_the_sdk(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND, "d2": WEDNESDAY_NOON}, SYSTEMS))
    plan = make_plan(estate, {"d1-b": assessment("d1-b", ["d1-a"])}, start=MONDAY, created="2026-11-27T00:00:00+00:00",
                     max_per_wave=2)
    (tmp_path / "plan.yaml").write_text(render_yaml(plan), encoding="utf-8")

    back = read_plan(tmp_path / "plan.yaml", estate)

    assert back.to_document() == plan.to_document()
    assert back.waves[1].start == plan.waves[1].start


@dataclass(frozen=True)
class Damage:
    name: str
    old: str
    new: str
    message: str
    line_of: str
    """The damaged file's line the message names: the line holding this text (after the edit)."""
    hint: str = ""
    last: bool = False
    """Edit (and locate) the last occurrence of ``old`` instead of the first."""
    also: tuple[str, str] | None = None
    """A second edit, of its first occurrence, after the first one."""


DAMAGES = [
    Damage("unknown-system", "code: d1-c", "code: d1-x", "unknown system 'd1-x'", "code: d1-x",
           "did you mean 'd1-c'?"),
    Damage("system-twice", "code: d1-c", "code: d1-a", "system d1-a is already in wave 2 (", "code: d1-a",
           "keep it in one wave", last=True),
    Damage("no-source", "code: d1-c", "code: d1-web", "system d1-web has no source", "code: d1-web", "remove it"),
    Damage("wave-over-max", "max_per_wave: 2", "max_per_wave: 1", "wave 2 has 2 systems, more than max_per_wave 1",
           "  systems:\n  - code: d1-a", "move some"),
    Damage("dependency-later", "code: d1-c", "code: d1-a", "d1-b depends on d1-a, which migrates later, in wave 3",
           "depends_on: [d1-a]", "move d1-a to wave 2 or earlier", last=True, also=("code: d1-a", "code: d1-c")),
    Damage("window-outside", "start: '2026-12-05T22:00:00+08:00'", "start: '2026-12-05T21:00:00+08:00'",
           "wave 2's window Sat 2026-12-05 21:00 - Sun 2026-12-06 06:00 is outside the maintenance windows of "
           "department d1 (sat,sun 22:00-06:00, Asia/Shanghai)", "21:00:00", "inside one of them"),
    Damage("window-without-offset", "start: '2026-12-05T22:00:00+08:00'", "start: '2026-12-05T22:00:00'",
           "timezone", "start: '2026-12-05T22:00:00'"),
    Damage("targets-edited", "targets: [yinchuan, zhongwei]", "targets: [zhongwei]",
           "targets [zhongwei] are not the placement of d2-a: [yinchuan, zhongwei]", "targets: [zhongwei]",
           "change the system's placement there"),
    Damage("department-edited", "department: d2", "department: d1", "system d2-a belongs to department d2, not d1",
           "department: d1\n    targets", "department: d2"),
    Damage("other-estate", "estate: test", "estate: other", "the plan is for estate 'other', not 'test'",
           "estate: other"),
    Damage("other-schema", "schema: nxgov.migrate.plan/1", "schema: nxgov.cloud.plan/1", "not a migration plan",
           "schema:", "migrate plan --out"),
    Damage("unknown-key", "depends_on: [d1-a]", "depend_on: [d1-a]", "unknown key 'depend_on'", "depend_on:",
           "did you mean 'depends_on'?"),
    Damage("wrong-type", "max_per_wave: 2", "max_per_wave: two", "expected a whole number", "max_per_wave: two"),
    Damage("yaml-tag", "estate: test", "estate: !foo test", "YAML tag '!foo' is not allowed", "estate: !foo"),
]


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.name for d in DAMAGES])
def test_a_bad_edit_is_located(damage: Damage, tmp_path: Path, made, nxgov) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.yaml"
    text = plan.read_text(encoding="utf-8")
    assert damage.old in text, damage.name
    at = text.rindex(damage.old) if damage.last else text.index(damage.old)
    text = text[:at] + damage.new + text[at + len(damage.old):]
    if damage.also:
        text = text.replace(*damage.also, 1)
    plan.write_text(text, encoding="utf-8")
    anchor = text.rindex(damage.line_of) if damage.last and not damage.also else text.index(damage.line_of)
    line = text.count("\n", 0, anchor) + 1

    result = nxgov("-e", str(tmp_path / "estate.yaml"), "migrate", "plan", "--check", str(plan))

    assert result.code == 2, result.err
    assert "Traceback" not in result.err + result.out
    located = [ln for ln in result.err.splitlines() if damage.message in ln]
    assert located, result.err
    assert f"plan.yaml:{line}:" in located[0], (line, result.err)
    if damage.name == "system-twice":
        assert f"plan.yaml:{text[:text.index(damage.line_of)].count(chr(10)) + 1})" in located[0]
    if damage.hint:
        assert damage.hint in result.err


def test_problems_in_json_and_all_at_once(tmp_path: Path, made, nxgov) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.yaml"
    text = plan.read_text(encoding="utf-8").replace("code: d1-c", "code: d1-x").replace("max_per_wave: 2",
                                                                                       "max_per_wave: 1")
    plan.write_text(text, encoding="utf-8")

    result = nxgov("-e", str(tmp_path / "estate.yaml"), "-o", "json", "migrate", "plan", "--check", str(plan))

    assert result.code == 2
    document = result.json()
    assert document["ok"] is False and document["error"]["message"] == "the migration plan has 2 problems"
    assert [(p["path"], p["line"]) for p in document["problems"]] == [
        ("waves[1].systems", text[:text.index("  systems:\n  - code: d1-a")].count("\n") + 1),
        ("waves[2].systems[0].code", text[:text.index("code: d1-x")].count("\n") + 1)]


def test_read_plan_raises_located_problems(tmp_path: Path) -> None:
    estate = load(tmp_path, estate_text({"d1": WEEKEND}, [("d1-a", "d1")]))
    (tmp_path / "plan.yaml").write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(PlanFileError) as refused:
        read_plan(tmp_path / "plan.yaml", estate)
    assert refused.value.message == "the migration plan has 1 problem"
    assert refused.value.problems[0].line == 1 and "top level must be a mapping" in refused.value.problems[0].message


@pytest.mark.parametrize(("args", "says"), [
    (("--start", "next week"), "--start 'next week' is not a date or time"),
    (("--check", "PLAN", "--out", "OUT"), "give one of them"),
    (("--check", "MISSING"), "cannot read the file"),
    (("--max-per-wave", "0"), "--max-per-wave"),
])
def test_bad_options(args: tuple[str, ...], says: str, tmp_path: Path, made, nxgov) -> None:  # type: ignore[no-untyped-def]
    paths = {"PLAN": str(tmp_path / "plan.yaml"), "OUT": str(tmp_path / "out.yaml"),
             "MISSING": str(tmp_path / "missing.yaml")}
    result = nxgov("-e", str(tmp_path / "estate.yaml"), "migrate", "plan", *(paths.get(a, a) for a in args))
    assert result.code == 2 and says in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out.yaml").exists()
