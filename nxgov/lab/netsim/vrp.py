"""Huawei VRP (V200R0xx, as on AR and NE routers): its dialect and the ``save`` dialogue."""

from __future__ import annotations

from typing import ClassVar

from nxgov.lab.netsim.base import Cli
from nxgov.lab.netsim.device import Profile
from nxgov.lab.netsim.dialect import BFD_MULTIPLIER, Dialect
from nxgov.lab.netsim.grammar import Rule
from nxgov.lab.netsim.interfaces import LogicalType
from nxgov.lab.netsim.show import vrp_bgp_peers, vrp_interfaces, vrp_routes

# BFD for a BGP peer is set in the BGP view, IPv6 peers included, after ``bfd`` in the system view:
# ``peer X bfd enable`` (S-series V200R0xx command reference, http://a10.tagan.ru/huawei/dc/peer_bfd_enable.html)
# and ``peer X bfd min-tx-interval T min-rx-interval R detect-multiplier M``, the intervals "an integer ranging
# from 3 to 1000, in milliseconds", the multiplier 3 to 50 (NetEngine 8000 command reference, "peer bfd":
# http://a10.tagan.ru/huawei/netengine8000f1a/command/8090/session-muli-peer-bfd(bgpom).html).
# ``peer X listen-only``: the peer's end only listens for the session (command reference, "peer listen-only").
_BFD_INTERVAL = "<int:3-1000>"
_BFD_TIMERS = f"min-tx-interval {_BFD_INTERVAL} min-rx-interval {_BFD_INTERVAL} detect-multiplier {BFD_MULTIPLIER}"

VRP = Dialect(
    profile=Profile(
        default_sysname="HUAWEI",
        logical=(LogicalType("LoopBack", 0, 1023), LogicalType("Vlanif", 1, 4094), LogicalType("Eth-Trunk", 0, 63)),
        fixed_interfaces=("NULL0",),
        sections=(
            "sysname",
            "router id",
            "ipv6",
            "ip vpn-instance",
            "bfd",
            "interface",
            "ospfv3",
            "bgp",
            "ip route-static",
            "ipv6 route-static",
        ),
        preamble=("!Software Version V200R010C10SPC700",),
    ),
    paging_off="screen-length 0 temporary",
    paging_reply="Info: The configuration takes effect on the current user terminal interface only.",
    save_force=False,
    ipv6_switches=True,
    bgp_family="{}-family unicast",
    load_balancing="maximum load-balancing <int:1-64>",
    bandwidth_reference_max=2147483648,
    vpn_family=True,
    bgp_label="bgp",
    family_label="af-{}",
    bfd_view=True,
    bgp_peer=(
        Rule("peer <ip> listen-only"),
        Rule("peer <ip> bfd enable"),
        Rule(f"peer <ip> bfd {_BFD_TIMERS}", replace=True, key=4),
    ),
    interface_bfd=(),
    error_prefix="Error: ",
    system_view_text="Enter system view, return user view with Ctrl+Z.",
    version=(
        "Huawei Versatile Routing Platform Software",
        "VRP (R) software, Version 5.170 (AR6280 V200R010C10SPC700)",
        "Copyright (C) 2011-2019 HUAWEI TECH CO., LTD",
        "Huawei AR6280 Router uptime is 0 week, 0 day, 0 hour, 1 minute",
    ),
    banner=(
        "",
        "Info: The max number of VTY users is 10, and the number",
        "      of current VTY users on line is {sessions}.",
    ),
    state_commands={"show-bgp": "display bgp ipv6 peer", "show-interfaces": "display interface brief",
                    "show-routes": "display ipv6 routing-table verbose"},
    show_bgp=vrp_bgp_peers,
    show_interfaces=vrp_interfaces,
    show_routes=vrp_routes,
)


class VrpCli(Cli):
    dialect: ClassVar[Dialect] = VRP

    def save(self, force: bool) -> list[str]:
        question = "The current configuration will be written to the device. Are you sure to continue?[Y/N]:"
        return self.ask(question, self._save)

    def _save(self, answer: str) -> list[str]:
        if answer.lower() not in ("y", "yes"):
            return []
        self.device.save()
        return ["Now saving the current configuration to the slot 0.", "Info: Save the configuration successfully."]
