"""The state store: what nxgov must remember between runs, in one embedded SQLite file.

Later features (IPv6 allocations, migration progress, the backup catalogue, the config archive) each
add a :class:`Migration` to :data:`MIGRATIONS`. Migrations run in order when a store is opened, each
in its own ``BEGIN IMMEDIATE`` transaction that re-reads the schema version first, so any number of
processes may open a fresh or outdated store at once and every migration is applied exactly once.

The store runs in WAL mode with a 30 s busy timeout (``NXGOV_STATE_BUSY_TIMEOUT`` seconds): readers never
block the single writer, and writers queue instead of failing with "database is locked"; a writer still
waiting when the timeout runs out gets a :class:`StateError` (exit 1: retry).

What cannot be used is told apart for the operator: a file that is not an SQLite database, or a store
written by a newer nxgov, is bad input (:class:`UnusableStoreError`, exit 2, naming the file and the fix); a
store the operating system will not let nxgov write (read-only, immutable) is opened read-only, so commands
that only read it still work, and the first write fails with the fix (exit 1).
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from nxgov.errors import ExitCode, StateError

BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for another one by default; ``NXGOV_STATE_BUSY_TIMEOUT`` (seconds) overrides it."""
BUSY_TIMEOUT_ENV = "NXGOV_STATE_BUSY_TIMEOUT"
_WHERE_HINT = "point --state or the NXGOV_STATE environment variable at the nxgov state store"


