"""FRRouting: vtysh behind an sshd whose ForceCommand is vtysh, driven with netmiko ``cisco_ios``.

``write memory`` saves (the integrated ``frr.conf``); ``show startup-config`` shows what is saved.
Stock ``cisco_ios`` waits for 2 s of silence in every configuration-mode check, like ``huawei``;
:class:`VtyshSSH` reads up to the prompt instead.

Checked against FRR 8.4.4 (the lab's routers): vtysh refuses netmiko's ``terminal width 511`` (harmless:
vtysh never wraps), ``write memory`` warns that watchfrr is not running and still saves, an unknown
line is answered ``% Unknown command: ...``, and ``exit`` leaves every sub-view (address family, BFD
profile) for its parent, so a merge and its rollback type the same way as on VRP. Operational state is
read from vtysh's JSON into the typed rows of every platform (:meth:`FrrDriver.get_bgp_peers` and the other
:class:`~nxgov.network.drivers.base.StateReader` getters; reading in :mod:`nxgov.network.parsers.frr`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.cisco.cisco_ios import CiscoIosSSH

from nxgov.network.drivers import config
from nxgov.network.drivers.cli_driver import CliDriver
from nxgov.network.drivers.dialect import Dialect
from nxgov.network.drivers.errors import DeviceError
from nxgov.network.parsers import BgpPeer, InterfaceState, ParseError, Route
from nxgov.network.parsers import frr as frr_parsers
from nxgov.network.parsers.results import Row
from nxgov.network.render.frr import port_name


class VtyshSSH(CiscoIosSSH):
    """netmiko ``cisco_ios`` whose check_config_mode reads up to the prompt instead of waiting for silence."""

    def check_config_mode(self, check_string: str = ")#", pattern: str = r"[>#]", force_regex: bool = False) -> bool:
        return BaseConnection.check_config_mode(self, check_string=check_string, pattern=pattern)


class FrrDriver(CliDriver):
    platform: ClassVar[str] = "frr"
    dialect: ClassVar[Dialect] = Dialect(
        connection_class=VtyshSSH,
        syntax=config.Syntax(
            separator="!",
            noise=re.compile(r"^(?:exit(?:-[\w-]+)?|end|Building configuration\.\.\.|Current configuration:.*"
                             r"|frr (?:version|defaults) .*)$"),
            negation="no",
            leave="exit",
            keep_blocks=re.compile(r"^interface "),
            removal=re.compile(r"^(?:(neighbor \S+) remote-as |(description) )"),
        ),
        show_commands={"running": "show running-config", "saved": "show startup-config"},
        prompt=r"(?:^|\n)[\w.\-]+(?:\([\w\-]+\))?[#>]\s*$",
        error=re.compile(r"^\s*%\s*(?!Warning)"),
        config_commands=("configure terminal", "end"),
        config_prompt=re.compile(r"\)#$"),
        save_command="write memory",
    )

    # -- operational state (StateReader) ------------------------------------------------------------
    def interface_name(self, port: int) -> str:
        return port_name(port)

    def get_bgp_peers(self) -> tuple[BgpPeer, ...]:
        return self._parse(frr_parsers.BGP_PEERS, frr_parsers.bgp_peers)

    def get_interface_states(self) -> tuple[InterfaceState, ...]:
        return self._parse(frr_parsers.INTERFACES, frr_parsers.interfaces)

    def get_routes(self) -> tuple[Route, ...]:
        return self._parse(frr_parsers.ROUTES, frr_parsers.routes)

    def _parse(self, command: str, reader: Callable[[dict[str, Any]], tuple[Row, ...]]) -> tuple[Row, ...]:
        try:
            return reader(self._json(command))
        except ParseError as error:
            raise ParseError(error.command, error.lines, self.target.name) from None

    def _json(self, command: str) -> dict[str, Any]:
        reply = self.cli(command)
        try:
            parsed = json.loads(reply or "{}")
        except json.JSONDecodeError:
            first = next((line.strip() for line in reply.splitlines() if line.strip()), "")
            raise DeviceError(self.target.name, f"{command!r} gave no JSON: {first[:200]}",
                              "check that the device runs FRR 8 or later") from None
        if not isinstance(parsed, dict):
            raise DeviceError(self.target.name, f"{command!r} gave JSON that is not an object")
        return parsed
