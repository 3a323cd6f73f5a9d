"""Huawei VRP: the IPv6 BGP peers, the interfaces and the IPv6 routes, read from ``display`` commands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from nxgov.network.parsers import values
from nxgov.network.parsers.fsm import Command
from nxgov.network.parsers.results import BgpPeer, InterfaceState, Route

_SUFFIX = re.compile(r"\([^()]*\)$")
"""What VRP appends to a port's name in brief tables: ``GigabitEthernet15/1/0(10G)``, ``...0/0/5(v)``."""


def _interfaces(records: list[dict[str, Any]]) -> tuple[list[InterfaceState], list[str]]:
    return [InterfaceState(_SUFFIX.sub("", r["INTERFACE"]), r["PHY"] != "*down", r["PROTOCOL"].startswith("up"))
            for r in records], []


def _routes(records: list[dict[str, Any]]) -> tuple[list[Route], list[str]]:
    """The active routes, ECMP blocks (one per next hop, same destination) merged into one route."""
    bad: list[str] = []

    def active() -> Iterator[dict[str, Any]]:
        for r in records:
            if not r["STATE"]:
                bad.append(f"Destination {r['DESTINATION']}/{r['PREFIX_LENGTH']} (a route with no State line)")
            elif "Active" in r["STATE"].split():
                yield r

    return values.routes(active(), lambda r: f"{r['DESTINATION']}/{r['PREFIX_LENGTH']}",
                         lambda r: r["INTERFACE"] or None, bad), bad


BGP_PEERS: Command[BgpPeer] = Command("display bgp ipv6 peer", "huawei_vrp_display_bgp_ipv6_peer", values.bgp_peers)
INTERFACES: Command[InterfaceState] = Command("display interface brief", "ntc:huawei_vrp_display_interface_brief",
                                              _interfaces)
ROUTES: Command[Route] = Command("display ipv6 routing-table verbose",
                                 "huawei_vrp_display_ipv6_routing-table_verbose", _routes)
