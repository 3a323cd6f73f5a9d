"""H3C Comware 7 (MSR routers): its dialect and the ``save`` / ``save force`` dialogues."""

from __future__ import annotations

from typing import ClassVar

from nxgov.lab.netsim.base import Cli
from nxgov.lab.netsim.device import Profile
from nxgov.lab.netsim.dialect import BFD_MULTIPLIER, Dialect
from nxgov.lab.netsim.grammar import Rule
from nxgov.lab.netsim.interfaces import LogicalType
from nxgov.lab.netsim.show import comware_bgp_peers, comware_interfaces, comware_routes

_SAVED = ("Validating file. Please wait...", "Saved the current configuration to mainboard device successfully.")
_FILE = "flash:/startup.cfg"
_COPYRIGHT = "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved."

# BFD for a BGP peer: ``peer X bfd [ multi-hop | single-hop ]`` in the BGP instance view, IPv6 peers included
# (HPE 5710 / MSR V7 Layer 3 IP Routing Command Reference, "peer bfd"; no global ``bfd`` on Comware 7). The
# single-hop session's timers are the interface's: ``bfd min-transmit-interval`` and ``bfd min-receive-interval``
# "30 to 10000" ms, ``bfd detect-multiplier`` 3 to 50 (HP MSR2000/3000/4000 High Availability Command Reference).
_BFD_INTERVAL = "<int:30-10000>"

COMWARE = Dialect(
    profile=Profile(
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
    ),
    paging_off="screen-length disable",
    paging_reply="% Screen-length configuration is disabled for current user.",
    save_force=True,
    ipv6_switches=False,
    bgp_family="address-family {} unicast",
    load_balancing="balance <int:1-32>",
    bandwidth_reference_max=4294967,
    vpn_family=False,
    bgp_label="bgp-default",
    family_label="{}",
    bfd_view=False,
    bgp_peer=(
        Rule("peer <ip> bfd", replace=True, key=3),
        Rule("peer <ip> bfd multi-hop|single-hop", replace=True, key=3),
    ),
    interface_bfd=(
        Rule(f"bfd min-transmit-interval {_BFD_INTERVAL}", replace=True),
        Rule(f"bfd min-receive-interval {_BFD_INTERVAL}", replace=True),
        Rule(f"bfd detect-multiplier {BFD_MULTIPLIER}", replace=True),
    ),
    error_prefix=" % ",
    system_view_text="System View: return to User View with Ctrl+Z.",
    version=(
        "H3C Comware Software, Version 7.1.064, Release 0821P16",
        _COPYRIGHT,
        "H3C MSR3620-X1 uptime is 0 weeks, 0 days, 0 hours, 1 minute",
    ),
    banner=(
        "",
        "*" * 78,
        f"* {_COPYRIGHT}*",
        "* Without the owner's prior written consent,                                 *",
        "* no decompiling or reverse-engineering shall be allowed.                    *",
        "*" * 78,
        "",
    ),
    state_commands={"show-bgp": "display bgp peer ipv6", "show-interfaces": "display interface brief",
                    "show-routes": "display ipv6 routing-table"},
    show_bgp=comware_bgp_peers,
    show_interfaces=comware_interfaces,
    show_routes=comware_routes,
)


class ComwareCli(Cli):
    dialect: ClassVar[Dialect] = COMWARE

    def save(self, force: bool) -> list[str]:
        if force:
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
