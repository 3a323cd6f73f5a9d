"""H3C Comware 7: netmiko ``hp_comware`` (its configuration-mode check already reads up to the prompt)."""

from __future__ import annotations

import re
from typing import ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.hp.hp_comware import HPComwareSSH

from nxgov.network.drivers import config
from nxgov.network.drivers.vrp import SystemViewDriver
from nxgov.network.parsers import BgpPeer, Command, InterfaceState, Route
from nxgov.network.parsers import comware as comware_parsers


class ComwareDriver(SystemViewDriver):
    platform: ClassVar[str] = "h3c_comware"
    connection_class: ClassVar[type[BaseConnection]] = HPComwareSSH
    syntax: ClassVar[config.Syntax] = SystemViewDriver.system_view_syntax(r"^(?:return|version \d.*)$")
    error: ClassVar[re.Pattern[str]] = re.compile(r"^\s*%\s")
    bgp_peers_command: ClassVar[Command[BgpPeer]] = comware_parsers.BGP_PEERS
    interfaces_command: ClassVar[Command[InterfaceState]] = comware_parsers.INTERFACES
    routes_command: ClassVar[Command[Route]] = comware_parsers.ROUTES

    def save_command(self) -> str:
        return "save force"
