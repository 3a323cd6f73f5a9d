"""FRRouting: vtysh behind an sshd whose ForceCommand is vtysh, driven with netmiko ``cisco_ios``.

``write memory`` saves (the integrated ``frr.conf``); ``show startup-config`` shows what is saved.
Stock ``cisco_ios`` waits for 2 s of silence in every configuration-mode check, like ``huawei``;
:class:`VtyshSSH` reads up to the prompt instead.

Checked against FRR 8.4.4 (the lab's routers): vtysh refuses netmiko's ``terminal width 511`` (harmless:
vtysh never wraps), ``write memory`` warns that watchfrr is not running and still saves, an unknown
line is answered ``% Unknown command: ...``, and ``exit`` leaves every sub-view (address family, BFD
profile) for its parent, so a merge and its rollback type the same way as on VRP. Operational state is
read from vtysh's JSON (:meth:`FrrDriver.get_bgp_sessions` and the other :class:`StateReader` getters).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.cisco.cisco_ios import CiscoIosSSH

from nxgov.network.drivers import config
from nxgov.network.drivers.base import ConfigKind, Driver
from nxgov.network.drivers.errors import DeviceError
from nxgov.network.render.frr import port_name


class VtyshSSH(CiscoIosSSH):
    """netmiko ``cisco_ios`` whose check_config_mode reads up to the prompt instead of waiting for silence."""

    def check_config_mode(self, check_string: str = ")#", pattern: str = r"[>#]", force_regex: bool = False) -> bool:
        return BaseConnection.check_config_mode(self, check_string=check_string, pattern=pattern)


class FrrDriver(Driver):
    platform: ClassVar[str] = "frr"
    connection_class: ClassVar[type[BaseConnection]] = VtyshSSH
    syntax: ClassVar[config.Syntax] = config.Syntax(
        separator="!",
        noise=re.compile(r"^(?:exit(?:-[\w-]+)?|end|Building configuration\.\.\.|Current configuration:.*"
                         r"|frr (?:version|defaults) .*)$"),
        negation="no",
        leave="exit",
        keep_blocks=re.compile(r"^interface "),
        removal=re.compile(r"^(?:(neighbor \S+) remote-as |(description) )"),
    )
    show_commands: ClassVar[dict[ConfigKind, str]] = {
        "running": "show running-config",
        "saved": "show startup-config",
    }
    error: ClassVar[re.Pattern[str]] = re.compile(r"^\s*%\s*(?!Warning)")
    prompt: ClassVar[str] = r"(?:^|\n)[\w.\-]+(?:\([\w\-]+\))?[#>]\s*$"

    config_commands: ClassVar[tuple[str, str]] = ("configure terminal", "end")
    config_prompt: ClassVar[re.Pattern[str]] = re.compile(r"\)#$")

    def save_command(self) -> str:
        return "write memory"

    # -- operational state (StateReader) ------------------------------------------------------------
    def interface_name(self, port: int) -> str:
        return port_name(port)

    def get_bgp_sessions(self) -> dict[str, str]:
        peers = self._json("show bgp ipv6 unicast summary json").get("peers", {})
        return {address: str(peer.get("state", "unknown")) for address, peer in peers.items()}

    def get_interfaces(self) -> dict[str, bool]:
        return {name: data.get("operationalStatus") == "up"
                for name, data in self._json("show interface json").items()}

    def get_ipv6_routes(self) -> dict[str, tuple[str, ...]]:
        routes: dict[str, tuple[str, ...]] = {}
        for prefix, entries in self._json("show ipv6 route json").items():
            for entry in entries:
                if entry.get("selected"):
                    routes[prefix] = tuple(sorted({hop["interfaceName"] for hop in entry.get("nexthops", [])
                                                   if hop.get("active") and "interfaceName" in hop}))
        return routes

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
