"""A simulated device's data plane: the FRR router (zebra, staticd, bgpd, bfdd) in the device's own namespace.

The lab's extranet part makes the namespace, its daemons and its cabling (:mod:`nxgov.lab.frr`, a router
whose CLI is this simulator); the simulator configures it. The device translates its whole running
configuration (:meth:`Dataplane.desired`, :func:`~nxgov.lab.netsim.translate.translate`) and
:meth:`Dataplane.apply` sends FRR only the difference from what it sent before (:func:`changes`), through vtysh
on the router's sockets. FRR restarted (the extranet rebuilt: a new zebra PID) gets the whole configuration
again; FRR not running (the extranet down) gets nothing, and the ``display`` commands then show no session up.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nxgov.lab.netsim.config import Block
from nxgov.lab.netsim.spec import DataplaneSpec
from nxgov.lab.netsim.translate import FrrLine, translate

log = logging.getLogger("nxgov.lab.netsim")
VTYSH = "/usr/bin/vtysh"
_TIMEOUT = 20.0
_OPENERS = ("interface ", "router bgp ", "address-family ", "profile ")
_DROPPED_WHOLE = ("router bgp ", "profile ")
"""Contexts removed with one ``no``: their lines go with them (an interface or an address family stays)."""


def changes(old: Sequence[FrrLine], new: Sequence[FrrLine]) -> list[tuple[str, ...]]:
    """The commands (each: its contexts, then the command) that take FRR configured with ``old`` to ``new``:
    what ``new`` lacks removed first (innermost first; a BGP instance, a BFD profile or a neighbor at once),
    then what ``old`` lacks (a line dropped with its neighbor or instance is typed again)."""
    wanted = set(new)
    removed = [line for line in old if line not in wanted]
    gone = {(*line.context, line.line) for line in removed if line.line.startswith(_DROPPED_WHOLE)}
    peers = {(line.context[:1], line.line.split()[1]) for line in removed
             if line.line.startswith("neighbor ") and " remote-as " in line.line}

    def dropped(line: FrrLine) -> bool:
        inside = any(line.context[:depth] in gone for depth in range(1, len(line.context) + 1))
        words = line.line.split()
        peer = words[0] == "neighbor" and (line.context[:1], words[1]) in peers and words[2] != "remote-as"
        return inside or peer

    out: list[tuple[str, ...]] = []
    for line in reversed(removed):
        opener = line.line.startswith(_OPENERS) or line.line == "bfd"
        if dropped(line) or line.line.startswith("no ") or (opener and not line.line.startswith(_DROPPED_WHOLE)):
            continue
        negated = "no description" if line.line.startswith("description ") else f"no {line.line}"
        out.append((*line.context, negated))
    have = {line for line in old if not dropped(line)}
    out += [(*line.context, line.line) for line in new if line not in have]
    return out


def vtysh_args(commands: Iterable[tuple[str, ...]]) -> list[str]:
    """vtysh ``-c`` arguments typing ``commands`` in configuration mode, each from the top."""
    args = ["-c", "configure terminal"]
    for command in commands:
        for word in (*command, "end", "configure terminal"):
            args += ["-c", word]
    return args


class Dataplane:
    """The FRR of one simulated device. Whoever applies holds :attr:`lock` (one application at a time, in order)."""

    def __init__(self, spec: DataplaneSpec, ipv6_switches: bool, bfd_view: bool) -> None:
        self.spec = spec
        self.links = dict(spec.links)
        self.names = {linux: vendor for vendor, linux in spec.links}
        self.lock = threading.Lock()
        self._semantics = (ipv6_switches, bfd_view)
        self._applied: list[FrrLine] = []
        self._instance: str | None = None

    def desired(self, root: Block) -> list[FrrLine]:
        """What FRR must be configured with for the device configuration ``root``."""
        return translate(root, self.links, *self._semantics)

    def apply(self, desired: list[FrrLine]) -> None:
        """Configure FRR with ``desired`` (nothing when FRR is not running); the caller holds :attr:`lock`."""
        instance = self._running()
        if instance != self._instance:
            self._applied, self._instance = [], instance
        if instance is None:
            return
        commands = changes(self._applied, desired)
        if commands and not self._vtysh(vtysh_args(commands)):
            for command in commands:  # one by one, to name the line FRR refused
                if not self._vtysh(vtysh_args([command])):
                    log.warning("%s: FRR refused %s", self.spec.netns, " / ".join(command))
        self._applied = desired

    def current(self) -> bool:
        """True when FRR is the one the configuration was applied to (or, like it, not running)."""
        return self._running() == self._instance

    def show(self, command: str) -> dict[str, Any]:
        """A vtysh ``show ... json`` answer ({} when FRR is not running or answers no JSON)."""
        if self._running() is None:
            return {}
        done = self._run([VTYSH, "--vty_socket", self.spec.vty_dir, "-c", command])
        try:
            parsed = json.loads(done.stdout or "{}") if done.returncode == 0 else {}
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def _running(self) -> str | None:
        """The PID of the zebra serving the vty directory (None: FRR is not running there)."""
        vty = Path(self.spec.vty_dir)
        try:
            pid = (vty / "zebra.pid").read_text().strip()
        except OSError:
            return None
        return pid if (vty / "bgpd.vty").exists() and Path(f"/proc/{pid}").exists() else None

    def _vtysh(self, args: list[str]) -> bool:
        done = self._run([VTYSH, "--vty_socket", self.spec.vty_dir, *args])
        if done.returncode != 0:
            log.info("%s: vtysh: %s", self.spec.netns, (done.stdout + done.stderr).strip()[-300:])
        return done.returncode == 0

    @staticmethod
    def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return subprocess.CompletedProcess(argv, 1, "", str(exc))
