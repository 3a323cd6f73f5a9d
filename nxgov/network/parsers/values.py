"""Reading the values devices print: AS numbers, durations, addresses, BGP peer rows."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

from nxgov.network.parsers.results import BGP_STATES, BgpPeer, BgpState, NextHop, Route

_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_CLOCK = re.compile(r"(\d+):(\d\d):(\d\d)")
_UNITS = (7 * 86400, 86400, 3600, 60, 1)
_STATES: dict[str, BgpState] = {state: state for state in BGP_STATES}


def asn(text: str) -> int:
    """An AS number in asplain (``4259844162``) or asdot (``635.88`` = 635 * 65536 + 88); ValueError otherwise."""
    high, dot, low = text.partition(".")
    if dot:
        if int(high) > 0xFFFF or int(low) > 0xFFFF:
            raise ValueError(f"{text} is not an asdot AS number")
        return int(high) * 65536 + int(low)
    value = int(text)
    if value > 0xFFFFFFFF:
        raise ValueError(f"{text} is larger than a 4-byte AS number")
    return value


def seconds(text: str) -> int:
    """A duration as BGP tables print it: ``00:05:12``, ``626h43m``, ``0286h47m``, ``2d03h``, ``1w2d``,
    ``04h13m03s``; ValueError otherwise."""
    clock = _CLOCK.fullmatch(text)
    if clock:
        hours, minutes, secs = (int(part) for part in clock.groups())
        return hours * 3600 + minutes * 60 + secs
    units = _DURATION.fullmatch(text)
    if not text or units is None:
        raise ValueError(f"{text!r} is not a duration")
    return sum(int(part) * unit for part, unit in zip(units.groups(), _UNITS, strict=True) if part)


def address(text: str) -> str:
    """An IP address in its compressed lower-case form (``2001:DB8::1`` -> ``2001:db8::1``); ValueError otherwise."""
    return ipaddress.ip_address(text).compressed


def prefix(text: str) -> str:
    """A prefix in its compressed lower-case form (host bits must be zero); ValueError otherwise."""
    return ipaddress.ip_network(text).compressed


def routes(records: Iterable[dict[str, Any]], destination: Callable[[dict[str, Any]], str],
           interface: Callable[[dict[str, Any]], str | None], bad: list[str]) -> list[Route]:
    """The routes of a routing table's records (values NEXT_HOP, PROTOCOL; the destination and the interface as
    ``destination`` and ``interface`` read them), ECMP blocks (one per next hop, same destination) merged into one
    route; a record whose destination or next hop is not an address is appended to ``bad``."""
    merged: dict[str, Route] = {}
    for r in records:
        try:
            net = prefix(destination(r))
            hop = NextHop(address(r["NEXT_HOP"]), interface(r))
        except ValueError as error:
            bad.append(f"Destination {destination(r)} NextHop {r['NEXT_HOP']} ({error})")
            continue
        known = merged.get(net)
        merged[net] = Route(net, r["PROTOCOL"], (*known.next_hops, hop) if known else (hop,))
    return list(merged.values())


def bgp_peers(records: list[dict[str, Any]]) -> tuple[list[BgpPeer], list[str]]:
    """The peers of a BGP peer table's records (values PEER or WRAPPED, ASN, UP_DOWN, STATE, PREF_RCVD) and the
    rows that are not a peer: an address wrapped onto its own line but never continued, a row with no address,
    a value no peer can have (an
    AS number too large, an address that is none)."""
    peers: list[BgpPeer] = []
    bad: list[str] = []
    for record in records:
        wrapped, peer = record["WRAPPED"], record["PEER"]
        if wrapped and (peer or not record["STATE"]):
            bad.append(f"{wrapped} (an address with no session columns after it)")
            wrapped = ""
        if not record["STATE"]:
            continue
        row = " ".join(value for key, value in record.items() if key not in ("PEER", "WRAPPED") and value)
        if not (peer or wrapped):
            bad.append(f"{row} (session columns with no peer address)")
            continue
        try:
            peers.append(_peer(peer or wrapped, record))
        except ValueError as error:
            bad.append(f"{peer or wrapped} {row} ({error})")
    return peers, bad


def _peer(peer: str, record: dict[str, Any]) -> BgpPeer:
    state = _STATES[record["STATE"]]  # the templates match the six states only: any other leaves the line unparsed
    uptime = seconds(record["UP_DOWN"])
    return BgpPeer(address(peer), asn(record["ASN"]), state, uptime if state == "Established" else None,
                   int(record["PREF_RCVD"]))
