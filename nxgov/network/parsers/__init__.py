"""Reading vendor devices' ``display`` output into typed getter results (TextFSM templates).

Each platform module (:mod:`~nxgov.network.parsers.vrp`, :mod:`~nxgov.network.parsers.comware`) names its
commands as :class:`~nxgov.network.parsers.fsm.Command` objects (``BGP_PEERS``, ``INTERFACES``, ``ROUTES``):
``Command.parse(output)`` gives a :class:`Parsed` with every row and every line that was not understood, and
``Parsed.rows_or_raise(device)`` the rows or a :class:`ParseError` naming the command and the lines. Templates
are ntc-templates' where one fits the command (interface briefs) and nxgov's own, in the same format, where none
does (IPv6 BGP peers with wrapped addresses, IPv6 routing tables).
"""

from __future__ import annotations

from nxgov.network.parsers.fsm import Command
from nxgov.network.parsers.results import (
    BGP_STATES,
    BgpPeer,
    BgpState,
    InterfaceState,
    NextHop,
    Parsed,
    ParseError,
    Route,
)

__all__ = ["BGP_STATES", "BgpPeer", "BgpState", "Command", "InterfaceState", "NextHop", "ParseError", "Parsed",
           "Route"]
