"""Interface names of the extranet's link ports: each platform's default, a model's pattern, a device's own.

The numbering plan gives each link a stable port number per device (0, 1, ... uplinks first); what
the device calls that port is decided here, in this order: the device's own ``ports`` mapping, the
pattern of its ``model`` (``extranet.models``), the platform's default pattern. A pattern holds one
slot, ``{n}`` (the port number) or ``{n+K}`` (the number plus K, for ports a platform counts from 1):
``100GE1/0/{n+1}`` names port 0 ``100GE1/0/1``.

A name is checked for what its platform takes: never empty, no white space, not the loopback's name;
on FRR a Linux interface name (at most 15 characters, no ``/`` or ``:``); on the vendor platforms a
type followed by a number (``XGigabitEthernet0/0/1``, ``100GE1/0/1``, ``Eth-Trunk1``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_PATTERNS: dict[str, str] = {
    "huawei_vrp": "GigabitEthernet0/0/{n}",
    "h3c_comware": "GigabitEthernet1/0/{n+1}",
    "frr": "eth{n}",
    "cisco_ios": "GigabitEthernet0/{n}",
}
"""Each platform's naming when the estate says nothing (what nxgov has always rendered)."""

LOOPBACKS: dict[str, str] = {"huawei_vrp": "LoopBack0", "h3c_comware": "LoopBack0", "frr": "lo",
                             "cisco_ios": "Loopback0"}
"""The loopback each renderer configures: no link port may take its name."""

IFNAMSIZ = 15
_SLOT = re.compile(r"\{n(?:\+(\d{1,4}))?\}")
_VENDOR_NAME = re.compile(r"^(?=[0-9]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_./:-]*[0-9]$")
_LINUX_BAD = re.compile(r"[/:\s]")
PATTERN_HINT = 'a name with {n} where the port number goes, e.g. "100GE1/0/{n}" (or "{n+1}" to count from 1)'


@dataclass(frozen=True)
class Pattern:
    """A port-naming pattern: ``text`` around one ``{n}`` / ``{n+K}`` slot."""

    head: str
    tail: str
    offset: int

    @property
    def text(self) -> str:
        return f"{self.head}{{n{f'+{self.offset}' if self.offset else ''}}}{self.tail}"

    def name(self, port: int) -> str:
        return f"{self.head}{port + self.offset}{self.tail}"

    def port(self, name: str) -> int | None:
        """The port this pattern gives ``name`` to (None: none does)."""
        if not (name.startswith(self.head) and name.endswith(self.tail)) or len(name) <= len(self.head + self.tail):
            return None
        middle = name[len(self.head):len(name) - len(self.tail)]
        if not middle.isdigit() or (middle != "0" and middle.startswith("0")) or int(middle) < self.offset:
            return None
        return int(middle) - self.offset


def parse_pattern(text: str) -> Pattern:
    """The pattern ``text``; ValueError (an operator's message) when it is not one."""
    slots = list(_SLOT.finditer(text))
    if len(slots) != 1:
        raise ValueError(f"{text!r} has {'no' if not slots else len(slots)} {{n}} "
                         f"{'slot' if not slots else 'slots'}: a port pattern needs exactly one")
    slot = slots[0]
    head, tail = text[:slot.start()], text[slot.end():]
    if any(c in head + tail for c in "{}"):
        raise ValueError(f"{text!r} has a brace outside its {{n}} slot")
    return Pattern(head, tail, int(slot.group(1) or 0))


def name_problem(name: str, platform: str) -> str | None:
    """Why ``name`` cannot name a link port on ``platform`` (None: it can)."""
    if not name:
        return "an interface name cannot be empty"
    if any(c.isspace() for c in name):
        return f"interface name {name!r} has white space"
    if not name.isascii() or not name.isprintable():
        return f"interface name {name!r} has characters other than printable ASCII"
    if name.lower() == LOOPBACKS.get(platform, "").lower():
        return f"{name!r} is the loopback {platform} devices are configured with, not a link port"
    if platform == "frr":
        if len(name) > IFNAMSIZ or _LINUX_BAD.search(name) or name in (".", ".."):
            return (f"{name!r} is not a Linux interface name (FRR): at most {IFNAMSIZ} characters, "
                    "no '/', ':' or white space")
    elif not _VENDOR_NAME.match(name) or len(name) > 63:
        return (f"{name!r} is not a {platform} interface name: an interface type then its number, "
                "e.g. GigabitEthernet0/0/1")
    return None


def pattern_problem(pattern: Pattern, platform: str) -> str | None:
    """Why ``pattern`` cannot name ``platform``'s ports (checked on port 0 and port 999)."""
    for port in (0, 999):
        problem = name_problem(pattern.name(port), platform)
        if problem is not None:
            return f"pattern {pattern.text!r} makes port {port} {pattern.name(port)!r}: {problem}"
    return None


def default_name(platform: str, port: int) -> str:
    """The platform's own name for ``port`` (:data:`DEFAULT_PATTERNS`)."""
    return _DEFAULTS[platform].name(port)


def namer(platform: str, pattern: str | None = None, ports: Mapping[int, str] | None = None) -> Callable[[int], str]:
    """The name of each port of a device: from ``ports``, else ``pattern``, else the platform's default."""
    rule = parse_pattern(pattern or DEFAULT_PATTERNS[platform])
    own = dict(ports or {})

    def name(port: int) -> str:
        return own.get(port) or rule.name(port)

    return name


def clashes(platform: str, pattern: str | None, ports: Mapping[int, str]) -> list[tuple[int, str]]:
    """``(port, message)`` for each mapped name another port also gets: mapped twice, or what the pattern gives
    a port that is not mapped (that port, once the plan gives it to a link, would share the interface)."""
    rule = parse_pattern(pattern or DEFAULT_PATTERNS[platform])
    out: list[tuple[int, str]] = []
    first: dict[str, int] = {}
    for port, name in sorted(ports.items()):
        if name in first:
            out.append((port, f"{name!r} is mapped to port {first[name]} and to port {port}"))
            continue
        first[name] = port
        other = rule.port(name)
        if other is not None and other != port and other not in ports:
            out.append((port, f"port {port} is mapped to {name!r}, the name pattern {rule.text!r} gives port {other}"))
    return out


_DEFAULTS: dict[str, Pattern] = {platform: parse_pattern(text) for platform, text in DEFAULT_PATTERNS.items()}
