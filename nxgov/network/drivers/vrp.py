"""Huawei VRP: netmiko ``huawei`` without its 2 s wait per configuration-mode check.

Stock netmiko 4.8 ``HuaweiSSH.check_config_mode`` drops the prompt pattern it is given and reads until
2 s of silence instead, several times per configuration session; its session preparation also sleeps
blindly. :class:`FastHuaweiSSH` reads up to the prompt instead, which works the same on real routers
(the prompt ends in ``>`` in the user view and ``]`` in every configuration view).

Both VRP and Comware drivers are :class:`~nxgov.network.drivers.base.StateReader` s: they read IPv6 BGP peers,
interface states and IPv6 routes into typed results (:meth:`SystemViewDriver.get_bgp_peers` and the like; parsers
in :mod:`nxgov.network.parsers`), so ``net verify`` reads them as it reads FRR. Proved against the lab's simulated
devices, which answer these ``display`` commands from a real routing engine (FRR) in the vendors' formats, and
against captures of real devices (the parsers' fixtures).
"""

from __future__ import annotations

import re
from typing import ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.huawei.huawei import HuaweiSSH

from nxgov.estate.ports import default_name
from nxgov.network.drivers import config
from nxgov.network.drivers.cli_driver import CliDriver
from nxgov.network.drivers.dialect import Dialect
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


class SystemViewDriver(CliDriver):
    """What Huawei VRP and H3C Comware share: ``system-view``, ``#``-separated blocks, ``undo``, ``quit``."""

    bgp_peers_command: ClassVar[Command[BgpPeer]]
    interfaces_command: ClassVar[Command[InterfaceState]]
    routes_command: ClassVar[Command[Route]]

    @staticmethod
    def system_view_dialect(connection_class: type[BaseConnection], noise: str, error: str,
                            save_command: str) -> Dialect:
        """The dialect of a system-view platform: its netmiko class, the lines of its configuration that are no
        configuration (``noise``), the start of its refusals and its save command."""
        syntax = config.Syntax(separator="#", noise=re.compile(noise), negation="undo", leave="quit",
                               keep_blocks=re.compile(rf"^interface {LOGICAL_INTERFACES}"),
                               removal=re.compile(r"^(?:(peer \S+) as-number |(peer \S+ description) |(description) )"))
        return Dialect(connection_class, syntax,
                       {"running": "display current-configuration", "saved": "display saved-configuration"},
                       VRP_PROMPT, re.compile(error), ("system-view", "return"), re.compile(r"\]$"), save_command)

    # -- operational state (StateReader; ParseError when the device prints a line nxgov cannot read) ------
    def interface_name(self, port: int) -> str:
        return default_name(self.platform, port)

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
    dialect: ClassVar[Dialect] = SystemViewDriver.system_view_dialect(FastHuaweiSSH, r"^(?:return|!.*)$",
                                                                      r"^\s*Error:", "save")
    bgp_peers_command: ClassVar[Command[BgpPeer]] = vrp_parsers.BGP_PEERS
    interfaces_command: ClassVar[Command[InterfaceState]] = vrp_parsers.INTERFACES
    routes_command: ClassVar[Command[Route]] = vrp_parsers.ROUTES
