"""The backup catalog in the state store (migration 9): copies, verifications, drills.

A copy is one point-in-time copy of one volume of a protected system (``system``, ``node``, ``volume``: the
estate's volume name) held at the backup cloud. Its row is written before anything is made and moved through
``snapshotting → backing-up → copying → importing → good`` as each step finishes, with the ids it made, so a run
that is killed resumes at the step it was in (the node's snapshot and backup go on without nxgov). ``failed``
rows keep why; ``pruned`` rows keep their history after retention removed the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nxgov.state import StateStore

IN_FLIGHT = ("snapshotting", "backing-up", "copying", "importing")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Copy:
    id: int
    system: str
    node: str
    volume: str
    volume_id: str
    backup_node: str
    kind: str
    state: str
    started: str
    finished: str | None
    snapshot_id: str | None
    backup_id: str | None
    parent_id: str | None
    container: str | None
    size_bytes: int
    stored_bytes: int
    bytes_sent: int
    manifest_sha256: str | None
    detail: str

    @property
    def key(self) -> str:
        return f"{self.system}/{self.node}/{self.volume}"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _COLUMNS}


_COLUMNS = ("id", "system", "node", "volume", "volume_id", "backup_node", "kind", "state", "started", "finished",
            "snapshot_id", "backup_id", "parent_id", "container", "size_bytes", "stored_bytes", "bytes_sent",
            "manifest_sha256", "detail")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM backup_copies"


def _copy(row: Any) -> Copy:
    return Copy(*row)


def open_copy(store: StateStore, system: str, node: str, volume: str, volume_id: str, backup_node: str,
              kind: str) -> Copy:
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO backup_copies (system, node, volume, volume_id, backup_node, kind, state, started) "
            "VALUES (?, ?, ?, ?, ?, ?, 'snapshotting', ?)", (system, node, volume, volume_id, backup_node, kind, now()))
        rid = cursor.lastrowid
    found = copy_by_id(store, int(rid or 0))
    assert found is not None
    return found


def update(store: StateStore, copy_id: int, **values: Any) -> Copy:
    """Set columns of a copy (``manifest`` takes a JSON-able value) and return it as it is now."""
    unknown = set(values) - set(_COLUMNS) - {"manifest"}
    if unknown:
        raise ValueError(f"unknown catalog columns {sorted(unknown)}")
    if "manifest" in values:
        values["manifest"] = json.dumps(values["manifest"])
    with store.transaction() as db:
        db.execute(f"UPDATE backup_copies SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                   (*values.values(), copy_id))
    found = copy_by_id(store, copy_id)
    assert found is not None
    return found


def copy_by_id(store: StateStore, copy_id: int) -> Copy | None:
    row = store.connection.execute(f"{_SELECT} WHERE id = ?", (copy_id,)).fetchone()
    return _copy(row) if row else None


def copies(store: StateStore, system: str | None = None, states: tuple[str, ...] | None = None) -> list[Copy]:
    """Copies, oldest first; of one system and in some states when given."""
    where, args = [], []
    if system is not None:
        where.append("system = ?")
        args.append(system)
    if states is not None:
        where.append(f"state IN ({', '.join('?' for _ in states)})")
        args.extend(states)
    sql = _SELECT + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
    return [_copy(row) for row in store.connection.execute(sql, args)]


def manifest(store: StateStore, copy_id: int) -> dict[str, Any]:
    """``{"chunk_size": bytes, "sha256s": [block digests]}``: a good copy's checksum manifest ({} before)."""
    row = store.connection.execute("SELECT manifest FROM backup_copies WHERE id = ?", (copy_id,)).fetchone()
    return dict(json.loads(row[0])) if row and row[0] else {}


def in_flight(store: StateStore, system: str, node: str, volume: str) -> Copy | None:
    found = [c for c in copies(store, system, IN_FLIGHT) if c.node == node and c.volume == volume]
    return found[-1] if found else None


def last_good(store: StateStore, system: str, node: str, volume: str) -> Copy | None:
    found = [c for c in copies(store, system, ("good",)) if c.node == node and c.volume == volume]
    return found[-1] if found else None


def chain(store: StateStore, copy: Copy) -> list[Copy]:
    """The copies ``copy`` builds on, full copy first, ``copy`` last (by the parent backup ids)."""
    by_backup = {c.backup_id: c for c in copies(store, copy.system) if c.backup_id}
    out = [copy]
    while out[0].parent_id:
        parent = by_backup.get(out[0].parent_id)
        if parent is None:
            break
        out.insert(0, parent)
    return out


@dataclass(frozen=True)
class Verify:
    id: int
    copy: int
    system: str
    checked: str
    result: str
    sample: float
    detail: str


def record_verify(store: StateStore, copy: Copy, result: str, sample: float, detail: str) -> Verify:
    with store.transaction() as db:
        db.execute("INSERT INTO backup_verifies (copy, system, checked, result, sample, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (copy.id, copy.system, now(), result, sample, detail))
    return verifies(store, copy.system)[-1]


def verifies(store: StateStore, system: str | None = None) -> list[Verify]:
    sql = "SELECT id, copy, system, checked, result, sample, detail FROM backup_verifies"
    rows = store.connection.execute(sql + (" WHERE system = ?" if system else "") + " ORDER BY id",
                                    (system,) if system else ())
    return [Verify(*row) for row in rows]


@dataclass(frozen=True)
class Drill:
    """The evidence of one restore drill (for the level-3 inspection)."""

    id: int
    system: str
    backup_node: str
    project: str
    started: str
    ended: str | None
    rto_s: float | None
    result: str
    copies: list[int] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    cleaned: bool = False
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "system": self.system, "backup_node": self.backup_node, "project": self.project,
                "started": self.started, "ended": self.ended, "rto_s": self.rto_s, "result": self.result,
                "copies": self.copies, "checks": self.checks, "cleaned_up": self.cleaned, "detail": self.detail}


_DRILL = ("SELECT id, system, backup_node, project, started, ended, rto_s, result, copies, checks, cleaned, detail "
          "FROM backup_drills")


def _drill(row: Any) -> Drill:
    return Drill(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]),
                 json.loads(row[9]), bool(row[10]), row[11])


def open_drill(store: StateStore, system: str, backup_node: str, project: str, copy_ids: list[int]) -> int:
    with store.transaction() as db:
        cursor = db.execute("INSERT INTO backup_drills (system, backup_node, project, started, result, copies, checks)"
                            " VALUES (?, ?, ?, ?, 'running', ?, '[]')",
                            (system, backup_node, project, now(), json.dumps(copy_ids)))
    return int(cursor.lastrowid or 0)


def close_drill(store: StateStore, drill_id: int, result: str, rto_s: float | None, checks: list[dict[str, Any]],
                cleaned: bool, detail: str) -> Drill:
    with store.transaction() as db:
        db.execute("UPDATE backup_drills SET ended = ?, result = ?, rto_s = ?, checks = ?, cleaned = ?, detail = ? "
                   "WHERE id = ?", (now(), result, rto_s, json.dumps(checks), int(cleaned), detail, drill_id))
    return next(d for d in drills(store) if d.id == drill_id)


def drills(store: StateStore, system: str | None = None) -> list[Drill]:
    rows = store.connection.execute(_DRILL + (" WHERE system = ?" if system else "") + " ORDER BY id",
                                    (system,) if system else ())
    return [_drill(row) for row in rows]
