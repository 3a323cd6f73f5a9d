"""What the lab made, recorded as it is made, so teardown removes exactly that and nothing else.

Every process, network namespace, link and mount the lab creates is appended to a JSON ledger in
the lab directory *before* it is used. ``lab down`` walks the ledger in reverse and removes each
entry by its recorded identity: a process by PID *and* start time (so a reused PID is never
signalled), a namespace or link by its exact name. Nothing is ever found by pattern.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nxgov.errors import LabError
from nxgov.processes import process_start_time


@dataclass(frozen=True)
class Entry:
    """One thing the lab made. ``kind`` is process, netns, link or mount."""

    kind: str
    name: str
    component: str
    pid: int | None = None
    start_time: int | None = None
    netns: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def process_tree(roots: set[int]) -> dict[int, int]:
    """``roots`` and all their living descendants, each with the CPU it has used (clock ticks, user + system)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parent[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])

    def inside(pid: int) -> bool:
        while pid > 1:
            if pid in roots:
                return True
            pid = parent.get(pid, 0)
        return False

    return {pid: t for pid, t in ticks.items() if inside(pid)}


def process_alive(pid: int, start_time: int | None) -> bool:
    current = process_start_time(pid)
    return current is not None and (start_time is None or current == start_time)


class Ledger:
    """The lab's record of what it made (``<lab dir>/ledger.json``), safe for several writers."""

    def __init__(self, lab_dir: Path) -> None:
        self.path = lab_dir / "ledger.json"
        self._lock_path = lab_dir / "ledger.lock"

    @contextmanager
    def _locked(self) -> Iterator[list[Entry]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            yield entries
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps([asdict(e) for e in entries], indent=1))
            os.replace(tmp, self.path)

    def _read(self) -> list[Entry]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text() or "[]")
        except json.JSONDecodeError as exc:
            raise LabError(
                f"the lab ledger {self.path} is corrupt ({exc})",
                "inspect it by hand; it lists the processes, namespaces and links the lab made",
            ) from exc
        return [Entry(**item) for item in raw]

    def entries(self, component: str | None = None) -> list[Entry]:
        return [e for e in self._read() if component is None or e.component == component]

    def add(self, entry: Entry) -> Entry:
        with self._locked() as entries:
            entries.append(entry)
        return entry

    def add_process(self, component: str, name: str, pid: int, **info: Any) -> Entry:
        return self.add(Entry("process", name, component, pid=pid, start_time=process_start_time(pid), info=info))

    def discard(self, entry: Entry) -> None:
        with self._locked() as entries:
            if entry in entries:
                entries.remove(entry)

    def release(self, component: str | None = None, timeout: float = 10.0) -> list[Entry]:
        """Remove what was recorded (newest first) for ``component`` (all when None); return what went."""
        removed: list[Entry] = []
        for entry in reversed(self.entries(component)):
            remove(entry, timeout)
            self.discard(entry)
            removed.append(entry)
        return removed


def remove(entry: Entry, timeout: float = 10.0) -> None:
    """Undo one ledger entry. Already-gone things are fine: teardown must work after a failed up."""
    if entry.kind == "process" and entry.pid is not None:
        stop_process(entry.pid, entry.start_time, timeout)
    elif entry.kind == "netns":
        _run(["ip", "netns", "delete", entry.name])
    elif entry.kind == "link":
        _run(["ip", *(["-n", entry.netns] if entry.netns else []), "link", "delete", entry.name])
    elif entry.kind == "mount":
        _run(["umount", "--lazy", entry.name])
    else:
        raise LabError(f"the lab ledger has an entry of unknown kind {entry.kind!r}: {entry}")


def stop_process(pid: int, start_time: int | None, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL: only if ``pid`` is still the process that was recorded."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not process_alive(pid, start_time):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            _reap(pid)
            if not process_alive(pid, start_time):
                return
            time.sleep(0.05)


def _reap(pid: int) -> None:
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=False, capture_output=True)
