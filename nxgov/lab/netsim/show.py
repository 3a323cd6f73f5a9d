"""The state ``display`` commands in each platform's format, from the data plane's FRR state (vtysh JSON).

VRP: ``display bgp ipv6 peer``, ``display interface brief``, ``display ipv6 routing-table verbose``; Comware:
``display bgp peer ipv6``, ``display interface brief``, ``display ipv6 routing-table``. The layouts are the
devices' own (as in the captures under tests/network/parsers/fixtures): upper-case IPv6 addresses, a peer
address too long for its column on a line of its own, uptimes as ``hh:mm:ss`` below a day and ``626h43m`` (VRP)
or ``0286h47m`` (Comware) above, Comware's abbreviated interface names. Every function here is pure: it takes
FRR's JSON (``show bgp ipv6 unicast summary json``, ``show ipv6 route json``) or :class:`Port` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nxgov.network.parsers.comware import ABBREVIATIONS

STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")
_SHORT = sorted(((full, short) for short, full in ABBREVIATIONS.items()), key=lambda pair: -len(pair[0]))
Rename = Callable[[str], str]


@dataclass(frozen=True)
class Port:
    """One interface as the brief tables show it (``name`` the vendor's); a ``spoofing`` one (a loopback, NULL0)
    is up whatever carries it, shown ``up(s)``."""

    name: str
    shutdown: bool
    link_up: bool
    addressed: bool
    description: str = ""
    spoofing: bool = False

    @property
    def protocol_up(self) -> bool:
        return not self.shutdown and self.link_up and self.addressed


@dataclass(frozen=True)
class _Peer:
    address: str
    asn: int
    received: int
    sent: int
    queued: int
    uptime_s: int
    state: str
    prefixes: int


def _peers(summary: Mapping[str, Any]) -> list[_Peer]:
    out = []
    for address, peer in summary.get("peers", {}).items():
        words = str(peer.get("state", "Idle")).split()
        state = words[0] if words and words[0] in STATES else "Idle"
        out.append(_Peer(address.upper(), int(peer.get("remoteAs", 0)), int(peer.get("msgRcvd", 0)),
                         int(peer.get("msgSent", 0)), int(peer.get("outq", 0)),
                         int(peer.get("peerUptimeMsec", 0)) // 1000, state,
                         int(peer.get("pfxRcd", 0)) if state == "Established" else 0))
    return out


def _uptime(seconds: int, hour_digits: int) -> str:
    hours, rest = divmod(seconds, 3600)
    if hours < 24:
        return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours:0{hour_digits}d}h{rest // 60:02d}m"


def _header(summary: Mapping[str, Any], separator: str, peers: list[_Peer]) -> list[str]:
    established = sum(1 for p in peers if p.state == "Established")
    local = "BGP local router ID"
    return ["", f" {local}{separator}{summary.get('routerId', '0.0.0.0')}",
            f" Local AS number{separator}{summary.get('as', 0)}",
            f" {f'Total number of peers{separator}{len(peers)}':<42}Peers in established state{separator}{established}",
            ""]


def vrp_bgp_peers(summary: Mapping[str, Any]) -> list[str]:
    """``display bgp ipv6 peer`` (nothing when BGP is not configured)."""
    if not summary:
        return []
    peers = _peers(summary)
    out = [*_header(summary, " : ", peers),
           "  Peer            V          AS  MsgRcvd  MsgSent  OutQ  Up/Down       State  PrefRcv"]
    for p in peers:
        columns = (f"4 {p.asn:>11} {p.received:>8} {p.sent:>8} {p.queued:>5} {_uptime(p.uptime_s, 1):>8} "
                   f"{p.state:>11} {p.prefixes:>8}")
        out += [f"  {p.address}", f"{'':18}{columns}"] if len(p.address) > 15 else [f"  {p.address:<15} {columns}"]
    return out


def comware_bgp_peers(summary: Mapping[str, Any]) -> list[str]:
    """``display bgp peer ipv6`` (nothing when BGP is not configured)."""
    if not summary:
        return []
    peers = _peers(summary)
    out = [*_header(summary, ": ", peers), "  * - Dynamically created peer",
           "  Peer                    AS  MsgRcvd  MsgSent OutQ PrefRcv Up/Down  State", ""]
    for p in peers:
        columns = (f"{p.asn:>10} {p.received:>8} {p.sent:>8} {p.queued:>4} {p.prefixes:>7} "
                   f"{_uptime(p.uptime_s, 4)} {p.state}")
        out += [f"  {p.address}", f"{'':14}{columns}"] if len(p.address) > 18 else [f"  {p.address:<18} {columns}"]
    return out


_VRP_LEGEND = ("PHY: Physical", "*down: administratively down", "^down: standby", "(l): loopback", "(s): spoofing",
               "(b): BFD down", "(e): ETHOAM down", "(v): VirtualPort", "InUti/OutUti: input utility/output utility")


def vrp_interfaces(ports: list[Port]) -> list[str]:
    """``display interface brief``."""
    out = [*_VRP_LEGEND, "Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors"]
    for port in ports:
        phy = "*down" if port.shutdown else "up" if port.link_up else "down"
        protocol = ("up(s)" if port.spoofing else "up") if port.protocol_up else "down"
        out.append(f"{port.name:<27} {phy:<5} {protocol:<9} {'0%':>5} {'0%':>6} {0:>10} {0:>10}")
    return out


def short_name(name: str) -> str:
    """Comware's abbreviation of an interface name in its tables (``GigabitEthernet1/0/1`` -> ``GE1/0/1``)."""
    return next((short + name[len(full):] for full, short in _SHORT
                 if name.startswith(full) and name[len(full):][:1].isdigit()), name)


def comware_interfaces(ports: list[Port]) -> list[str]:
    """``display interface brief`` (every interface in route mode)."""
    out = ["Brief information on interfaces in route mode:", "Link: ADM - administratively down; Stby - standby",
           "Protocol: (s) - spoofing", "Interface            Link Protocol Primary IP        Description"]
    for port in ports:
        link = "ADM" if port.shutdown else "UP" if port.link_up else "DOWN"
        protocol = ("UP(s)" if port.spoofing else "UP") if port.protocol_up else "DOWN"
        out.append(f"{short_name(port.name):<20} {link:<4} {protocol:<8} {'--':<17} {port.description[:27]}".rstrip())
    return out


@dataclass(frozen=True)
class _Hop:
    prefix: str
    protocol: str
    distance: int
    metric: int
    address: str
    interface: str


def _hops(routes: Mapping[str, Any], rename: Rename) -> list[_Hop]:
    """One row per active next hop of every selected route, in FRR's order."""
    out = []
    for prefix, entries in routes.items():
        for entry in entries:
            if not entry.get("selected"):
                continue
            for hop in entry.get("nexthops", []):
                if not hop.get("active"):
                    continue
                where = "NULL0" if hop.get("blackhole") else rename(hop.get("interfaceName", "NULL0"))
                out.append(_Hop(prefix, str(entry.get("protocol", "")), int(entry.get("distance", 0)),
                                int(entry.get("metric", 0)), str(hop.get("ip", "::")).upper(), where))
    return out


_VRP_PROTOCOLS = {"connected": "Direct", "local": "Direct", "kernel": "Direct", "static": "Static", "bgp": "EBGP",
                  "ospf6": "OSPFv3"}
_COMWARE_PROTOCOLS = {"connected": "Direct", "local": "Direct", "kernel": "Direct", "static": "Static",
                      "bgp": "BGP4+", "ospf6": "O_INTRA"}


def vrp_routes(routes: Mapping[str, Any], rename: Rename) -> list[str]:
    """``display ipv6 routing-table verbose``: ``rename`` gives the vendor name of a Linux interface."""
    hops = _hops(routes, rename)
    out = ["Routing Table : Public", f"\tDestinations : {len({h.prefix for h in hops})}\tRoutes : {len(hops)}"]
    for h in hops:
        address, length = h.prefix.split("/")
        out += ["", f" Destination  : {address.upper():<31} PrefixLength : {length}",
                f" NextHop      : {h.address:<31} Preference   : {h.distance}",
                f" Neighbour    : {'::':<31} ProcessID    : 0",
                f" Label        : {'NULL':<31} Protocol     : {_VRP_PROTOCOLS.get(h.protocol, h.protocol)}",
                f" State        : {'Active Adv':<31} Cost         : {h.metric}",
                f" Entry ID     : {0:<31} EntryFlags   : 0x00000000",
                f" Reference Cnt: {1:<31} Tag          : 0",
                f" Priority     : {'low':<31} Age          : 0sec",
                " IndirectID   : 0x0",
                f" RelayNextHop : {'::':<31} TunnelID     : 0x0",
                f" Interface    : {h.interface:<31} Flags        : D"]
    return out


def comware_routes(routes: Mapping[str, Any], rename: Rename) -> list[str]:
    """``display ipv6 routing-table``: ``rename`` gives the vendor name of a Linux interface."""
    hops = _hops(routes, rename)
    out = ["", f"Destinations : {len({h.prefix for h in hops})}        Routes : {len(hops)}"]
    for h in hops:
        out += ["", f"Destination: {h.prefix.upper():<40} Protocol  : "
                    f"{_COMWARE_PROTOCOLS.get(h.protocol, h.protocol)}",
                f"NextHop    : {h.address:<40} Preference: {h.distance}",
                f"Interface  : {short_name(h.interface):<40} Cost      : {h.metric}"]
    return out
