"""The state store's answers to a damaged, locked, newer, read-only or misplaced store (issue 9 §3)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nxgov.errors import ExitCode, StateError
from nxgov.state import MIGRATIONS, StateStore, UnusableStoreError


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    with StateStore.open(path) as store, store.transaction() as connection:
        connection.execute("INSERT INTO meta (key, value) VALUES ('kept', 'yes')")
    return path


@pytest.fixture
def quick_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("NXGOV_STATE_BUSY_TIMEOUT", "0.5")
    return 0.5


def _meta(path: Path) -> list[tuple[str, str]]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
    finally:
        connection.close()


def test_garbage_is_bad_input_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    garbage = bytes(range(256)) * 8
    path.write_bytes(garbage)
    with pytest.raises(UnusableStoreError) as caught:
        StateStore.open(path)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert str(path) in caught.value.message and "not a usable nxgov state store" in caught.value.message
    assert caught.value.hint is not None and "move it aside" in caught.value.hint
    assert path.read_bytes() == garbage


def test_damaged_pages_are_found_at_open(store_path: Path) -> None:
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnusableStoreError) as caught:
        StateStore.open(store_path)
    assert caught.value.exit_code == ExitCode.BAD_INPUT and "malformed" in caught.value.message


def test_newer_schema_is_bad_input_asking_for_an_upgrade(store_path: Path) -> None:
    connection = sqlite3.connect(store_path, isolation_level=None)
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    connection.close()
    with pytest.raises(UnusableStoreError) as caught:
        StateStore.open(store_path)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert "newer nxgov" in caught.value.message and str(store_path) in caught.value.message
    assert caught.value.hint is not None and "upgrade nxgov" in caught.value.hint


@pytest.fixture
def locked(store_path: Path) -> Iterator[Path]:
    """``store_path`` with another process holding ``BEGIN EXCLUSIVE`` on it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\n"
         "print('locked', flush=True)\nsys.stdin.read()\n", str(store_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield store_path
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_locked_store_waits_the_bounded_time_then_says_retry(locked: Path, quick_timeout: float) -> None:
    with StateStore.open(locked) as store:
        assert _meta(locked) == [("kept", "yes")]  # readers are not blocked (WAL)
        started = time.monotonic()
        with pytest.raises(StateError) as caught, store.transaction() as connection:
            connection.execute("INSERT INTO meta (key, value) VALUES ('lost', 'no')")
        waited = time.monotonic() - started
    assert quick_timeout * 0.8 <= waited < quick_timeout + 5
    assert caught.value.exit_code == ExitCode.FAILED
    assert "locked by another nxgov process" in caught.value.message and str(locked) in caught.value.message
    assert caught.value.hint is not None and "retry" in caught.value.hint


def test_busy_timeout_must_be_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXGOV_STATE_BUSY_TIMEOUT", "soon")
    with pytest.raises(UnusableStoreError, match="NXGOV_STATE_BUSY_TIMEOUT"):
        StateStore.open(tmp_path / "state.db")


@pytest.fixture
def read_only(store_path: Path) -> Iterator[Path]:
    """``store_path`` that the OS will not let us write: immutable for root, mode 0400 otherwise."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(store_path)], check=True)
    else:
        store_path.chmod(0o400)
    try:
        yield store_path
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(store_path)], check=True)
        else:
            store_path.chmod(0o600)


def test_read_only_store_can_be_read_and_refuses_writes_with_the_fix(read_only: Path) -> None:
    before = read_only.read_bytes()
    with StateStore.open(read_only) as store:
        assert store.read_only
        assert store.connection.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone() == ("yes",)
        with pytest.raises(StateError) as caught, store.transaction():
            pass
    assert caught.value.exit_code == ExitCode.FAILED
    assert "read-only" in caught.value.message and str(read_only) in caught.value.message
    assert caught.value.hint is not None and "writable" in caught.value.hint
    assert read_only.read_bytes() == before


def test_read_only_store_that_needs_a_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    StateStore.open(path, MIGRATIONS[:1]).close()
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o400)
    try:
        with pytest.raises(StateError) as caught:
            StateStore.open(path)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    assert caught.value.exit_code == ExitCode.FAILED and "read-only" in caught.value.message


def test_parent_that_is_a_file_is_bad_input_naming_it(tmp_path: Path) -> None:
    in_the_way = tmp_path / "state"
    in_the_way.write_text("not a directory\n", encoding="utf-8")
    with pytest.raises(UnusableStoreError) as caught:
        StateStore.open(in_the_way / "nested" / "state.db")
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert f"{in_the_way} is a file" in caught.value.message
    assert in_the_way.read_text(encoding="utf-8") == "not a directory\n"


def test_sql_bugs_inside_a_transaction_stay_bugs(store_path: Path) -> None:
    """Only what comes from the file or other processes is reworded; nxgov's own SQL errors are not hidden."""
    with StateStore.open(store_path) as store:
        with pytest.raises(sqlite3.OperationalError, match="no such table"), store.transaction() as connection:
            connection.execute("INSERT INTO no_such_table VALUES (1)")
        assert _meta(store_path) == [("kept", "yes")]