@dataclass(frozen=True)
class Migration:
    """One step of the schema. ``sql`` may hold several statements; it runs in one transaction."""

    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "meta and runs",
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            started TEXT NOT NULL,
            finished TEXT,
            result TEXT,
            summary TEXT CHECK (summary IS NULL OR json_valid(summary))
        );
        """,
    ),
    Migration(
        2,
        "extranet numbering plan (IPv6 blocks, private ASNs, link ports)",
        """
        CREATE TABLE numbering (
            estate TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('site', 'link', 'loopback', 'asn', 'port')),
            key TEXT NOT NULL,
            pool TEXT NOT NULL,
            slot INTEGER NOT NULL CHECK (slot >= 0),
            value TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'reserved')),
            description TEXT NOT NULL,
            allocated TEXT NOT NULL,
            PRIMARY KEY (estate, kind, key),
            UNIQUE (estate, pool, slot)
        );
        """,
    ),
    Migration(
        3,
        "device configuration archive and devices needing attention",
        """
        CREATE TABLE config_versions (
            device TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            taken TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            path TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            PRIMARY KEY (device, version)
        );
        CREATE TABLE device_attention (
            id INTEGER PRIMARY KEY,
            device TEXT NOT NULL,
            noted TEXT NOT NULL,
            operation TEXT NOT NULL,
            last_applied TEXT,
            detail TEXT NOT NULL,
            resolved TEXT
        );
        CREATE INDEX device_attention_open ON device_attention (device) WHERE resolved IS NULL;
        """,
    ),
    Migration(
        4,
        "extranet verification: the latest result per site",
        """
        CREATE TABLE verify_results (
            estate TEXT NOT NULL,
            site TEXT NOT NULL,
            checked TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('both-up', 'degraded', 'down', 'unknown')),
            down_planes TEXT NOT NULL CHECK (json_valid(down_planes)),
            routed TEXT CHECK (routed IS NULL OR json_valid(routed)),
            detail TEXT NOT NULL CHECK (json_valid(detail)),
            PRIMARY KEY (estate, site)
        );
        """,
    ),
    Migration(
        5,
        "migration assessments: the latest per system",
        """
        CREATE TABLE assessments (
            system TEXT PRIMARY KEY,
            assessed TEXT NOT NULL,
            document TEXT NOT NULL CHECK (json_valid(document))
        );
        """,
    ),
    Migration(
        6,
        "migration lifecycle: the current state per system and the append-only history of its changes",
        """
        CREATE TABLE lifecycle (
            system TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            changed TEXT NOT NULL
        );
        CREATE TABLE lifecycle_history (
            id INTEGER PRIMARY KEY,
            system TEXT NOT NULL,
            source TEXT NOT NULL,
            event TEXT NOT NULL,
            target TEXT NOT NULL,
            changed TEXT NOT NULL,
            operator TEXT NOT NULL,
            details TEXT NOT NULL CHECK (json_valid(details))
        );
        CREATE INDEX lifecycle_history_system ON lifecycle_history (system, id);
        CREATE TRIGGER lifecycle_history_no_update BEFORE UPDATE ON lifecycle_history
        BEGIN SELECT RAISE(ABORT, 'lifecycle_history is append-only'); END;
        CREATE TRIGGER lifecycle_history_no_delete BEFORE DELETE ON lifecycle_history
        BEGIN SELECT RAISE(ABORT, 'lifecycle_history is append-only'); END;
        """,
    ),
    Migration(
        7,
        "migration runs: each playbook run, its steps, the copies' manifests and the service records switched",
        """
        CREATE TABLE migration_runs (
            id INTEGER PRIMARY KEY,
            system TEXT NOT NULL,
            verb TEXT NOT NULL,
            started TEXT NOT NULL,
            finished TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'interrupted')),
            pid INTEGER NOT NULL,
            pid_started TEXT NOT NULL,
            artifacts TEXT NOT NULL,
            detail TEXT NOT NULL CHECK (json_valid(detail))
        );
        CREATE INDEX migration_runs_system ON migration_runs (system, id);
        CREATE TABLE migration_steps (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES migration_runs (id),
            host TEXT NOT NULL,
            task TEXT NOT NULL,
            outcome TEXT NOT NULL,
            at TEXT NOT NULL,
            detail TEXT NOT NULL CHECK (json_valid(detail))
        );
        CREATE INDEX migration_steps_run ON migration_steps (run, id);
        CREATE TABLE migration_copies (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES migration_runs (id),
            system TEXT NOT NULL,
            taken TEXT NOT NULL,
            host TEXT NOT NULL,
            files INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            bytes_sent INTEGER NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            source_sha256 TEXT NOT NULL,
            manifest TEXT NOT NULL
        );
        CREATE INDEX migration_copies_system ON migration_copies (system, id);
        CREATE TABLE service_records (
            system TEXT PRIMARY KEY,
            name TEXT,
            addresses TEXT NOT NULL CHECK (json_valid(addresses)),
            serving TEXT NOT NULL CHECK (serving IN ('source', 'target')),
            switched TEXT NOT NULL
        );
        """,
    ),
    Migration(
        8,
        "extranet changes awaiting confirmation (net push --confirm-within): the configuration to go back to",
        """
        CREATE TABLE pending_confirmations (
            id INTEGER PRIMARY KEY,
            push TEXT NOT NULL,
            estate TEXT NOT NULL,
            device TEXT NOT NULL,
            opened TEXT NOT NULL,
            committed TEXT,
            deadline TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('committing', 'pending', 'confirmed', 'reverted', 'push-failed')),
            before_version INTEGER,
            before_config TEXT NOT NULL,
            made_before TEXT,
            archive TEXT NOT NULL,
            sites TEXT NOT NULL CHECK (json_valid(sites)),
            baseline TEXT NOT NULL CHECK (json_valid(baseline)),
            closed TEXT,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX pending_confirmations_open ON pending_confirmations (device) WHERE closed IS NULL;
        """,
    ),
    Migration(
        9,
        "the backup catalog: every copy of a protected volume at the backup cloud, its verifications and the "
        "restore drills",
        """
        CREATE TABLE backup_copies (
            id INTEGER PRIMARY KEY,
            system TEXT NOT NULL,
            node TEXT NOT NULL,
            volume TEXT NOT NULL,
            volume_id TEXT NOT NULL,
            backup_node TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('full', 'incremental')),
            state TEXT NOT NULL CHECK (state IN ('snapshotting', 'backing-up', 'copying', 'importing', 'good',
                                                 'failed', 'pruned')),
            started TEXT NOT NULL,
            finished TEXT,
            snapshot_id TEXT,
            backup_id TEXT,
            parent_id TEXT,
            container TEXT,
            size_bytes INTEGER NOT NULL DEFAULT 0,
            stored_bytes INTEGER NOT NULL DEFAULT 0,
            bytes_sent INTEGER NOT NULL DEFAULT 0,
            manifest_sha256 TEXT,
            manifest TEXT CHECK (manifest IS NULL OR json_valid(manifest)),
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX backup_copies_volume ON backup_copies (system, node, volume, id);
        CREATE TABLE backup_verifies (
            id INTEGER PRIMARY KEY,
            copy INTEGER NOT NULL REFERENCES backup_copies (id),
            system TEXT NOT NULL,
            checked TEXT NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('ok', 'corrupt', 'missing')),
            sample REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX backup_verifies_system ON backup_verifies (system, id);
        CREATE TABLE backup_drills (
            id INTEGER PRIMARY KEY,
            system TEXT NOT NULL,
            backup_node TEXT NOT NULL,
            project TEXT NOT NULL,
            started TEXT NOT NULL,
            ended TEXT,
            rto_s REAL,
            result TEXT NOT NULL CHECK (result IN ('running', 'passed', 'failed')),
            copies TEXT NOT NULL CHECK (json_valid(copies)),
            checks TEXT NOT NULL CHECK (json_valid(checks)),
            cleaned INTEGER NOT NULL DEFAULT 0,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX backup_drills_system ON backup_drills (system, id);
        """,
    ),
)
"""Every migration this version of nxgov knows, oldest first, versions 1, 2, 3, ..."""


class UnusableStoreError(StateError):
    """``--state`` names something that is not a store this nxgov can use (damaged, or from a newer nxgov): exit 2."""

    exit_code = ExitCode.BAD_INPUT


def busy_timeout() -> float:
    """Seconds a writer waits for another writer: ``NXGOV_STATE_BUSY_TIMEOUT``, else :data:`BUSY_TIMEOUT_S`."""
    text = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not text:
        return BUSY_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 86400:
        raise UnusableStoreError(f"{BUSY_TIMEOUT_ENV}={text!r} is not a number of seconds",
                                 f"set {BUSY_TIMEOUT_ENV} to e.g. 30, or unset it")
    return value


class StateStore:
    """An open state store. Use :meth:`open`; close it, or use it as a context manager.

    A store belongs to the thread that opened it (SQLite connections are not shared across threads).
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, read_only: bool = False) -> None:
        self.path = path
        self._connection = connection
        self.read_only = read_only
        """Opened read-only because the operating system refuses writes; :meth:`transaction` fails."""

    @classmethod
    def open(cls, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> StateStore:
        """Open (creating if need be) the store at ``path`` and bring its schema up to date."""
        _check_sequence(migrations)
        writable = _create_private(path)
        connection = _connect(path, writable)
        store = cls(path, connection, read_only=not writable)
        try:
            store._check_integrity()
            store._migrate(migrations)
        except sqlite3.Error as error:
            connection.close()
            raise _sqlite_error(path, error) from error
        except BaseException:
            connection.close()
            raise
        return store

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, in autocommit mode: group writes with :meth:`transaction`."""
        return self._connection

    @property
    def schema_version(self) -> int:
        row = self._connection.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: taken with ``BEGIN IMMEDIATE`` (waiting up to the busy timeout for other
        writers), committed when the block ends, rolled back if it raises. Transactions do not nest.
        An SQLite failure inside the block (read-only, damaged, disk full) is raised as a :class:`StateError`."""
        if self.read_only:
            raise _read_only_error(self.path)
        self._execute_control("BEGIN IMMEDIATE")
        try:
            yield self._connection
            self._execute_control("COMMIT")
        except BaseException as error:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error) and _environmental(error):
                raise _sqlite_error(self.path, error) from error
            raise

    def record_run_start(self, command: str) -> int:
        """Note that ``command`` started; returns the run id for :meth:`record_run_end`."""
        with self.transaction() as connection:
            cursor = connection.execute("INSERT INTO runs (command, started) VALUES (?, ?)", (command, _now()))
        if cursor.lastrowid is None:
            raise StateError(f"the state store {self.path} did not record the start of {command!r}")
        return cursor.lastrowid

    def record_run_end(self, run_id: int, result: str, summary: dict[str, Any]) -> None:
        """Note how run ``run_id`` ended; ``summary`` is stored as JSON."""
        with self.transaction() as connection:
            cursor = connection.execute(
                "UPDATE runs SET finished = ?, result = ?, summary = ? WHERE id = ?",
                (_now(), result, json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str), run_id),
            )
        if cursor.rowcount != 1:
            raise StateError(f"the state store {self.path} has no run {run_id} to finish")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _check_integrity(self) -> None:
        """A cheap whole-file check (``PRAGMA quick_check``, milliseconds for a store of a few MB), so a damaged
        store is reported once, at open, naming the file, instead of failing some later query."""
        found = self._connection.execute("PRAGMA quick_check(1)").fetchone()
        if found is None or str(found[0]) != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {found[0] if found else 'no answer'}")

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        known = migrations[-1].version if migrations else 0
        current = self.schema_version
        if current > known:
            raise UnusableStoreError(
                f"the state store {self.path} was made by a newer nxgov: it is at schema version {current}, "
                f"but this nxgov only knows versions up to {known}; nothing was changed",
                "upgrade nxgov to the version that wrote this store, or point --state or NXGOV_STATE at another store",
            )
        for migration in migrations:
            if migration.version > current:
                self._apply(migration)

    def _apply(self, migration: Migration) -> None:
        """Apply one migration unless another process got there first (checked under the write lock)."""
        with self.transaction() as connection:
            if self.schema_version >= migration.version:
                return
            try:
                for statement in _statements(migration.sql):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {migration.version:d}")
            except sqlite3.Error as error:
                raise StateError(
                    f"migration {migration.version} ({migration.description}) of the state store {self.path} "
                    f"failed: {error}; the store is unchanged at schema version {migration.version - 1}",
                    "this is a bug in nxgov or a damaged store: report it with the message above, "
                    "and keep a copy of the store file",
                ) from error

    def _execute_control(self, statement: str) -> None:
        """BEGIN/COMMIT, turning a lock wait that ran out into an error an operator can act on."""
        try:
            self._connection.execute(statement)
        except sqlite3.Error as error:
            raise _sqlite_error(self.path, error) from error


