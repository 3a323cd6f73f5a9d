"""H3C Comware 7 (MSR routers): grammar, prompts and the ``save`` / ``save force`` dialogues."""

from __future__ import annotations

from typing import ClassVar

from nxgov.lab.netsim.base import COMMON, Cli
from nxgov.lab.netsim.device import Profile
from nxgov.lab.netsim.grammar import Grammar, Rule
from nxgov.lab.netsim.interfaces import LogicalType

_SAVED = ("Validating file. Please wait...", "Saved the current configuration to mainboard device successfully.")
_FILE = "flash:/startup.cfg"

_EXEC = (*COMMON, Rule("save", "save"), Rule("save force", "save-force"))
_USER = (
    *_EXEC,
    Rule("system-view", "system-view"),
    Rule("screen-length disable", "screen-length"),
)
_SYSTEM = (
    *_EXEC,
    Rule("sysname <word>", replace=True),
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
    Rule("address-family ipv6 unicast", "enter", "bgp-af-ipv6"),
    Rule("address-family ipv4 unicast", "enter", "bgp-af-ipv4"),
)
_BGP_AF = (
    *_EXEC,
    Rule("peer <ip> enable"),
    Rule("peer <ip> route-policy <word> import|export"),
    Rule("network <ipv6-network>"),
    Rule("import-route direct|static"),
    Rule("import-route ospfv3 <int:1-65535>"),
    Rule("balance <int:1-32>", replace=True),
)
_OSPFV3 = (
    *_EXEC,
    Rule("router-id <ipv4>", replace=True),
    Rule("bandwidth-reference <int:1-4294967>", replace=True),
    Rule("silent-interface <interface>"),
    Rule("area <area>", "enter", "ospfv3-area"),
)
_OSPFV3_AREA = (*_EXEC, Rule("stub"))
_VPN = (
    *_EXEC,
    Rule("description <text>", replace=True),
    Rule("route-distinguisher <word>", replace=True),
    Rule("vpn-target <word> export-extcommunity|import-extcommunity|both"),
)


class ComwareCli(Cli):
    profile: ClassVar[Profile] = Profile(
        default_sysname="H3C",
        logical=(
            LogicalType("LoopBack", 0, 1023),
            LogicalType("Vlan-interface", 1, 4094),
            LogicalType("Route-Aggregation", 1, 1024),
        ),
        fixed_interfaces=("NULL0",),
        sections=(
            "sysname",
            "router id",
            "ip vpn-instance",
            "interface",
            "ospfv3",
            "bgp",
            "ip route-static",
            "ipv6 route-static",
        ),
        preamble=("#", " version 7.1.064, Release 0821P16"),
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
    }
    labels: ClassVar[dict[str, str]] = {
        "interface": "{0}",
        "bgp": "bgp-default",
        "bgp-af-ipv6": "ipv6",
        "bgp-af-ipv4": "ipv4",
        "ospfv3": "ospfv3-{0}",
        "ospfv3-area": "area-{0}",
        "vpn-instance": "vpn-instance-{0}",
    }
    error_prefix: ClassVar[str] = " % "
    system_view_text: ClassVar[str] = "System View: return to User View with Ctrl+Z."
    version: ClassVar[tuple[str, ...]] = (
        "H3C Comware Software, Version 7.1.064, Release 0821P16",
        "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.",
        "H3C MSR3620-X1 uptime is 0 weeks, 0 days, 0 hours, 1 minute",
    )

    def banner(self) -> list[str]:
        return [
            "",
            "******************************************************************************",
            "* Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.*",
            "* Without the owner's prior written consent,                                 *",
            "* no decompiling or reverse-engineering shall be allowed.                    *",
            "******************************************************************************",
            "",
        ]

    def platform_command(self, action: str) -> list[str]:
        if action == "screen-length":
            return ["% Screen-length configuration is disabled for current user."]
        if action == "save-force":
            self.device.save()
            return list(_SAVED)
        return self.ask("The current configuration will be written to the device. Are you sure? [Y/N]:", self._file)

    def _file(self, answer: str) -> list[str]:
        if answer.lower() not in ("y", "yes"):
            return ["Configuration is not saved!"]
        question = "(To leave the existing filename unchanged, press the enter key):"
        return ["Please input the file name(*.cfg)[flash:/startup.cfg]", *self.ask(question, self._overwrite)]

    def _overwrite(self, answer: str) -> list[str]:
        if answer and answer != _FILE:
            self.device.save()
            return list(_SAVED)
        return self.ask(f"{_FILE} exists, overwrite? [Y/N]:", self._write)

    def _write(self, answer: str) -> list[str]:
        if answer.lower() not in ("y", "yes"):
            return ["Configuration is not saved!"]
        self.device.save()
        return list(_SAVED)
