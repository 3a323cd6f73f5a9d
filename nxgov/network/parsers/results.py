"""What the getters return, one shape for every platform (in the spirit of NAPALM's getters).

A parse gives a :class:`Parsed`: the rows it understood and every line it did not (``unparsed``), so a line
no rule knows is reported (:meth:`Parsed.rows_or_raise`, :class:`ParseError`), never read as "down".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from nxgov.errors import OperationError

BgpState = Literal["Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"]
BGP_STATES: tuple[BgpState, ...] = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")


@dataclass(frozen=True)
class BgpPeer:
    """One BGP session (``address`` compressed, lower case). ``uptime_seconds``: how long it has been Established
    (None in any other state: the devices' Up/Down column then counts the time since it went down)."""

    address: str
    remote_as: int
    state: BgpState
    uptime_seconds: int | None
    prefixes_received: int | None


@dataclass(frozen=True)
class InterfaceState:
    """One interface: administratively enabled, and operationally up (its line protocol)."""

    name: str
    admin_up: bool
    oper_up: bool


@dataclass(frozen=True)
class NextHop:
    """One active next hop of a route: its address and the interface it leaves by (None when not shown)."""

    address: str
    interface: str | None


@dataclass(frozen=True)
class Route:
    """The route in use to ``prefix`` and its active next hops (prefix and addresses compressed, lower case:
    ``2001:db8::/48``)."""

    prefix: str
    protocol: str
    next_hops: tuple[NextHop, ...]

    @property
    def interfaces(self) -> tuple[str, ...]:
        """The interfaces of the next hops, sorted, each once."""
        return tuple(sorted({hop.interface for hop in self.next_hops if hop.interface is not None}))


Row = TypeVar("Row")


class ParseError(OperationError):
    """A device answered a command with lines no parser rule understands; ``lines`` lists them."""

    def __init__(self, command: str, lines: tuple[str, ...], device: str = "") -> None:
        shown = "; ".join(repr(line) for line in lines[:3]) + (f" and {len(lines) - 3} more" if len(lines) > 3 else "")
        where = f"{device}: " if device else ""
        super().__init__(f"{where}{command!r} printed {len(lines)} line{'s' if len(lines) != 1 else ''} nxgov "
                         f"cannot read: {shown}",
                         "the device's software may print a format nxgov does not know yet: report the lines "
                         "(nothing was judged from this answer)")
        self.command = command
        self.lines = lines
        self.device = device


@dataclass(frozen=True)
class Parsed(Generic[Row]):
    """The rows read from one command's output, and the lines no rule matched (blank lines and known headers
    excluded)."""

    command: str
    rows: tuple[Row, ...]
    unparsed: tuple[str, ...]

    def rows_or_raise(self, device: str = "") -> tuple[Row, ...]:
        """The rows, or ParseError naming the command and the lines when any line was not understood."""
        if self.unparsed:
            raise ParseError(self.command, self.unparsed, device)
        return self.rows
