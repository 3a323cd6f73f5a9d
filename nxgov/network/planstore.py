"""The numbering plan in the state store (table ``numbering``, migration 2), one estate at a time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import cast

from nxgov.errors import InputError
from nxgov.estate.model import Estate
from nxgov.network.ipv6layout import Kind, State
from nxgov.network.ipv6plan import Allocation, PlanOutcome, compute_plan
from nxgov.state import StateStore


def load_allocations(store: StateStore, estate: str) -> list[Allocation]:
    """Every allocation stored for ``estate`` (active and reserved)."""
    rows = store.connection.execute(
        "SELECT kind, key, pool, slot, value, state, description FROM numbering WHERE estate = ? ORDER BY rowid",
        (estate,),
    ).fetchall()
    return [Allocation(cast(Kind, k), key, pool, int(slot), value, cast(State, state), description)
            for k, key, pool, slot, value, state, description in rows]


def _save(connection: sqlite3.Connection, outcome: PlanOutcome) -> None:
    """Write what a plan run changed (released rows go first: their slots may be reused)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    connection.executemany("DELETE FROM numbering WHERE estate = ? AND kind = ? AND key = ?",
                           [(outcome.estate, a.kind, a.key) for a in outcome.released])
    connection.executemany(
        "INSERT INTO numbering (estate, kind, key, pool, slot, value, state, description, allocated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(outcome.estate, a.kind, a.key, a.pool, a.slot, a.value, a.state, a.description, now)
         for a in outcome.new],
    )
    connection.executemany(
        "UPDATE numbering SET state = ?, description = ? WHERE estate = ? AND kind = ? AND key = ?",
        [(a.state, a.description, outcome.estate, a.kind, a.key)
         for a in (*outcome.restored, *outcome.reserved, *outcome.renamed)],
    )


def plan_ipv6(store: StateStore, estate: Estate, dry_run: bool = False, release: Collection[str] = (),
              on_change: Callable[[PlanOutcome], None] | None = None) -> PlanOutcome:
    """Plan against what ``store`` holds; write the changes unless ``dry_run``.

    Reading the stored plan, computing and writing are one write transaction, so planners running at
    once take turns and each builds on what the one before it stored. ``on_change`` is called with the
    outcome inside that transaction, after the writes and before the commit, when something changed: if
    it raises (an audit record that cannot be written), nothing is stored.
    """
    if dry_run:
        return compute_plan(estate, load_allocations(store, estate.estate), release)
    with store.transaction() as connection:
        outcome = compute_plan(estate, load_allocations(store, estate.estate), release)
        if outcome.changed:
            _save(connection, outcome)
            if on_change is not None:
                on_change(outcome)
    return outcome


def stored_plan(store: StateStore, estate: Estate) -> PlanOutcome:
    """The stored plan, which must already number everything the estate holds (for show, export, render)."""
    stored = load_allocations(store, estate.estate)
    if not stored:
        raise InputError(f"no IPv6 plan is stored for estate {estate.estate} in {store.path}",
                         "run 'nxgov net ipv6 plan' first")
    outcome = compute_plan(estate, stored)
    if outcome.new:
        first = outcome.new[0]
        raise InputError(f"the stored IPv6 plan is out of date: {len(outcome.new)} allocations are missing "
                         f"(first: {first.kind} {first.key})",
                         "run 'nxgov net ipv6 plan' to allocate them (--dry-run shows what it would do)")
    return outcome