_DAMAGED = ("not a database", "malformed", "encrypted", "corrupt")


def _sqlite_error(path: Path, error: sqlite3.Error) -> StateError:
    """Word an SQLite failure for the operator: another writer held on too long (exit 1, retry), the file
    is read-only (exit 1, make it writable), or the file is not a usable store (exit 2, move it aside)."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return StateError(
            f"the state store {path} is locked by another nxgov process (waited {busy_timeout():g} s: {text}); "
            "nothing was changed",
            "another nxgov process is writing to it: retry when it has finished",
        )
    if "readonly" in text or "read-only" in text:
        return _read_only_error(path)
    if any(word in text for word in _DAMAGED):
        return UnusableStoreError(
            f"{path} is not a usable nxgov state store ({text}); nothing was changed",
            f"if this is the right file, it is damaged: move it aside (mv {path} {path}.damaged) and restore it "
            f"from a backup, or let nxgov start a new one (stored IPv6 numbering and device history start over); "
            f"else {_WHERE_HINT}",
        )
    return StateError(
        f"{path} is not a usable nxgov state store ({text})",
        f"{_WHERE_HINT}; if this file is damaged, move it aside and nxgov will start a new one",
    )


def _environmental(error: sqlite3.Error) -> bool:
    """Whether an SQLite failure comes from the store's file or its users (locks, permissions, damage, disk),
    not from nxgov's own SQL (those stay exceptions with a traceback: they are bugs)."""
    text = str(error)
    return any(word in text for word in ("locked", "busy", "readonly", "read-only", "disk", *_DAMAGED))


