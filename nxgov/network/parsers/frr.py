"""Reading FRR's vtysh JSON (``show bgp ipv6 unicast summary json``, ``show interface json``, ``show ipv6 route
json``) into the typed getter results every platform gives; a value nxgov cannot read is a ParseError."""

from __future__ import annotations

from typing import Any

from nxgov.network.parsers.results import BgpPeer, BgpState, InterfaceState, NextHop, ParseError, Route
from nxgov.network.parsers.values import address, prefix

BGP_PEERS = "show bgp ipv6 unicast summary json"
INTERFACES = "show interface json"
ROUTES = "show ipv6 route json"
_STATES: dict[str, BgpState] = {"Idle": "Idle", "Connect": "Connect", "Active": "Active", "OpenSent": "OpenSent",
                                "OpenConfirm": "OpenConfirm", "Established": "Established",
                                "Clearing": "Idle", "Deleted": "Idle"}
"""FRR's session states (its first word: ``Idle (Admin)``); Clearing and Deleted are sessions on their way down."""


def bgp_peers(summary: dict[str, Any]) -> tuple[BgpPeer, ...]:
    """The peers of a BGP summary (the ``peers`` object; none when BGP is not configured)."""
    peers, bad = [], []
    for name, peer in summary.get("peers", {}).items():
        state = _STATES.get(str(peer.get("state", "")).split(" ", 1)[0])
        try:
            if state is None:
                raise ValueError(f"{peer.get('state')!r} is not a BGP state")
            uptime = peer.get("peerUptimeMsec")
            received = peer.get("pfxRcd")
            peers.append(BgpPeer(address(name), int(peer["remoteAs"]), state,
                                 int(uptime) // 1000 if state == "Established" and uptime is not None else None,
                                 int(received) if received is not None else None))
        except (KeyError, TypeError, ValueError) as error:
            bad.append(f"peer {name}: {error}")
    if bad:
        raise ParseError(BGP_PEERS, tuple(bad))
    return tuple(peers)


def interfaces(shown: dict[str, Any]) -> tuple[InterfaceState, ...]:
    """Every interface, administratively and operationally up or not."""
    return tuple(InterfaceState(name, data.get("administrativeStatus") == "up", data.get("operationalStatus") == "up")
                 for name, data in shown.items())


def routes(table: dict[str, Any]) -> tuple[Route, ...]:
    """The selected route to every prefix and its active next hops (``::`` for a directly connected one)."""
    found, bad = [], []
    for net, entries in table.items():
        for entry in entries:
            if not entry.get("selected"):
                continue
            try:
                hops = tuple(NextHop(address(hop.get("ip", "::")), hop.get("interfaceName"))
                             for hop in entry.get("nexthops", []) if hop.get("active"))
                found.append(Route(prefix(net), str(entry.get("protocol", "")), hops))
            except ValueError as error:
                bad.append(f"route {net}: {error}")
    if bad:
        raise ParseError(ROUTES, tuple(bad))
    return tuple(found)
