"""A device's interfaces: physical ports that must exist, logical ones created on first use.

``interface loopback 1``, ``interface LoopBack1`` and ``int lo1`` all name ``LoopBack1``, as on the
real CLIs: the type is matched case-insensitively by unique prefix. An unknown type is an
unrecognized keyword; a physical port the device does not have, or a logical number out of range,
is a wrong parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nxgov.lab.netsim.faults import Fault, ParamError

_NAME = re.compile(r"^(?P<type>[A-Za-z][A-Za-z-]*?)(?P<number>\d[\d/:.]*)$")
_TYPE = re.compile(r"^[A-Za-z][A-Za-z-]*$")


@dataclass(frozen=True)
class LogicalType:
    """An interface type the device creates on ``interface <type><n>`` for ``low <= n <= high``."""

    name: str
    low: int
    high: int


class Interfaces:
    def __init__(self, physical: tuple[str, ...], logical: tuple[LogicalType, ...]) -> None:
        self.physical = physical
        self._logical = {t.name: t for t in logical}
        stems = {self._split(name)[0] for name in physical}
        self._types = sorted(stems | set(self._logical))

    def parse(self, tokens: list[str]) -> tuple[int, str]:
        """(tokens consumed, canonical name) for ``tokens`` naming an interface; ParamError if none."""
        text, used = tokens[0], 1
        if len(tokens) > 1 and _TYPE.match(tokens[0]) and tokens[1][:1].isdigit():
            text, used = tokens[0] + tokens[1], 2
        match = _NAME.match(text)
        if match is None:
            raise ParamError(Fault.UNRECOGNIZED)
        kind = self._type(match["type"])
        name = kind + match["number"]
        logical = self._logical.get(kind)
        if logical is not None:
            number = match["number"]
            if not number.isdigit() or not logical.low <= int(number) <= logical.high:
                raise ParamError(Fault.WRONG, used - 1)
        elif name not in self.physical:
            raise ParamError(Fault.WRONG, used - 1)
        return used, name

    def is_physical(self, name: str) -> bool:
        return name in self.physical

    def order(self, name: str) -> tuple[int, str, int]:
        """Sort key: physical ports in device order, then logical ones by type and number."""
        if name in self.physical:
            return (self.physical.index(name), "", 0)
        kind, number = self._split(name)
        return (len(self.physical), kind, int(number) if number.isdigit() else 0)

    def _type(self, typed: str) -> str:
        lowered = typed.lower()
        exact = [t for t in self._types if t.lower() == lowered]
        found = exact or [t for t in self._types if t.lower().startswith(lowered)]
        if len(found) != 1:
            raise ParamError(Fault.AMBIGUOUS if found else Fault.UNRECOGNIZED)
        return found[0]

    @staticmethod
    def _split(name: str) -> tuple[str, str]:
        match = _NAME.match(name)
        return (match["type"], match["number"]) if match else (name, "")
