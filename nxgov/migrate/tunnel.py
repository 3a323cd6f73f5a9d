"""The reverse SSH tunnels a copy runs through: one per target, from the target's loopback to the legacy host's sshd.

``ssh -f -N -R 127.0.0.1:PORT:source:22 target``, started by nxgov before the copying playbook and ended after it,
whatever happened. It is its own SSH connection, apart from Ansible's: when the legacy host is cut off mid-copy,
rsync on the target gives up (``--timeout``) and Ansible's session ends, while the tunnel's connection, stuck
flushing to a host that no longer answers, is ended by nxgov (SIGTERM, then SIGKILL) instead of holding the run.
Each tunnel logs to ``<run folder>/tunnel-<target>.log`` (``ssh -E``), which also marks its command line, so the
tunnels of a run killed with nxgov are found and ended by the next run (:func:`nxgov.processes.end_leftovers`).
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from nxgov.errors import OperationError
from nxgov.processes import end_leftovers

PREFIX = "tunnel-"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


def command(ssh_args: Sequence[str], log: Path, target: str, user: str, key: Path, port: int, source: str,
            source_port: int) -> list[str]:
    """The tunnel's ssh command line (backgrounds itself once the forward is up: ``-f`` with ExitOnForwardFailure)."""
    host = f"[{source}]" if ":" in source else source
    return ["ssh", "-f", "-N", *ssh_args, "-o", "ExitOnForwardFailure=yes", "-o", "IdentitiesOnly=yes", "-i", str(key),
            "-E", str(log), "-R", f"127.0.0.1:{port}:{host}:{source_port}", f"{user}@{target}"]


@contextmanager
def tunnels(folder: Path, commands: dict[str, list[str]]) -> Iterator[None]:
    """Start every tunnel (name -> command), yield, then end them all (also when the body fails)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        for name, argv in commands.items():
            started = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                     timeout=START_TIMEOUT_S, check=False)
            if started.returncode != 0:
                raise OperationError(f"the SSH tunnel through {name} to the legacy host did not come up "
                                     f"(exit {started.returncode}): see {folder / (PREFIX + name + '.log')}",
                                     "check that the target allows TCP forwarding and that nothing else listens on "
                                     f"its loopback port ({shlex.join(argv[-2:-1])})")
        yield
    finally:
        end_leftovers(folder, STOP_TIMEOUT_S, PREFIX)
