"""One simulated device's state, shared by all its SSH sessions.

A device with a data plane (:class:`~nxgov.lab.netsim.dataplane.Dataplane`) has its running configuration
applied to it by :meth:`Device.sync`: by the simulator's follower thread a moment after a change (a push's
lines in a burst make one application), and before every state ``display`` command, which reads it
(:meth:`Device.frr`, :meth:`Device.ports`).

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
from typing import Any

from nxgov.lab.netsim.config import Block, render
from nxgov.lab.netsim.dataplane import Dataplane
from nxgov.lab.netsim.interfaces import Interfaces, LogicalType
from nxgov.lab.netsim.show import Port
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
    def __init__(self, spec: DeviceSpec, profile: Profile, state_dir: Path, dataplane: Dataplane | None = None) -> None:
        self.spec = spec
        self.profile = profile
        self.dataplane = dataplane
        self.interfaces = Interfaces(spec.physical_ports() + profile.fixed_interfaces, profile.logical)
        self.lock = threading.RLock()
        self.sessions = 0
        self._dirty = dataplane is not None
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
            self._dirty = True

    def sync(self) -> None:
        """Apply the running configuration to the data plane when it lags (changed since, or FRR started again)."""
        if self.dataplane is None:
            return
        with self.dataplane.lock:
            with self.lock:
                if not self._dirty and self.dataplane.current():
                    return
                self._dirty = False
                desired = self.dataplane.desired(self.running)
            self.dataplane.apply(desired)

    def frr(self, command: str) -> dict[str, Any]:
        """The data plane's JSON answer to a vtysh ``show`` command ({} without a data plane)."""
        if self.dataplane is None:
            return {}
        self.sync()
        return self.dataplane.show(command)

    def vendor_name(self, linux: str) -> str:
        """The device's name of a data-plane interface (``eth0`` -> ``GigabitEthernet0/0/0``, ``lo`` -> LoopBack0)."""
        names = self.dataplane.names if self.dataplane is not None else {}
        return names.get(linux) or ("LoopBack0" if linux == "lo" else linux)

    def ports(self) -> list[Port]:
        """Every interface the device has, in its order, with the data plane's link states."""
        links = {self.vendor_name(name): data.get("operationalStatus") == "up"
                 for name, data in self.frr("show interface json").items()}
        with self.lock:
            blocks = {b.header.split(" ", 1)[1]: b for b in self.running.blocks() if b.kind == "interface"}
            names = sorted({*self.interfaces.physical, *blocks}, key=self.interfaces.order)
            out = []
            for name in names:
                lines = list(blocks[name].lines()) if name in blocks else []
                logical = not self.interfaces.is_physical(name) or name in self.profile.fixed_interfaces
                fixed = name in self.profile.fixed_interfaces
                out.append(Port(name, "shutdown" in lines, logical or links.get(name, False),
                                fixed or any(line.startswith("ipv6 address ") for line in lines),
                                next((line.split(" ", 1)[1] for line in lines if line.startswith("description ")),
                                     ""), logical))
        return out

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
