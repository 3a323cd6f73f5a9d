"""Parameter types of the command grammar, with the devices' validation and display forms.

Each parser takes the remaining tokens and returns (tokens consumed, canonical text) or raises
:class:`ParamError`. Canonical forms are what the devices display: IPv6 in upper case compressed
form, masks dotted, OSPF areas dotted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from nxgov.lab.netsim.faults import Fault, ParamError
from nxgov.lab.netsim.interfaces import Interfaces

Parser = Callable[[list[str], Interfaces], tuple[int, str]]


def _ipv4(text: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise ParamError(Fault.WRONG) from None


def _ipv6(text: str) -> ipaddress.IPv6Address:
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        raise ParamError(Fault.WRONG) from None


def _show6(address: ipaddress.IPv6Address) -> str:
    return address.compressed.upper()


def _number(text: str, low: int, high: int, offset: int = 0) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ParamError(Fault.WRONG, offset)
    return int(text)


def _prefix(tokens: list[str], host: bool) -> tuple[int, ipaddress.IPv6Address, int]:
    """``X/len`` or ``X len``; ``host`` demands a usable unicast interface address (len 1-128)."""
    text, used, length_text = tokens[0], 1, ""
    if "/" in text:
        text, length_text = text.split("/", 1)
    elif len(tokens) > 1:
        used, length_text = 2, tokens[1]
    else:
        raise ParamError(Fault.INCOMPLETE, 1)
    address = _ipv6(text)
    length = _number(length_text, 1 if host else 0, 128, used - 1)
    if host and (address.is_multicast or address.is_unspecified or address.is_loopback or address.is_link_local):
        raise ParamError(Fault.WRONG)
    return used, address, length


def word(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    return 1, tokens[0]


def text(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    return len(tokens), " ".join(tokens)


def ipv4(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    return 1, str(_ipv4(tokens[0]))


def ipv6(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    return 1, _show6(_ipv6(tokens[0]))


def ip(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    return 1, _show6(_ipv6(tokens[0])) if ":" in tokens[0] else str(_ipv4(tokens[0]))


def link_local(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    """A link-local address (``ipv6 address fe80::1 link-local``)."""
    address = _ipv6(tokens[0])
    if not address.is_link_local:
        raise ParamError(Fault.WRONG)
    return 1, _show6(address)


def ipv6_address(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    """An interface address: ``2001:db8::1/64`` or ``2001:db8::1 64``, shown as ``2001:DB8::1/64``."""
    used, address, length = _prefix(tokens, host=True)
    return used, f"{_show6(address)}/{length}"


def ipv6_network(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    """A route or BGP network: ``2001:db8:: 32`` or ``2001:db8::/32``, shown as ``2001:DB8:: 32``."""
    used, address, length = _prefix(tokens, host=False)
    try:
        network = ipaddress.IPv6Network(f"{address}/{length}")
    except ValueError:
        raise ParamError(Fault.WRONG) from None
    return used, f"{_show6(network.network_address)} {length}"


def mask(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    """An IPv4 mask, dotted or as a length, shown dotted."""
    value = tokens[0]
    length = _number(value, 0, 32) if value.isdigit() else None
    if length is None:
        try:
            length = ipaddress.IPv4Network(f"0.0.0.0/{value}").prefixlen
        except ValueError:
            raise ParamError(Fault.WRONG) from None
    return 1, str(ipaddress.IPv4Network(f"0.0.0.0/{length}").netmask)


def asn(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    return 1, str(_number(tokens[0], 1, 4294967295))


def area(tokens: list[str], _: Interfaces) -> tuple[int, str]:
    """An OSPF area as a number or dotted quad, shown dotted."""
    value = tokens[0]
    return 1, str(ipaddress.IPv4Address(_number(value, 0, 4294967295))) if value.isdigit() else str(_ipv4(value))


def interface(tokens: list[str], interfaces: Interfaces) -> tuple[int, str]:
    return interfaces.parse(tokens)


def integer(low: int, high: int) -> Parser:
    def parse(tokens: list[str], _: Interfaces) -> tuple[int, str]:
        return 1, str(_number(tokens[0], low, high))

    return parse


PARSERS: dict[str, Parser] = {
    "word": word,
    "text": text,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "ip": ip,
    "ipv6-address": ipv6_address,
    "link-local": link_local,
    "ipv6-network": ipv6_network,
    "mask": mask,
    "asn": asn,
    "area": area,
    "interface": interface,
}


def parser(name: str) -> Parser:
    """The parser for ``<name>``; ``<int:low-high>`` is a bounded integer."""
    if name.startswith("int:"):
        low, high = name[4:].split("-")
        return integer(int(low), int(high))
    return PARSERS[name]
