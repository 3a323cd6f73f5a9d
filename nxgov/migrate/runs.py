"""The record of every migration run (state-store migration 7): the run, its steps, its copies, the service record.

A run is one lifecycle verb for one system (``replicate``, ``test``, ``cutover``, ``finalize``, ``rollback``,
``retire``): its row is written before anything is touched (outcome ``running``, with the process that runs it)
and closed at the end (``ok`` or ``failed``, with why). Each task a playbook finishes on a host is a step row,
written as the event arrives, so a run that is killed keeps what it did. A run still ``running`` whose process is
gone was interrupted (SIGKILL, a lost session): the next run of the system marks it so and carries on from the
system's lifecycle state; a run whose process is still alive makes the next one refuse (two runs must never
drive one system).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nxgov.errors import OperationError
from nxgov.processes import process_start_time
from nxgov.state import StateStore


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Run:
    id: int
    system: str
    verb: str
    started: str
    finished: str | None
    outcome: str
    artifacts: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Copy:
    """One copy of a system's data paths onto one target host, with its manifest (``sha256  ./path`` lines)."""

    system: str
    host: str
    taken: str
    files: int
    bytes: int
    bytes_sent: int
    manifest_sha256: str
    source_sha256: str

    @property
    def matches_source(self) -> bool:
        return self.manifest_sha256 == self.source_sha256


def start_run(store: StateStore, system: str, verb: str, runs_dir: Path) -> tuple[int, Path, list[Path]]:
    """Open a run of ``verb`` for ``system``, with its artifact folder ``runs_dir/<id>-<system>-<verb>``: its id, its
    folder, and the folders of the earlier runs found interrupted (their process gone; marked so here).

    OperationError (exit 1) when another run of the system is still going."""
    pid = os.getpid()
    interrupted: list[Path] = []
    with store.transaction() as connection:
        for run_id, other_pid, other_started, other_verb, folder in connection.execute(
                "SELECT id, pid, pid_started, verb, artifacts FROM migration_runs WHERE system = ? "
                "AND outcome = 'running'", (system,)).fetchall():
            if other_pid != pid and _alive(int(other_pid), other_started):
                raise OperationError(f"{system}: a '{other_verb}' run (#{run_id}, process {other_pid}) is still going",
                                     "wait for it to end (see `nxgov migrate runs`), then run this again")
            connection.execute("UPDATE migration_runs SET outcome = 'interrupted', finished = ? WHERE id = ?",
                               (now(), run_id))
            interrupted.append(Path(folder))
        cursor = connection.execute(
            "INSERT INTO migration_runs (system, verb, started, outcome, pid, pid_started, artifacts, detail) "
            "VALUES (?, ?, ?, 'running', ?, ?, '', '{}')", (system, verb, now(), pid, str(process_start_time(pid))))
        run_id = cursor.lastrowid
        assert run_id is not None
        folder = runs_dir / f"{run_id:06d}-{system}-{verb}"
        connection.execute("UPDATE migration_runs SET artifacts = ? WHERE id = ?", (str(folder), run_id))
        return run_id, folder, interrupted


def _alive(pid: int, started: str) -> bool:
    """Whether the process that opened a run still runs (the same process: its PID not reused since)."""
    return str(process_start_time(pid)) == started


def still_going(store: StateStore, run_id: int) -> bool:
    """Whether the process of a run marked ``running`` still runs (False: it was killed, the run interrupted; the
    next run of the system marks it so)."""
    row = store.connection.execute("SELECT pid, pid_started FROM migration_runs WHERE id = ?", (run_id,)).fetchone()
    return row is not None and _alive(int(row[0]), str(row[1]))


def end_run(store: StateStore, run_id: int, outcome: str, detail: dict[str, Any]) -> None:
    with store.transaction() as connection:
        connection.execute("UPDATE migration_runs SET outcome = ?, finished = ?, detail = ? WHERE id = ?",
                           (outcome, now(), json.dumps(detail, ensure_ascii=False, default=str), run_id))


def record_step(store: StateStore, run_id: int, host: str, task: str, outcome: str, detail: dict[str, Any]) -> None:
    with store.transaction() as connection:
        connection.execute("INSERT INTO migration_steps (run, host, task, outcome, at, detail) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           (run_id, host, task, outcome, now(), json.dumps(detail, ensure_ascii=False, default=str)))


def record_copy(store: StateStore, run_id: int, copy: Copy, manifest: str) -> None:
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO migration_copies (run, system, taken, host, files, bytes, bytes_sent, manifest_sha256, "
            "source_sha256, manifest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, copy.system, copy.taken, copy.host, copy.files, copy.bytes, copy.bytes_sent,
             copy.manifest_sha256, copy.source_sha256, manifest))


def runs(store: StateStore, system: str | None = None, limit: int = 100) -> list[Run]:
    """The latest runs (of ``system``, or of every system), newest first."""
    query = "SELECT id, system, verb, started, finished, outcome, artifacts, detail FROM migration_runs"
    rows = (store.connection.execute(query + " ORDER BY id DESC LIMIT ?", (limit,)) if system is None else
            store.connection.execute(query + " WHERE system = ? ORDER BY id DESC LIMIT ?", (system, limit))).fetchall()
    return [Run(int(i), str(s), str(v), str(st), f, str(o), str(a), json.loads(d)) for i, s, v, st, f, o, a, d in rows]


def steps(store: StateStore, run_id: int) -> list[tuple[str, str, str, str]]:
    """A run's steps: (host, task, outcome, time), in the order they finished."""
    rows = store.connection.execute("SELECT host, task, outcome, at FROM migration_steps WHERE run = ? ORDER BY id",
                                    (run_id,)).fetchall()
    return [(str(h), str(t), str(o), str(a)) for h, t, o, a in rows]


def copies(store: StateStore, system: str) -> list[Copy]:
    """Every copy of ``system``, oldest first."""
    rows = store.connection.execute(
        "SELECT system, host, taken, files, bytes, bytes_sent, manifest_sha256, source_sha256 FROM migration_copies "
        "WHERE system = ? ORDER BY id", (system,)).fetchall()
    return [Copy(str(s), str(h), str(t), int(f), int(b), int(sent), str(m), str(src))
            for s, h, t, f, b, sent, m, src in rows]


def set_service_record(store: StateStore, system: str, name: str | None, addresses: list[str], serving: str) -> None:
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO service_records (system, name, addresses, serving, switched) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (system) DO UPDATE SET name = excluded.name, addresses = excluded.addresses, "
            "serving = excluded.serving, switched = excluded.switched",
            (system, name, json.dumps(addresses), serving, now()))


def service_record(store: StateStore, system: str) -> tuple[str, list[str]] | None:
    """(serving side, addresses) of ``system``'s service record, or None when it was never switched."""
    row = store.connection.execute("SELECT serving, addresses FROM service_records WHERE system = ?",
                                   (system,)).fetchone()
    return (str(row[0]), list(json.loads(row[1]))) if row else None
