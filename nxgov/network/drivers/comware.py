"""H3C Comware 7: netmiko ``hp_comware`` (its configuration-mode check already reads up to the prompt)."""

from __future__ import annotations

from typing import ClassVar

from netmiko.hp.hp_comware import HPComwareSSH

from nxgov.network.drivers.dialect import Dialect
from nxgov.network.drivers.vrp import SystemViewDriver
from nxgov.network.parsers import BgpPeer, Command, InterfaceState, Route
from nxgov.network.parsers import comware as comware_parsers


class ComwareDriver(SystemViewDriver):
    platform: ClassVar[str] = "h3c_comware"
    dialect: ClassVar[Dialect] = SystemViewDriver.system_view_dialect(HPComwareSSH, r"^(?:return|version \d.*)$",
                                                                      r"^\s*%\s", "save force")
    bgp_peers_command: ClassVar[Command[BgpPeer]] = comware_parsers.BGP_PEERS
    interfaces_command: ClassVar[Command[InterfaceState]] = comware_parsers.INTERFACES
    routes_command: ClassVar[Command[Route]] = comware_parsers.ROUTES
