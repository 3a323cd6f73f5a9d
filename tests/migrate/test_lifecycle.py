"""The migration lifecycle state machine: every legal transition, refusals, audit records, history, README diagram."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from nxgov.audit import AuditLog
from nxgov.errors import AuditError, ExitCode, InputError
from nxgov.migrate.assessment import save_assessment
from nxgov.migrate.lifecycle import (
    AUDIT_COMMAND,
    TRANSITIONS,
    LifecycleError,
    State,
    Transition,
    advance,
    current_states,
    history,
    mermaid,
    next_steps,
)
from nxgov.state import StateStore
from tests.conftest import ROOT
from tests.migrate.plan_helpers import assessment

HAPPY_PATH = ["replicate", "replicated", "test", "tested", "cutover", "cut-over", "finalize"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(tmp_path / "state.db") as opened:
        save_assessment(opened, assessment("sys-a"))
        yield opened


def _path_to(state: State) -> list[str]:
    """The events that lead from ``assessed`` to ``state`` (breadth first over the table)."""
    paths: dict[State, list[str]] = {State.ASSESSED: []}
    queue = [State.ASSESSED]
    while queue:
        here = queue.pop(0)
        for move in next_steps(here):
            if move.target not in paths:
                paths[move.target] = [*paths[here], move.event]
                queue.append(move.target)
    return paths[state]


def test_every_state_is_reachable_and_the_happy_path_ends_finalized(store: StateStore, log: AuditLog) -> None:
    assert {t.target for t in TRANSITIONS} | {State.ASSESSED} == set(State)
    for event in HAPPY_PATH:
        advance(store, "sys-a", event, log)
    assert current_states(store)["sys-a"].state is State.FINALIZED


@pytest.mark.parametrize("move", TRANSITIONS, ids=lambda t: f"{t.source}-{t.event}-{t.target}")
def test_every_legal_transition(move: Transition, store: StateStore, log: AuditLog) -> None:
    for event in _path_to(move.source):
        advance(store, "sys-a", event, log)
    before = len(list(log.records()))
    change = advance(store, "sys-a", move.event, log, {"run": 7})
    assert (change.source, change.event, change.target) == (move.source, move.event, move.target)
    assert current_states(store)["sys-a"].state is move.target
    records = list(log.records())
    assert len(records) == before + 1
    last = records[-1]
    assert (last.command, last.target, last.result, last.operator) == (AUDIT_COMMAND, "sys-a", "changed", "tester")
    assert last.details == {"from": move.source.value, "event": move.event, "to": move.target.value, "run": 7}


ILLEGAL = [
    (State.ASSESSED, "cutover"),
    (State.REPLICATING, "test"),
    (State.READY_FOR_TEST, "finalize"),
    (State.TESTING, "cutover"),
    (State.CUT_OVER, "replicate"),
    (State.ROLLED_BACK, "rollback"),
    (State.RETIRED, "replicate"),
    (State.FINALIZED, "rollback"),
    (State.ASSESSED, "no-such-event"),
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=lambda v: str(v))
def test_illegal_transition_refused_naming_state_and_next_steps(state: State, event: str, store: StateStore,
                                                               log: AuditLog) -> None:
    for step in _path_to(state):
        advance(store, "sys-a", step, log)
    records = list(log.records())
    steps = history(store, "sys-a")
    current = current_states(store).get("sys-a")
    with pytest.raises(LifecycleError) as refused:
        advance(store, "sys-a", event, log)
    message = refused.value.message
    assert isinstance(refused.value, InputError) and refused.value.exit_code == ExitCode.BAD_INPUT
    assert message.startswith(f"sys-a is {state.value}: cannot {event} it")
    for move in next_steps(state):
        assert f"{move.event} (to {move.target.value})" in message
    assert current_states(store).get("sys-a") == current
    assert list(log.records()) == records, "a refused transition is not audited"
    assert history(store, "sys-a") == steps, "a refused transition is not stored"


def test_rollback_after_finalize_is_refused_with_the_reason(store: StateStore, log: AuditLog) -> None:
    for event in HAPPY_PATH:
        advance(store, "sys-a", event, log)
    with pytest.raises(LifecycleError, match=r"sys-a is finalized: cannot rollback it; nothing follows finalized: "
                       r".*no source to go back to"):
        advance(store, "sys-a", "rollback", log)


def test_a_system_never_assessed_is_refused(store: StateStore, log: AuditLog) -> None:
    with pytest.raises(LifecycleError, match="sys-b is not assessed: cannot replicate it") as refused:
        advance(store, "sys-b", "replicate", log)
    assert refused.value.hint == "assess it first: nxgov migrate assess --system sys-b"
    assert list(log.records()) == []


def test_history_is_kept_in_order_and_append_only(store: StateStore, log: AuditLog) -> None:
    advance(store, "sys-a", "replicate", log, {"bytes": 10})
    advance(store, "sys-a", "rollback", log)
    advance(store, "sys-a", "replicate", log)
    steps = history(store, "sys-a")
    assert [(c.source, c.event, c.target) for c in steps] == [
        (State.ASSESSED, "replicate", State.REPLICATING), (State.REPLICATING, "rollback", State.ROLLED_BACK),
        (State.ROLLED_BACK, "replicate", State.REPLICATING)]
    assert steps[0].details == {"bytes": 10} and steps[0].operator == "tester"
    assert steps[0].changed <= steps[1].changed <= steps[2].changed
    assert current_states(store)["sys-a"].changed == steps[-1].changed
    for statement in ("UPDATE lifecycle_history SET event = 'x'", "DELETE FROM lifecycle_history"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.connection.execute(statement)
    assert len(history(store, "sys-a")) == 3


def test_a_broken_audit_log_changes_nothing(store: StateStore, log: AuditLog) -> None:
    advance(store, "sys-a", "replicate", log)
    log.path.write_text(log.path.read_text().replace('"tester"', '"mallory"'))
    with pytest.raises(AuditError, match=r"audit log .* is broken"):
        advance(store, "sys-a", "replicated", log)
    assert current_states(store)["sys-a"].state is State.REPLICATING
    assert len(history(store, "sys-a")) == 1


def test_readme_diagram_is_the_rendered_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks == [mermaid()], "README's lifecycle diagram differs from mermaid(): paste the rendered one"


def test_diagram_has_every_transition() -> None:
    drawn = mermaid()
    assert drawn.startswith("stateDiagram-v2\n")
    assert "    cut_over --> finalized: finalize\n" in drawn
    assert drawn.count(": rollback\n") == 7
    assert "    finalized --> [*]\n" in drawn and "    retired --> [*]\n" in drawn
