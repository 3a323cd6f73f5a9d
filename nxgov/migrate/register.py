"""The register of system changes for filing with the digital-government office: one SDK call,
:func:`migration_register` (``nxgov migrate register``). Read-only: it reads the append-only lifecycle history.

Each system's whole history is walked in order (so "first" is known whatever the period), and a change is filed when:

- **created**: the system's first ``cut-over`` (it now runs on the cloud);
- **changed**: a later ``cut-over`` (cut over again after a rollback), or a ``rollback`` from ``cut-over`` (it left
  the cloud and its legacy host serves again);
- **retired**: the system was retired (a zombie: its service stopped, nothing migrated).

Other steps (replicate, test, a rollback before any cut-over, finalize, which only marks the legacy host retired
while the system stays on the cloud as filed at its cut-over) change nothing the office registers.
Only changes at or after ``since`` and before ``until`` are returned.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from nxgov.estate.model import Estate
from nxgov.migrate.lifecycle import Change, State, history
from nxgov.migrate.windows import SHANGHAI
from nxgov.state import StateStore

SCHEMA = "nxgov.migrate.register/1"
CSV_HEADER = ("date", "system", "department", "change", "from_state", "to_state", "operator")


class ChangeKind(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    RETIRED = "retired"


@dataclass(frozen=True)
class RegisterEntry:
    time: str
    """ISO 8601 UTC time of the state change (as in the lifecycle history)."""
    date: str
    """Its date in Asia/Shanghai time (YYYY-MM-DD), as filed."""
    system: str
    department: str | None
    """The system's department in the estate; None when the estate no longer has the system."""
    change: ChangeKind
    from_state: State
    to_state: State
    event: str
    operator: str

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time, "date": self.date, "system": self.system, "department": self.department,
                "change": self.change.value, "from_state": self.from_state.value, "to_state": self.to_state.value,
                "event": self.event, "operator": self.operator}


@dataclass(frozen=True)
class MigrationRegister:
    estate: str
    since: datetime | None
    until: datetime | None
    entries: tuple[RegisterEntry, ...]
    """Oldest first."""

    def counts(self) -> dict[str, int]:
        return {kind.value: sum(e.change is kind for e in self.entries) for kind in ChangeKind}

    def to_document(self) -> dict[str, Any]:
        """The ``nxgov.migrate.register/1`` document."""
        return {"schema": SCHEMA, "estate": self.estate, "since": _iso(self.since), "until": _iso(self.until),
                "counts": self.counts(), "entries": [e.as_dict() for e in self.entries]}

    def to_csv(self) -> str:
        """The register as CSV with a header row (:data:`CSV_HEADER`), one row per entry."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for e in self.entries:
            writer.writerow((e.date, e.system, e.department or "", e.change.value, e.from_state.value,
                             e.to_state.value, e.operator))
        return buffer.getvalue()


def migration_register(estate: Estate, store: StateStore, *, since: datetime | None = None,
                       until: datetime | None = None) -> MigrationRegister:
    """The systems created, changed and retired (rules in the module docstring) with ``since <= time < until``
    (either bound may be None; both timezone-aware), oldest first. Reads the store; changes nothing."""
    departments = {s.code: s.department for s in estate.systems}
    cut_over: set[str] = set()
    entries = []
    for change in history(store):
        kind = _kind(change, change.system in cut_over)
        if change.target is State.CUT_OVER:
            cut_over.add(change.system)
        if kind is None:
            continue
        moment = datetime.fromisoformat(change.changed)
        if (since is not None and moment < since) or (until is not None and moment >= until):
            continue
        entries.append(RegisterEntry(change.changed, moment.astimezone(SHANGHAI).date().isoformat(), change.system,
                                     departments.get(change.system), kind, change.source, change.target,
                                     change.event, change.operator))
    return MigrationRegister(estate.estate, since, until, tuple(entries))


def _kind(change: Change, was_cut_over: bool) -> ChangeKind | None:
    if change.target is State.CUT_OVER:
        return ChangeKind.CHANGED if was_cut_over else ChangeKind.CREATED
    if change.target is State.ROLLED_BACK and change.source is State.CUT_OVER:
        return ChangeKind.CHANGED
    if change.target is State.RETIRED:
        return ChangeKind.RETIRED
    return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None
