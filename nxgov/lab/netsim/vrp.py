"""Huawei VRP (V200R0xx, as on AR and NE routers): grammar, prompts and the ``save`` dialogue."""

from __future__ import annotations

from typing import ClassVar

from nxgov.lab.netsim.base import COMMON, Cli
from nxgov.lab.netsim.device import Profile
from nxgov.lab.netsim.grammar import Grammar, Rule
from nxgov.lab.netsim.interfaces import LogicalType

_SAVE_QUESTION = "The current configuration will be written to the device. Are you sure to continue?[Y/N]:"

_EXEC = (*COMMON, Rule("save", "save"))
_USER = (
    *_EXEC,
    Rule("system-view", "system-view"),
    Rule("screen-length 0 temporary", "screen-length"),
)
_SYSTEM = (
    *_EXEC,
    Rule("sysname <word>", replace=True),
    Rule("ipv6"),
    Rule("router id <ipv4>", replace=True),
    Rule("interface <interface>", "enter", "interface"),
    Rule("bgp <asn>", "enter", "bgp"),
    Rule("ospfv3 <int:1-65535>", "enter", "ospfv3"),
    Rule("ip vpn-instance <word>", "enter", "vpn-instance"),
    Rule("ip route-static <ipv4> <mask> <text>"),
    Rule("ipv6 route-static <ipv6-network> <text>"),
)
_INTERFACE = (
    *_EXEC,
    Rule("description <text>", replace=True),
    Rule("shutdown"),
    Rule("mtu <int:46-9600>", replace=True),
    Rule("ipv6 enable"),
    Rule("ipv6 address <ipv6-address>"),
    Rule("ipv6 address auto link-local"),
    Rule("ipv6 address <link-local> link-local"),
    Rule("ip address <ipv4> <mask>", replace=True),
    Rule("ip binding vpn-instance <word>", replace=True),
    Rule("ospfv3 <int:1-65535> area <area>", replace=True),
)
_BGP = (
    *_EXEC,
    Rule("router-id <ipv4>", replace=True),
    Rule("peer <ip> as-number <asn>", replace=True),
    Rule("peer <ip> description <text>", replace=True),
    Rule("peer <ip> connect-interface <interface>", replace=True),
    Rule("peer <ip> timer keepalive <int:0-21845> hold <int:0-65535>", replace=True),
    Rule("timer keepalive <int:0-21845> hold <int:0-65535>", replace=True),
    Rule("ipv6-family unicast", "enter", "bgp-af-ipv6"),
    Rule("ipv4-family unicast", "enter", "bgp-af-ipv4"),
)
_BGP_AF = (
    *_EXEC,
    Rule("peer <ip> enable"),
    Rule("peer <ip> route-policy <word> import|export"),
    Rule("network <ipv6-network>"),
    Rule("import-route direct|static"),
    Rule("import-route ospfv3 <int:1-65535>"),
    Rule("maximum load-balancing <int:1-64>", replace=True),
)
_OSPFV3 = (
    *_EXEC,
    Rule("router-id <ipv4>", replace=True),
    Rule("bandwidth-reference <int:1-2147483648>", replace=True),
    Rule("silent-interface <interface>"),
    Rule("area <area>", "enter", "ospfv3-area"),
)
_OSPFV3_AREA = (*_EXEC, Rule("stub"))
_VPN = (
    *_EXEC,
    Rule("description <text>", replace=True),
    Rule("ipv6-family", "enter", "vpn-af-ipv6"),
)
_VPN_AF = (
    *_EXEC,
    Rule("route-distinguisher <word>", replace=True),
    Rule("vpn-target <word> export-extcommunity|import-extcommunity|both"),
)


class VrpCli(Cli):
    profile: ClassVar[Profile] = Profile(
        default_sysname="HUAWEI",
        logical=(LogicalType("LoopBack", 0, 1023), LogicalType("Vlanif", 1, 4094), LogicalType("Eth-Trunk", 0, 63)),
        fixed_interfaces=("NULL0",),
        sections=(
            "sysname",
            "router id",
            "ipv6",
            "ip vpn-instance",
            "interface",
            "ospfv3",
            "bgp",
            "ip route-static",
            "ipv6 route-static",
        ),
        preamble=("!Software Version V200R010C10SPC700",),
    )
    grammars: ClassVar[dict[str, Grammar]] = {
        "user": Grammar(_USER),
        "system": Grammar(_SYSTEM),
        "interface": Grammar(_INTERFACE),
        "bgp": Grammar(_BGP),
        "bgp-af-ipv6": Grammar(_BGP_AF),
        "bgp-af-ipv4": Grammar(_BGP_AF),
        "ospfv3": Grammar(_OSPFV3),
        "ospfv3-area": Grammar(_OSPFV3_AREA),
        "vpn-instance": Grammar(_VPN),
        "vpn-af-ipv6": Grammar(_VPN_AF),
    }
    labels: ClassVar[dict[str, str]] = {
        "interface": "{0}",
        "bgp": "bgp",
        "bgp-af-ipv6": "af-ipv6",
        "bgp-af-ipv4": "af-ipv4",
        "ospfv3": "ospfv3-{0}",
        "ospfv3-area": "area-{0}",
        "vpn-instance": "vpn-instance-{0}",
        "vpn-af-ipv6": "af-ipv6",
    }
    error_prefix: ClassVar[str] = "Error: "
    system_view_text: ClassVar[str] = "Enter system view, return user view with Ctrl+Z."
    version: ClassVar[tuple[str, ...]] = (
        "Huawei Versatile Routing Platform Software",
        "VRP (R) software, Version 5.170 (AR6280 V200R010C10SPC700)",
        "Copyright (C) 2011-2019 HUAWEI TECH CO., LTD",
        "Huawei AR6280 Router uptime is 0 week, 0 day, 0 hour, 1 minute",
    )

    def banner(self) -> list[str]:
        return [
            "",
            "Info: The max number of VTY users is 10, and the number",
            f"      of current VTY users on line is {self.device.sessions}.",
        ]

    def platform_command(self, action: str) -> list[str]:
        if action == "screen-length":
            return ["Info: The configuration takes effect on the current user terminal interface only."]
        return self.ask(_SAVE_QUESTION, self._save)

    def _save(self, answer: str) -> list[str]:
        if answer.lower() not in ("y", "yes"):
            return []
        self.device.save()
        return ["Now saving the current configuration to the slot 0.", "Info: Save the configuration successfully."]
