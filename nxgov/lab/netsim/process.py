"""The lab manager's handle on a simulator process: start it in the background, stop it by PID.

``NetsimProcess.start`` runs ``python -m nxgov.lab.netsim`` with the current interpreter, records
its PID in the lab ledger (component ``netsim``) before waiting, and returns once the ready file
names that PID. ``stop`` signals only the process it started (PID and kernel start time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nxgov
from nxgov.errors import LabError
from nxgov.lab.ledger import Entry, Ledger, process_alive, stop_process
from nxgov.lab.netsim.store import READY
from nxgov.processes import process_start_time

COMPONENT = "netsim"


@dataclass
class NetsimProcess:
    """A running simulator: ``pid`` (with its kernel ``start_time``) serving from ``state_dir``."""

    pid: int
    start_time: int | None
    state_dir: Path
    ledger: Ledger | None = None
    _entry: Entry | None = field(default=None, repr=False)
    _child: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls, spec_path: Path, state_dir: Path, log_path: Path, ledger: Ledger | None = None, timeout: float = 30.0
    ) -> NetsimProcess:
        """Start the simulator; return once every device listens (``LabError`` with the log's tail if not)."""
        ready = state_dir / READY
        state_dir.mkdir(parents=True, exist_ok=True)
        ready.unlink(missing_ok=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        root = str(Path(nxgov.__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        argv = [sys.executable, "-m", "nxgov.lab.netsim", "--spec", str(spec_path), "--state-dir", str(state_dir)]
        with open(log_path, "ab") as log:
            child = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
            )
        handle = cls(child.pid, process_start_time(child.pid), state_dir, ledger, _child=child)
        if ledger is not None:
            handle._entry = ledger.add_process(COMPONENT, COMPONENT, child.pid, state_dir=str(state_dir))
        deadline = time.monotonic() + timeout
        while _ready_pid(ready) != child.pid:
            if child.poll() is not None or time.monotonic() > deadline:
                handle.stop()
                tail = log_path.read_text(errors="replace")[-2000:].strip()
                raise LabError(f"the network simulator did not come up:\n{tail}", f"see {log_path}")
            time.sleep(0.05)
        return handle

    def alive(self) -> bool:
        return process_alive(self.pid, self.start_time)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (SIGKILL after ``timeout``) this simulator, and drop it from the ledger."""
        stop_process(self.pid, self.start_time, timeout)
        if self._child is not None:
            self._child.wait()
        if self.ledger is not None and self._entry is not None:
            self.ledger.discard(self._entry)
            self._entry = None


def _ready_pid(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
