"""H3C Comware: the IPv6 BGP peers, the interfaces and the IPv6 routes, read from ``display`` commands.

Comware abbreviates interface names in its tables (``GE1/0/1``); they are given here in full
(``GigabitEthernet1/0/1``), as the configuration names them.
"""

from __future__ import annotations

import re
from typing import Any

from nxgov.network.parsers import values
from nxgov.network.parsers.fsm import Command
from nxgov.network.parsers.results import BgpPeer, InterfaceState, Route

ABBREVIATIONS = {
    "GE": "GigabitEthernet", "XGE": "Ten-GigabitEthernet", "WGE": "Twenty-FiveGigE", "FGE": "FortyGigE",
    "HGE": "HundredGigE", "MGE": "M-GigabitEthernet", "Loop": "LoopBack", "InLoop": "InLoopBack",
    "Vlan": "Vlan-interface", "RAGG": "Route-Aggregation", "BAGG": "Bridge-Aggregation", "Tun": "Tunnel",
    "REG": "Register-Tunnel", "Ser": "Serial",
}
_NAME = re.compile(r"([A-Za-z-]+)(\d.*)")
_LINKS = {"UP", "DOWN", "ADM", "Stby"}


def interface_name(short: str) -> str:
    """The full name of an interface Comware printed abbreviated (names it did not abbreviate unchanged)."""
    name = _NAME.fullmatch(short)
    if name is None:
        return short
    return ABBREVIATIONS.get(name[1], name[1]) + name[2]


def _interfaces(records: list[dict[str, Any]]) -> tuple[list[InterfaceState], list[str]]:
    """Route-mode ports by their line protocol; bridge-mode ports (no protocol column) by their link."""
    out: list[InterfaceState] = []
    bad: list[str] = []
    for r in records:
        if r["LINK"] not in _LINKS:
            bad.append(f"{r['INTERFACE']} {r['LINK']} ({r['LINK']!r} is not a link state)")
            continue
        up = r["PROTOCOL"].startswith("UP") if r["PROTOCOL"] else r["LINK"] == "UP"
        out.append(InterfaceState(interface_name(r["INTERFACE"]), r["LINK"] != "ADM", up))
    return out, bad


def _routes(records: list[dict[str, Any]]) -> tuple[list[Route], list[str]]:
    """The routes in use, ECMP blocks (one per next hop, same destination) merged into one route."""
    bad: list[str] = []
    return values.routes(records, lambda r: r["DESTINATION"],
                         lambda r: interface_name(r["INTERFACE"]) if r["INTERFACE"] else None, bad), bad


BGP_PEERS: Command[BgpPeer] = Command("display bgp peer ipv6", "hp_comware_display_bgp_peer_ipv6", values.bgp_peers)
INTERFACES: Command[InterfaceState] = Command("display interface brief", "ntc:hp_comware_display_interface_brief",
                                              _interfaces)
ROUTES: Command[Route] = Command("display ipv6 routing-table", "hp_comware_display_ipv6_routing-table", _routes)
