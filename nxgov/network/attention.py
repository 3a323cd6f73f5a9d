"""Devices that need attention: a change that could not be finished or undone, kept in the state store.

A push that loses its session and cannot reconnect to roll back, or a rollback that does not restore
the previous configuration, leaves a device in a state nobody chose. :func:`note` records it (table
``device_attention``, migration 3) with the last line known to be applied, at once and from the
worker that saw it, so the record exists even if nxgov is killed right after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nxgov.state import StateStore


@dataclass(frozen=True)
class Attention:
    """One open record: which device, since when, during what, the last line applied, and what happened."""

    id: int
    device: str
    noted: str
    operation: str
    last_applied: str | None
    detail: str


def note(state: Path, device: str, operation: str, last_applied: str | None, detail: str) -> None:
    """Record that ``device`` needs attention (opens its own connection: safe from any thread)."""
    with StateStore.open(state) as store, store.transaction() as connection:
        connection.execute(
            "INSERT INTO device_attention (device, noted, operation, last_applied, detail) VALUES (?, ?, ?, ?, ?)",
            (device, datetime.now(UTC).isoformat(timespec="seconds"), operation, last_applied, detail),
        )


def open_items(store: StateStore, device: str | None = None) -> list[Attention]:
    """Records not yet resolved, oldest first (for one device, or all)."""
    rows = store.connection.execute(
        "SELECT id, device, noted, operation, last_applied, detail FROM device_attention "
        "WHERE resolved IS NULL AND (? IS NULL OR device = ?) ORDER BY id",
        (device, device),
    ).fetchall()
    return [Attention(*row) for row in rows]


def resolve(store: StateStore, device: str) -> int:
    """Mark every open record of ``device`` resolved (after a push that succeeded); returns how many."""
    with store.transaction() as connection:
        cursor = connection.execute("UPDATE device_attention SET resolved = ? WHERE device = ? AND resolved IS NULL",
                                    (datetime.now(UTC).isoformat(timespec="seconds"), device))
    return cursor.rowcount
