"""Huawei VRP: netmiko ``huawei`` without its 2 s wait per configuration-mode check.

Stock netmiko 4.8 ``HuaweiSSH.check_config_mode`` drops the prompt pattern it is given and reads until
2 s of silence instead, several times per configuration session; its session preparation also sleeps
blindly. :class:`FastHuaweiSSH` reads up to the prompt instead, which works the same on real routers
(the prompt ends in ``>`` in the user view and ``]`` in every configuration view).

Both VRP and Comware drivers read IPv6 BGP peers, interface states and IPv6 routes into typed results
(:meth:`SystemViewDriver.get_bgp_peers` and the like; parsers in :mod:`nxgov.network.parsers`). They are not
:class:`~nxgov.network.drivers.base.StateReader` getters yet, so ``net verify`` still reports these platforms
"not verifiable" until the simulators answer ``display`` commands from a real routing engine.
"""

from __future__ import annotations

import re
from typing import ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.huawei.huawei import HuaweiSSH

from nxgov.network.drivers import config
from nxgov.network.drivers.base import ConfigKind, Driver
from nxgov.network.parsers import BgpPeer, Command, InterfaceState, Route
from nxgov.network.parsers import vrp as vrp_parsers
from nxgov.network.parsers.results import Row

VRP_PROMPT = r"(?:^|\n)[<\[][^\r\n<>\[\]]+[>\]]\s*$"
"""``<HUAWEI>``, ``[HUAWEI-GigabitEthernet0/0/1]``, ``[~HUAWEI]``: at the very end of the output."""
LOGICAL_INTERFACES = r"(?!LoopBack|Vlanif|Vlan-interface|Eth-Trunk|Route-Aggregation|Tunnel|NULL)"


class FastHuaweiSSH(HuaweiSSH):
    """netmiko ``huawei`` whose check_config_mode reads up to the prompt instead of waiting for silence."""

    def check_config_mode(self, check_string: str = "]", pattern: str = r"[>\]]", force_regex: bool = False) -> bool:
        return BaseConnection.check_config_mode(self, check_string=check_string, pattern=pattern)

    def _try_session_preparation(self, force_data: bool = False) -> None:
        """No blind RETURN and 0.1 s sleep first: the login handler has already read up to the prompt."""
        super()._try_session_preparation(force_data=False)

    def session_preparation(self) -> None:
        """As netmiko's, with the 0.3 s sleep and buffer clearing replaced by reading up to the prompt."""
        self.ansi_escape_codes = True
        self.set_base_prompt()
        self.disable_paging(command="screen-length 0 temporary")
        self.read_until_pattern(pattern=r"[>\]]\s*$")


class SystemViewDriver(Driver):
    """What Huawei VRP and H3C Comware share: ``system-view``, ``#``-separated blocks, ``undo``, ``quit``."""

    show_commands: ClassVar[dict[ConfigKind, str]] = {
        "running": "display current-configuration",
        "saved": "display saved-configuration",
    }
    prompt: ClassVar[str] = VRP_PROMPT
    config_commands: ClassVar[tuple[str, str]] = ("system-view", "return")
    config_prompt: ClassVar[re.Pattern[str]] = re.compile(r"\]$")

    bgp_peers_command: ClassVar[Command[BgpPeer]]
    interfaces_command: ClassVar[Command[InterfaceState]]
    routes_command: ClassVar[Command[Route]]

    @staticmethod
    def system_view_syntax(noise: str) -> config.Syntax:
        return config.Syntax(separator="#", noise=re.compile(noise), negation="undo", leave="quit",
                             keep_blocks=re.compile(rf"^interface {LOGICAL_INTERFACES}"),
                             removal=re.compile(r"^(?:(peer \S+) as-number |(peer \S+ description) |(description) )"))

    # -- operational state (typed getters; ParseError when the device prints a line nxgov cannot read) ----
    def get_bgp_peers(self) -> tuple[BgpPeer, ...]:
        """Every IPv6 BGP peer and its session."""
        return self._read(self.bgp_peers_command)

    def get_interface_states(self) -> tuple[InterfaceState, ...]:
        """Every interface, administratively and operationally."""
        return self._read(self.interfaces_command)

    def get_routes(self) -> tuple[Route, ...]:
        """Every IPv6 route in use and its active next hops."""
        return self._read(self.routes_command)

    def _read(self, command: Command[Row]) -> tuple[Row, ...]:
        return command.parse(self.cli(command.text)).rows_or_raise(self.target.name)


class VrpDriver(SystemViewDriver):
    platform: ClassVar[str] = "huawei_vrp"
    connection_class: ClassVar[type[BaseConnection]] = FastHuaweiSSH
    syntax: ClassVar[config.Syntax] = SystemViewDriver.system_view_syntax(r"^(?:return|!.*)$")
    error: ClassVar[re.Pattern[str]] = re.compile(r"^\s*Error:")
    bgp_peers_command: ClassVar[Command[BgpPeer]] = vrp_parsers.BGP_PEERS
    interfaces_command: ClassVar[Command[InterfaceState]] = vrp_parsers.INTERFACES
    routes_command: ClassVar[Command[Route]] = vrp_parsers.ROUTES

    def save_command(self) -> str:
        return "save"
