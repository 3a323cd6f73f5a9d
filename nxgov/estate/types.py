"""Field types of the estate with validation messages written for operators."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_DIVISION = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def fail(message: str, hint: str | None = None) -> PydanticCustomError:
    """An error pydantic reports at the field, carrying an operator hint in its context."""
    return PydanticCustomError("nxgov", "{message}", {"message": message, "hint": hint or ""})


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        got = "nothing" if value is None else f"{type(value).__name__} {value!r}"
        raise fail(f"expected {what}, got {got}", f"write {what} as quoted text")
    return str(value)


SLUG_HINT = "use 2-32 lower-case letters, digits and '-', starting with a letter (e.g. nxdrc, nxdrc-oa)"


def is_slug(text: str) -> bool:
    """Whether ``text`` is a valid code (:data:`Slug`): estate, department, system, network and node names."""
    return _SLUG.match(text) is not None


def _slug(value: Any) -> str:
    text = _text(value, "a code")
    if not is_slug(text):
        raise fail(f"{text!r} is not a valid code", SLUG_HINT)
    return text


def _division(value: Any) -> str:
    text = _text(value, "a division code")
    if not _DIVISION.match(text):
        raise fail(f"{text!r} is not an administrative division code",
                   "use the GB/T 2260 code: 6 digits (region/city/county), 9 (township) or 12 (village), quoted")
    return text


def _host(value: Any) -> str:
    text = _text(value, "an address or host name")
    if ":" in text or text.replace(".", "").isdigit():
        try:
            (ipaddress.IPv6Address if ":" in text else ipaddress.IPv4Address)(text)
            return text
        except ValueError:
            raise fail(f"{text!r} is not a valid IP address", "e.g. 2001:db8:6400::21 or 198.51.100.10") from None
    if not _HOSTNAME.match(text):
        raise fail(f"{text!r} is neither an IP address nor a host name", "e.g. 2001:db8:6400::21 or ce1.nx.gov.cn")
    return text


def _network(value: Any, version: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    text = _text(value, f"an IPv{version} prefix")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise fail(f"{text!r} is not a valid IPv{version} prefix",
                   "write address/length, e.g. " + ("10.64.1.0/24" if version == 4 else "2001:db8:6400::/40")
                   ) from None
    if net.version != version:
        raise fail(f"{text!r} is an IPv{net.version} prefix where IPv{version} is expected")
    if "/" not in text:
        raise fail(f"{text!r} has no prefix length", f"write it as {net}")
    if net.network_address != ipaddress.ip_address(text.split("/")[0]):
        raise fail(f"{text!r} has host bits set", f"did you mean {net}?")
    return net


def _ipv4(value: Any) -> ipaddress.IPv4Network:
    net = _network(value, 4)
    assert isinstance(net, ipaddress.IPv4Network)
    return net


def _ipv6(value: Any) -> ipaddress.IPv6Network:
    net = _network(value, 6)
    assert isinstance(net, ipaddress.IPv6Network)
    return net


def _any_network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    text = _text(value, "an IP prefix")
    return _network(text, 6 if ":" in text else 4)


def _ipv6_or_auto(value: Any) -> ipaddress.IPv6Network | str:
    if value == "auto":
        return "auto"
    return _ipv6(value)


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    text = _text(value, "a duration")
    match = _DURATION.match(text.strip())
    if not match:
        raise fail(f"{text!r} is not a duration", "write a number and a unit: 30m, 4h, 14d, 2w")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


_as_str = PlainSerializer(str, return_type=str)

Slug = Annotated[str, BeforeValidator(_slug)]
DivisionCode = Annotated[str, BeforeValidator(_division)]
Host = Annotated[str, BeforeValidator(_host)]
IPv4Prefix = Annotated[ipaddress.IPv4Network, BeforeValidator(_ipv4), _as_str]
IPv6Prefix = Annotated[ipaddress.IPv6Network, BeforeValidator(_ipv6), _as_str]
AnyPrefix = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, BeforeValidator(_any_network), _as_str]
IPv6PrefixOrAuto = Annotated[ipaddress.IPv6Network | str, BeforeValidator(_ipv6_or_auto), _as_str]
Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)]
