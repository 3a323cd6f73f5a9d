"""``migration_register`` and ``nxgov migrate register``: each change kind from a history built through
``lifecycle.advance``, the period filter, the CSV's exact text, the JSON document and a bad --since through the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nxgov.audit import AuditLog
from nxgov.estate.model import Estate
from nxgov.migrate.assessment import save_assessment
from nxgov.migrate.lifecycle import history
from nxgov.migrate.register import CSV_HEADER, SCHEMA, ChangeKind, migration_register
from nxgov.migrate.windows import SHANGHAI
from nxgov.state import StateStore
from tests.migrate.lifecycle_helpers import walk
from tests.migrate.plan_helpers import NIGHTLY, assessment, estate_text, load

SYSTEMS = [("d1-a", "d1"), ("d1-b", "d1"), ("d2-a", "d2")]
TO_CUT_OVER = ["replicate", "replicated", "test", "tested", "cutover", "cut-over"]


@pytest.fixture
def estate(tmp_path: Path) -> Estate:
    return load(tmp_path, estate_text(dict.fromkeys(("d1", "d2"), NIGHTLY), SYSTEMS))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(tmp_path / "state.db") as opened:
        for code, _ in SYSTEMS:
            save_assessment(opened, assessment(code))
        yield opened


def _campaign(store: StateStore, log: AuditLog) -> datetime:
    """d1-a cut over, rolled back and cut over again; then (after the returned moment) d2-a retired and d1-b
    rolled back before any cut-over and finalized nowhere."""
    walk(store, log, "d1-a", *TO_CUT_OVER, "rollback", "replicate", "replicated", "test", "tested", "cutover",
         "cut-over", "finalize")
    time.sleep(0.002)
    middle = datetime.now(UTC)
    time.sleep(0.002)
    walk(store, log, "d2-a", "retire")
    walk(store, log, "d1-b", "replicate", "rollback")
    return middle


def test_each_change_kind(estate: Estate, store: StateStore, log: AuditLog) -> None:
    _campaign(store, log)
    before = history(store)
    register = migration_register(estate, store)
    assert [(e.system, e.change, e.from_state.value, e.to_state.value) for e in register.entries] == [
        ("d1-a", ChangeKind.CREATED, "cutting-over", "cut-over"),
        ("d1-a", ChangeKind.CHANGED, "cut-over", "rolled-back"),
        ("d1-a", ChangeKind.CHANGED, "cutting-over", "cut-over"),
        ("d2-a", ChangeKind.RETIRED, "assessed", "retired"),
    ]
    assert register.counts() == {"created": 1, "changed": 2, "retired": 1}
    first = register.entries[0]
    assert (first.department, first.operator, first.event) == ("d1", "tester", "cut-over")
    assert first.date == datetime.fromisoformat(first.time).astimezone(SHANGHAI).date().isoformat()
    assert history(store) == before  # read-only


def test_the_period_filter(estate: Estate, store: StateStore, log: AuditLog) -> None:
    middle = _campaign(store, log)
    assert [e.system for e in migration_register(estate, store, since=middle).entries] == ["d2-a"]
    assert [e.change for e in migration_register(estate, store, until=middle).entries] == [
        ChangeKind.CREATED, ChangeKind.CHANGED, ChangeKind.CHANGED]
    assert migration_register(estate, store, since=middle, until=middle).entries == ()
    # a cut-over after the period's start is "changed" when the first one was before it
    rollback = datetime.fromisoformat(migration_register(estate, store).entries[1].time)
    changed = migration_register(estate, store, since=rollback)
    assert [e.change for e in changed.entries][:2] == [ChangeKind.CHANGED, ChangeKind.CHANGED]


def test_csv_exact_text(estate: Estate, store: StateStore, log: AuditLog) -> None:
    walk(store, log, "d1-b", *TO_CUT_OVER)
    walk(store, log, "d2-a", "retire")
    register = migration_register(estate, store)
    day = [e.date for e in register.entries]
    assert register.to_csv() == (
        ",".join(CSV_HEADER) + "\n"
        f"{day[0]},d1-b,d1,created,cutting-over,cut-over,tester\n"
        f"{day[1]},d2-a,d2,retired,assessed,retired,tester\n")
    assert CSV_HEADER == ("date", "system", "department", "change", "from_state", "to_state", "operator")


def test_register_through_the_cli(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    estate_path = tmp_path / "estate.yaml"
    estate_path.write_text(estate_text(dict.fromkeys(("d1", "d2"), NIGHTLY), SYSTEMS), encoding="utf-8")
    with StateStore.open(tmp_path / "state.db") as store:
        for code, _ in SYSTEMS:
            save_assessment(store, assessment(code))
        log = AuditLog(tmp_path / "audit.jsonl", operator="tester")
        walk(store, log, "d1-a", *TO_CUT_OVER)
        walk(store, log, "d2-a", "retire")
    audit_before = (tmp_path / "audit.jsonl").read_bytes()

    result = nxgov("-e", str(estate_path), "-o", "json", "migrate", "register", "--since", "2020-01-01")
    assert result.code == 0, result.err
    document = result.json()
    assert document["schema"] == SCHEMA == "nxgov.migrate.register/1"
    assert set(document) == {"schema", "estate", "since", "until", "counts", "entries"}
    assert document["estate"] == "test" and document["until"] is None and document["since"].startswith("2020-01-01")
    assert document["counts"] == {"created": 1, "changed": 0, "retired": 1}
    assert [set(e) for e in document["entries"]] == [{"time", "date", "system", "department", "change", "from_state",
                                                      "to_state", "event", "operator"}] * 2
    assert [(e["system"], e["department"], e["change"]) for e in document["entries"]] == [
        ("d1-a", "d1", "created"), ("d2-a", "d2", "retired")]

    csv_run = nxgov("-e", str(estate_path), "migrate", "register", "--format", "csv", "--until", "1d")
    assert csv_run.code == 0, csv_run.err
    assert csv_run.out == ",".join(CSV_HEADER) + "\n"
    table = nxgov("-e", str(estate_path), "migrate", "register")
    assert table.code == 0, table.err
    assert "1 created, 0 changed, 1 retired" in table.out and "d2-a" in table.out
    assert (tmp_path / "audit.jsonl").read_bytes() == audit_before

    bad = nxgov("-e", str(estate_path), "-o", "json", "migrate", "register", "--since", "last tuesday")
    assert bad.code == 2 and "--since 'last tuesday' is neither a time nor a duration" in bad.err
    assert "Traceback" not in bad.err
    bad_until = nxgov("-e", str(estate_path), "migrate", "register", "--until", "soon")
    assert bad_until.code == 2 and "--until 'soon'" in bad_until.err
    empty = nxgov("-e", str(estate_path), "migrate", "register", "--since", "2026-02-01", "--until", "2026-01-01")
    assert empty.code == 2 and "is not after --since" in empty.err
