"""The state store: migrations (fresh, concurrent, upgrade, failing, too new), corruption, WAL writers."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import nxgov
from nxgov.errors import StateError
from nxgov.state import MIGRATIONS, Migration, StateStore

REPO = Path(nxgov.__file__).resolve().parent.parent

V1 = Migration(1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")
V2 = Migration(
    2,
    "item owners",
    """
    ALTER TABLE items ADD COLUMN owner TEXT NOT NULL DEFAULT 'nobody';
    CREATE TABLE applied (migration INTEGER NOT NULL); -- counts how often this migration ran; a ';' in a comment
    INSERT INTO applied VALUES (2);
    """,
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.db"


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def run_children(script: str, args: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Start one process per argument list at once and wait for all; each starts work at the same instant."""
    start_at = str(time.time() + 1.0)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, start_at, *child_args],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for child_args in args
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=90)
        results.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return results


def test_fresh_store_is_at_the_latest_version(db: Path) -> None:
    with StateStore.open(db) as store:
        assert store.schema_version == MIGRATIONS[-1].version
        tables = {row[0] for row in store.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"meta", "runs"} <= tables
        assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_runs_are_recorded(db: Path) -> None:
    with StateStore.open(db) as store:
        first = store.record_run_start("cloud apply")
        second = store.record_run_start("net push")
        store.record_run_end(first, "changed", {"changed": 3, "targets": ["yinchuan/nxdrc"], "说明": "宁夏"})
        assert first != second
    with StateStore.open(db) as store:
        rows = store.connection.execute("SELECT id, command, started, finished, result, summary FROM runs").fetchall()
    assert rows[0][1] == "cloud apply" and rows[0][3] is not None and rows[0][4] == "changed"
    assert json.loads(rows[0][5]) == {"changed": 3, "targets": ["yinchuan/nxdrc"], "说明": "宁夏"}
    assert rows[1][3:] == (None, None, None)


def test_finishing_an_unknown_run_is_an_error(db: Path) -> None:
    with StateStore.open(db) as store, pytest.raises(StateError, match="no run 42"):
        store.record_run_end(42, "ok", {})


def test_upgrade_preserves_data(db: Path) -> None:
    with StateStore.open(db, [V1]) as store:
        with store.transaction() as connection:
            connection.execute("INSERT INTO items (name) VALUES ('yinchuan'), ('zhongwei')")
        assert store.schema_version == 1
    with StateStore.open(db, [V1, V2]) as store:
        assert store.schema_version == 2
        rows = store.connection.execute("SELECT name, owner FROM items ORDER BY id").fetchall()
        assert rows == [("yinchuan", "nobody"), ("zhongwei", "nobody")]
    with StateStore.open(db, [V1, V2]) as store:
        assert store.connection.execute("SELECT count(*) FROM applied").fetchone()[0] == 1


def test_failing_migration_rolls_back_to_the_previous_version(db: Path) -> None:
    broken = Migration(
        2,
        "half-broken",
        "CREATE TABLE partial (x INTEGER); INSERT INTO items (name) VALUES ('ghost'); INSERT INTO nowhere VALUES (1);",
    )
    with StateStore.open(db, [V1]) as store, store.transaction() as connection:
        connection.execute("INSERT INTO items (name) VALUES ('kept')")
    with pytest.raises(StateError, match=r"migration 2 \(half-broken\)") as raised:
        StateStore.open(db, [V1, broken])
    assert "schema version 1" in raised.value.message
    with StateStore.open(db, [V1]) as store:
        assert store.schema_version == 1
        assert store.connection.execute("SELECT name FROM items").fetchall() == [("kept",)]
        tables = {row[0] for row in store.connection.execute("SELECT name FROM sqlite_master")}
        assert "partial" not in tables


def test_store_newer_than_the_code_is_refused(db: Path) -> None:
    StateStore.open(db, [V1, V2]).close()
    with pytest.raises(StateError, match="schema version 2") as raised:
        StateStore.open(db, [V1])
    assert raised.value.hint is not None and "upgrade nxgov" in raised.value.hint


@pytest.mark.parametrize("content", [b"this is a text file, not a database\n" * 10, os.urandom(8192)])
def test_corrupt_file_is_refused_with_a_hint(db: Path, content: bytes) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    with pytest.raises(StateError) as raised:
        StateStore.open(db)
    assert str(db) in raised.value.message
    assert raised.value.hint is not None and "--state" in raised.value.hint and "NXGOV_STATE" in raised.value.hint


def test_unusable_location_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StateError, match="cannot create"):
        StateStore.open(tmp_path / "file" / "state.db")


def test_transaction_rolls_back_on_error(db: Path) -> None:
    with StateStore.open(db) as store:
        with pytest.raises(RuntimeError), store.transaction() as connection:
            connection.execute("INSERT INTO meta VALUES ('k', 'v')")
            raise RuntimeError("boom")
        assert store.connection.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
        assert not store.connection.in_transaction


def test_misnumbered_migrations_are_a_programming_error(db: Path) -> None:
    with pytest.raises(ValueError, match="numbered"):
        StateStore.open(db, [V2])


OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nxgov.state import Migration, StateStore
    start_at, path = float(sys.argv[1]), Path(sys.argv[2])
    migrations = [
        Migration(1, "counter", "CREATE TABLE applied (migration INTEGER NOT NULL); INSERT INTO applied VALUES (1);"),
        Migration(2, "again", "INSERT INTO applied VALUES (2);"),
        Migration(3, "slow", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
                             "INSERT INTO applied SELECT 3 FROM n WHERE i = 1;"),
    ]
    while time.time() < start_at:
        time.sleep(0.001)
    with StateStore.open(path, migrations) as store:
        print(store.schema_version)
    """
)


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_opens_apply_each_migration_once(db: Path, processes: int) -> None:
    results = run_children(OPENER, [[str(db)]] * processes)
    assert [(r.returncode, r.stdout.strip(), r.stderr) for r in results] == [(0, "3", "")] * processes
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT migration FROM applied ORDER BY rowid").fetchall() == [(1,), (2,), (3,)]


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nxgov.state import StateStore
    start_at, path, name = float(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    with StateStore.open(path) as store:
        while time.time() < start_at:
            time.sleep(0.001)
        for index in range(150):
            run_id = store.record_run_start(f"{name} {index}")
            store.connection.execute("SELECT count(*) FROM runs").fetchone()
            store.record_run_end(run_id, "ok", {"index": index})
    """
)


def test_concurrent_writers_do_not_hit_database_is_locked(db: Path) -> None:
    StateStore.open(db).close()
    results = run_children(WRITER, [[str(db), f"writer{n}"] for n in range(4)])
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * 4
    with StateStore.open(db) as store:
        counts = store.connection.execute("SELECT count(*), count(finished) FROM runs").fetchone()
    assert counts == (600, 600)