def _read_only_error(path: Path) -> StateError:
    return StateError(
        f"the state store {path} is read-only: nxgov may read it but not write it; nothing was changed",
        f"make it writable for this user (chmod u+w {path}; lsattr/chattr -i if it is immutable; a read-only "
        "mount must be remounted read-write), or point --state or NXGOV_STATE at a writable store",
    )


def _connect(path: Path, writable: bool = True) -> sqlite3.Connection:
    """Connect and set the pragmas, proving on the way that the file is an SQLite database.

    A store the operating system will not let us write is opened read-only (and must already use WAL)."""
    timeout = busy_timeout()
    try:
        if writable:
            connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        else:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            connection = sqlite3.connect(uri, timeout=timeout, isolation_level=None, uri=True)
    except sqlite3.Error as error:
        raise StateError(f"cannot open the state store {path}: {error}", _WHERE_HINT) from error
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000):d}")
        if writable:
            _enable_wal(connection, path, timeout)
        else:
            connection.execute("PRAGMA schema_version").fetchone()
        connection.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as error:
        connection.close()
        raise _sqlite_error(path, error) from error
    except StateError:
        connection.close()
        raise
    return connection


def _enable_wal(connection: sqlite3.Connection, path: Path, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Switch to WAL, retrying while another process holds the file.

    SQLite answers a journal-mode change with "database is locked" at once, without waiting out the
    busy timeout, when another connection is busy with the file (as happens when several processes
    open a fresh store together), so the wait is done here.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    if str(mode).lower() != "wal":
        raise StateError(
            f"the state store {path} cannot use write-ahead logging (SQLite kept journal mode {mode!r})",
            "put the state store on a local filesystem (not NFS or SMB) with --state or NXGOV_STATE",
        )


_READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def _create_private(path: Path) -> bool:
    """Create the directory (0700) and an empty store file (0600); SQLite gives its WAL files the same mode.

    Returns whether the store can be written: False for an existing file the operating system only lets
    us read (it is then opened read-only)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise UnusableStoreError(
            f"cannot create the state store {path}: {_first_file_ancestor(path) or path.parent} is a file, "
            "not a directory; nothing was changed",
            _WHERE_HINT,
        ) from error
    except OSError as error:
        raise StateError(f"cannot create the state store {path}: {error.strerror or error}", _WHERE_HINT) from error
    if path.is_dir():
        raise UnusableStoreError(f"the state store {path} is a directory; nothing was changed",
                                 f"{_WHERE_HINT} (a file), e.g. {path / 'state.db'}")
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as error:
        if error.errno in _READ_ONLY_ERRNOS and os.access(path, os.F_OK) and _readable(path):
            return False
        raise StateError(f"cannot create the state store {path}: {error.strerror or error}", _WHERE_HINT) from error
    return True


def _readable(path: Path) -> bool:
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError:
        return False
    return path.is_file()


def _first_file_ancestor(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` that exists and is not a directory (the one in the way)."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def _check_sequence(migrations: Sequence[Migration]) -> None:
    """Migrations must be numbered 1, 2, 3, ... in order: a gap would silently skip schema."""
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1..n in order, got {versions}")


def _statements(sql: str) -> Iterator[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""
    if pending[:-1].strip():
        raise sqlite3.OperationalError(f"incomplete SQL statement: {pending[:-1].strip()[:80]!r}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
