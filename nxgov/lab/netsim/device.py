"""One simulated device's state, shared by all its SSH sessions.

Persistence models a real router: the running configuration survives SSH reconnects (it lives in
the process) and is mirrored to the state dir on every change for inspection; the saved
configuration changes only on ``save``. When the simulator process starts — a reboot — running
is loaded from saved, so unsaved changes are lost exactly as on a power cycle.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nxgov.lab.netsim.config import Block, render
from nxgov.lab.netsim.interfaces import Interfaces, LogicalType
from nxgov.lab.netsim.spec import DeviceSpec
from nxgov.lab.netsim.store import DeviceStore


@dataclass(frozen=True)
class Profile:
    """What a platform fixes outside its dialogue: defaults, interface types, section order."""

    default_sysname: str
    logical: tuple[LogicalType, ...]
    fixed_interfaces: tuple[str, ...]
    sections: tuple[str, ...]
    preamble: tuple[str, ...]


class Device:
    def __init__(self, spec: DeviceSpec, profile: Profile, state_dir: Path) -> None:
        self.spec = spec
        self.profile = profile
        self.interfaces = Interfaces(spec.physical_ports() + profile.fixed_interfaces, profile.logical)
        self.lock = threading.RLock()
        self.sessions = 0
        self._store = DeviceStore(state_dir, spec.name)
        self.saved = self._store.load("saved") or self._factory()
        self.running = copy.deepcopy(self.saved)
        self._store.write("running", self.running, self.render(self.running))

    @property
    def sysname(self) -> str:
        return self.running.first("sysname") or self.profile.default_sysname

    def render(self, root: Block) -> list[str]:
        return render(root, self._order, self.profile.preamble)

    @contextmanager
    def change(self) -> Iterator[Block]:
        """Edit the running configuration; it is written to the state dir afterwards."""
        with self.lock:
            yield self.running
            self._store.write("running", self.running, self.render(self.running))

    def save(self) -> None:
        with self.lock:
            self.saved = copy.deepcopy(self.running)
            self._store.write("saved", self.saved, self.render(self.saved))

    def _factory(self) -> Block:
        """The configuration of a device fresh from the factory: its sysname and its ports."""
        root = Block("system", "", [f"sysname {self.spec.name}"])
        for name in self.interfaces.physical:
            root.enter("interface", f"interface {name}")
        return root

    def _order(self, item: str | Block) -> tuple[int, tuple[int, str, int]]:
        text = item if isinstance(item, str) else item.header
        matches = [(len(s), i) for i, s in enumerate(self.profile.sections) if text == s or text.startswith(s + " ")]
        rank = max(matches)[1] if matches else len(self.profile.sections)
        if isinstance(item, Block) and item.kind == "interface":
            return rank, self.interfaces.order(text.split(" ", 1)[1])
        return rank, (0, "", 0)
