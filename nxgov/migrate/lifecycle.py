"""The migration lifecycle of a system, as a state machine written once (:data:`TRANSITIONS`).

``assessed → replicating → ready-for-test → testing → ready-for-cutover → cutting-over → cut-over → finalized``;
``rolled-back`` from any state before ``finalized``; ``retired`` (a zombie) from ``assessed``. Everything else
(which verbs may run now, the refusals, the README's diagram) is derived from the table.

A system enters the machine by being assessed (it has a row in ``assessments``); from then on its current
state and time are in table ``lifecycle`` and every change is appended to ``lifecycle_history`` (state-store
migration 6; the history table refuses updates and deletes) and written to the audit log
(``migrate lifecycle``), the log checked first.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from nxgov.audit import AuditLog
from nxgov.errors import InputError
from nxgov.state import StateStore

AUDIT_COMMAND = "migrate lifecycle"


class State(StrEnum):
    ASSESSED = "assessed"
    REPLICATING = "replicating"
    READY_FOR_TEST = "ready-for-test"
    TESTING = "testing"
    READY_FOR_CUTOVER = "ready-for-cutover"
    CUTTING_OVER = "cutting-over"
    CUT_OVER = "cut-over"
    FINALIZED = "finalized"
    ROLLED_BACK = "rolled-back"
    RETIRED = "retired"


@dataclass(frozen=True)
class Transition:
    source: State
    event: str
    target: State


_T = Transition
_S = State
_BEFORE_FINALIZED = (_S.ASSESSED, _S.REPLICATING, _S.READY_FOR_TEST, _S.TESTING, _S.READY_FOR_CUTOVER,
                     _S.CUTTING_OVER, _S.CUT_OVER)

TRANSITIONS: tuple[Transition, ...] = (
    _T(_S.ASSESSED, "replicate", _S.REPLICATING),
    _T(_S.REPLICATING, "replicated", _S.READY_FOR_TEST),
    _T(_S.READY_FOR_TEST, "replicate", _S.REPLICATING),
    _T(_S.READY_FOR_TEST, "test", _S.TESTING),
    _T(_S.TESTING, "tested", _S.READY_FOR_CUTOVER),
    _T(_S.TESTING, "test-failed", _S.READY_FOR_TEST),
    _T(_S.READY_FOR_CUTOVER, "cutover", _S.CUTTING_OVER),
    _T(_S.CUTTING_OVER, "cut-over", _S.CUT_OVER),
    _T(_S.CUT_OVER, "finalize", _S.FINALIZED),
    *(_T(state, "rollback", _S.ROLLED_BACK) for state in _BEFORE_FINALIZED),
    _T(_S.ROLLED_BACK, "replicate", _S.REPLICATING),
    _T(_S.ASSESSED, "retire", _S.RETIRED),
)
"""Every legal change: from-state, event (a verb the operator runs, or the step's end), to-state. A replicate may be
repeated before the test (it sends only what changed) and after a rollback (a new attempt); a failed test goes back
to ready-for-test; a failed cutover is rolled back (event ``rollback``, automatic)."""

RESUMES: Mapping[str, State] = {"replicate": State.REPLICATING, "test": State.TESTING, "cutover": State.CUTTING_OVER}
"""A verb run again while its system is still in the verb's own in-progress state (the run was killed or failed)
resumes the step where it is, without a state change."""

FINAL_REASONS: Mapping[State, str] = {
    State.FINALIZED: "nothing follows finalized: the system runs on the cloud and its legacy host was marked "
                     "retired, so there is no source to go back to",
    State.RETIRED: "nothing follows retired: the system was a zombie, its service was stopped and nothing is "
                   "migrated",
}
"""Why nothing may follow a final state (told with every refusal there)."""


class LifecycleError(InputError):
    """A lifecycle step the system's state does not allow (exit 2; nothing changed)."""


@dataclass(frozen=True)
class Change:
    """One state change of one system, as kept in ``lifecycle_history``."""

    system: str
    source: State
    event: str
    target: State
    changed: str
    """ISO 8601 UTC time of the change."""
    operator: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Current:
    """A system's current state and since when (ISO 8601 UTC)."""

    state: State
    changed: str


def next_steps(state: State) -> list[Transition]:
    """The transitions legal from ``state``, in table order."""
    return [t for t in TRANSITIONS if t.source is state]


def current_states(store: StateStore) -> dict[str, Current]:
    """Every system's lifecycle state past ``assessed``, by code (an assessed system without a row is ``assessed``)."""
    rows = store.connection.execute("SELECT system, state, changed FROM lifecycle ORDER BY system").fetchall()
    return {str(system): Current(State(state), str(changed)) for system, state, changed in rows}


def history(store: StateStore, system: str | None = None) -> list[Change]:
    """The state changes of ``system`` (of every system when None), oldest first."""
    query = "SELECT system, source, event, target, changed, operator, details FROM lifecycle_history"
    rows = (store.connection.execute(query + " ORDER BY id") if system is None else
            store.connection.execute(query + " WHERE system = ? ORDER BY id", (system,))).fetchall()
    return [Change(str(code), State(source), str(event), State(target), str(changed), str(operator),
                   json.loads(details))
            for code, source, event, target, changed, operator, details in rows]


def state_of(connection: sqlite3.Connection, system: str, event: str) -> State:
    """``system``'s current state (``assessed`` when it has an assessment and no lifecycle row yet).

    LifecycleError naming the fix for a system never assessed."""
    row = connection.execute("SELECT state FROM lifecycle WHERE system = ?", (system,)).fetchone()
    if row is not None:
        return State(row[0])
    if connection.execute("SELECT 1 FROM assessments WHERE system = ?", (system,)).fetchone():
        return State.ASSESSED
    raise LifecycleError(f"{system} is not assessed: cannot {event} it",
                         f"assess it first: nxgov migrate assess --system {system}")


def check(store: StateStore, system: str, event: str) -> tuple[State, bool]:
    """Whether ``event`` may run on ``system`` now, changing nothing: its state, and True when it resumes (the system
    is in the event's in-progress state, :data:`RESUMES`). LifecycleError (exit 2) as :func:`advance` when not."""
    state = state_of(store.connection, system, event)
    if RESUMES.get(event) is state:
        return state, True
    if not any(t.event == event for t in next_steps(state)):
        raise _refusal(system, state, event)
    return state, False


def advance(store: StateStore, system: str, event: str, audit_log: AuditLog,
            details: Mapping[str, Any] | None = None) -> Change:
    """Move ``system`` along ``event``: check the move is legal, check the audit log, store the new state with its
    time and a history row, and audit it, all under the store's write lock (so two runs cannot both move it).

    Raises :class:`LifecycleError` naming the system, its state and its legal next steps when the move is not
    legal (and for a system never assessed); nothing is stored or audited then."""
    with store.transaction() as connection:
        state = state_of(connection, system, event)
        move = next((t for t in next_steps(state) if t.event == event), None)
        if move is None:
            raise _refusal(system, state, event)
        audit_log.preflight()
        change = Change(system, state, event, move.target, datetime.now(UTC).isoformat(timespec="microseconds"),
                        audit_log.operator, dict(details or {}))
        connection.execute(
            "INSERT INTO lifecycle (system, state, changed) VALUES (?, ?, ?) "
            "ON CONFLICT (system) DO UPDATE SET state = excluded.state, changed = excluded.changed",
            (system, change.target.value, change.changed))
        connection.execute(
            "INSERT INTO lifecycle_history (system, source, event, target, changed, operator, details) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (system, state.value, event, change.target.value, change.changed, change.operator,
             json.dumps(change.details, ensure_ascii=False, sort_keys=True, default=str)))
        audit_log.append(AUDIT_COMMAND, system, "changed",
                         {**change.details, "from": state.value, "event": event, "to": change.target.value})
    return change


def _refusal(system: str, state: State, event: str) -> LifecycleError:
    legal = next_steps(state)
    if not legal:
        return LifecycleError(f"{system} is {state.value}: cannot {event} it; {FINAL_REASONS[state]}",
                              "nothing can follow; see `nxgov migrate status`")
    steps = ", ".join(f"{t.event} (to {t.target.value})" for t in legal)
    return LifecycleError(f"{system} is {state.value}: cannot {event} it now; the legal next steps are {steps}",
                          "run one of those steps, or see the lifecycle in the README (Migration: the lifecycle)")


def _node(state: State) -> str:
    return state.value.replace("-", "_")


def mermaid() -> str:
    """The machine as a Mermaid ``stateDiagram-v2``, drawn from :data:`TRANSITIONS` (the README shows it)."""
    lines = ["stateDiagram-v2"]
    lines += [f'    state "{state.value}" as {_node(state)}' for state in State]
    lines.append(f"    [*] --> {_node(State.ASSESSED)}")
    lines += [f"    {_node(t.source)} --> {_node(t.target)}: {t.event}" for t in TRANSITIONS]
    lines += [f"    {_node(state)} --> [*]" for state in State if not next_steps(state)]
    return "\n".join(lines) + "\n"
