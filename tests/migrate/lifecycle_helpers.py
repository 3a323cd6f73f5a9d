"""Walking systems through their migration lifecycle, for the status and register tests."""

from __future__ import annotations

from nxgov.audit import AuditLog
from nxgov.migrate.lifecycle import advance
from nxgov.state import StateStore


def walk(store: StateStore, log: AuditLog, system: str, *events: str) -> None:
    """Advance ``system`` by each of ``events`` in turn, recorded in ``log``."""
    for event in events:
        advance(store, system, event, log)
