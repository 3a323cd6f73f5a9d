"""Processes nxgov started: telling one apart from a later one that got its PID (the kernel's start time of a
PID), and ending the ones a killed nxgov left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def end_leftovers(folder: Path, timeout: float = 10.0, name: str = "") -> list[int]:
    """Stop processes nxgov started and a killed nxgov left running (ansible-playbook and its SSH sessions, SSH
    tunnels, rsync copies): those with ``folder/name`` on their command line, each signalled only while it is the
    same process (PID and start time): SIGTERM, then SIGKILL after ``timeout`` s. Returns their PIDs."""
    mark = str(folder).encode() + b"/" + name.encode()
    found: dict[int, int | None] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if mark in (entry / "cmdline").read_bytes():
                found[int(entry.name)] = process_start_time(int(entry.name))

    def alive() -> list[int]:
        return [pid for pid, started in found.items() if started is not None and process_start_time(pid) == started]

    for pid in alive():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        time.sleep(0.1)
    for pid in alive():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return sorted(found)
