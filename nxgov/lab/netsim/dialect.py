"""The one command grammar of both CLIs, and the :class:`Dialect` that declares where a platform differs.

VRP and Comware share their views and nearly all their commands. Everything that differs — a
keyword, a range, a command only one has, a prompt label, a message — is a field of the platform's
dialect (``vrp.VRP``, ``comware.COMWARE``); :func:`_views` is the grammar itself, written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from nxgov.lab.netsim.device import Profile
from nxgov.lab.netsim.grammar import Grammar, Rule
from nxgov.lab.netsim.show import Port, Rename

Rules = tuple[Rule, ...]

_EXEC: Rules = (  # every view accepts these
    Rule("display current-configuration", "display-current"),
    Rule("display saved-configuration", "display-saved"),
    Rule("display this", "display-this"),
    Rule("display version", "display-version"),
    Rule("quit", "quit"),
    Rule("return", "return"),
    Rule("save", "save"),
)
BFD_MULTIPLIER = "<int:3-50>"
"""A BFD detection multiplier, the same range on both platforms: VRP ``peer bfd ... detect-multiplier``
"an integer ranging from 3 to 50" (Huawei NetEngine 8000 command reference, "peer bfd"); Comware 7
``bfd detect-multiplier`` "in the range of 3 to 50" (HP MSR2000/3000/4000 High Availability Command
Reference, Comware 7, "bfd detect-multiplier")."""

_VPN_TARGETS: Rules = (
    Rule("route-distinguisher <word>", replace=True),
    Rule("vpn-target <word> export-extcommunity|import-extcommunity|both"),
)


@dataclass(frozen=True)
class Dialect:
    """One platform's differences from the shared grammar, and its texts."""

    profile: Profile
    paging_off: str  # the user-view command that turns paging off
    paging_reply: str  # ... and what it prints
    save_force: bool  # ``save force`` saves without the dialogue
    ipv6_switches: bool  # ``ipv6`` (system view) and ``ipv6 enable`` (interface) exist
    bgp_family: str  # how a BGP address family is entered; ``{}`` is ipv6 / ipv4
    load_balancing: str  # the BGP address family's multipath line
    bandwidth_reference_max: int  # the highest OSPFv3 reference bandwidth
    vpn_family: bool  # a VPN instance's RD and targets are set in its ``ipv6-family`` view, not in it
    bgp_label: str  # prompt label of the BGP view
    family_label: str  # prompt label of an address-family view; ``{}`` is ipv6 / ipv4
    bfd_view: bool  # ``bfd`` (system view) enables BFD globally and opens the BFD view
    bgp_peer: Rules  # the BGP view's peer lines only this platform has (BFD for the peer, the passive end)
    interface_bfd: Rules  # the interface view's BFD lines (the session timers, where the platform sets them)
    error_prefix: str  # before "Unrecognized command found at '^' position."
    system_view_text: str
    version: tuple[str, ...]  # ``display version``
    banner: tuple[str, ...]  # printed on login; ``{sessions}`` is the number of VTY users
    state_commands: Mapping[str, str]  # the state ``display`` commands: action (show-bgp, ...) -> command
    show_bgp: Callable[[Mapping[str, Any]], list[str]]  # the BGP peer table from FRR's summary JSON
    show_interfaces: Callable[[list[Port]], list[str]]  # the interface brief table
    show_routes: Callable[[Mapping[str, Any], Rename], list[str]]  # the routing table from FRR's route JSON

    @cached_property
    def grammars(self) -> dict[str, Grammar]:
        """Each view's grammar (by view kind; ``user`` and ``system`` for the two top views)."""
        return {view: Grammar((*self._exec, *rules)) for view, rules in self._views().items()}

    @cached_property
    def labels(self) -> dict[str, str]:
        """Each entered view's prompt label, formatted with the parameters of the command entering it."""
        families = {f"bgp-af-{af}": self.family_label.format(af) for af in ("ipv6", "ipv4")}
        vpn = {"vpn-af-ipv6": self.family_label.format("ipv6")} if self.vpn_family else {}
        shared = {"ospfv3": "ospfv3-{0}", "ospfv3-area": "area-{0}", "vpn-instance": "vpn-instance-{0}"}
        bfd = {"bfd": "bfd"} if self.bfd_view else {}
        return {"interface": "{0}", "bgp": self.bgp_label, **families, **shared, **vpn, **bfd}

    @property
    def _exec(self) -> Rules:
        state = tuple(Rule(command, action) for action, command in self.state_commands.items())
        return (*_EXEC, *state, *((Rule("save force", "save-force"),) if self.save_force else ()))

    def _views(self) -> dict[str, Rules]:
        ipv6 = self.ipv6_switches
        family = self.bgp_family.format
        af = (
            Rule("peer <ip> enable"),
            Rule("peer <ip> route-policy <word> import|export"),
            Rule("network <ipv6-network>"),
            Rule("import-route direct|static"),
            Rule("import-route ospfv3 <int:1-65535>"),
            Rule(self.load_balancing, replace=True),
        )
        views: dict[str, Rules] = {
            "user": (Rule("system-view", "system-view"), Rule(self.paging_off, "screen-length")),
            "system": (
                Rule("sysname <word>", replace=True),
                *((Rule("ipv6"),) if ipv6 else ()),
                *((Rule("bfd", "enter", "bfd"),) if self.bfd_view else ()),
                Rule("router id <ipv4>", replace=True),
                Rule("interface <interface>", "enter", "interface"),
                Rule("bgp <asn>", "enter", "bgp"),
                Rule("ospfv3 <int:1-65535>", "enter", "ospfv3"),
                Rule("ip vpn-instance <word>", "enter", "vpn-instance"),
                Rule("ip route-static <ipv4> <mask> <text>"),
                Rule("ipv6 route-static <ipv6-network> <text>"),
            ),
            "interface": (
                Rule("description <text>", replace=True),
                Rule("shutdown"),
                Rule("mtu <int:46-9600>", replace=True),
                *((Rule("ipv6 enable"),) if ipv6 else ()),
                Rule("ipv6 address <ipv6-address>"),
                Rule("ipv6 address auto link-local"),
                Rule("ipv6 address <link-local> link-local"),
                Rule("ip address <ipv4> <mask>", replace=True),
                Rule("ip binding vpn-instance <word>", replace=True),
                Rule("ospfv3 <int:1-65535> area <area>", replace=True),
                *self.interface_bfd,
            ),
            "bgp": (
                Rule("router-id <ipv4>", replace=True),
                Rule("peer <ip> as-number <asn>", replace=True),
                Rule("peer <ip> description <text>", replace=True),
                Rule("peer <ip> connect-interface <interface>", replace=True),
                Rule("peer <ip> timer keepalive <int:0-21845> hold <int:0-65535>", replace=True, key=3),
                Rule("timer keepalive <int:0-21845> hold <int:0-65535>", replace=True, key=1),
                *self.bgp_peer,
                Rule(family("ipv6"), "enter", "bgp-af-ipv6"),
                Rule(family("ipv4"), "enter", "bgp-af-ipv4"),
            ),
            "bgp-af-ipv6": af,
            "bgp-af-ipv4": af,
            "ospfv3": (
                Rule("router-id <ipv4>", replace=True),
                Rule(f"bandwidth-reference <int:1-{self.bandwidth_reference_max}>", replace=True),
                Rule("silent-interface <interface>"),
                Rule("area <area>", "enter", "ospfv3-area"),
            ),
            "ospfv3-area": (Rule("stub"),),
            "vpn-instance": (
                Rule("description <text>", replace=True),
                *((Rule("ipv6-family", "enter", "vpn-af-ipv6"),) if self.vpn_family else _VPN_TARGETS),
            ),
        }
        if self.bfd_view:
            views["bfd"] = ()
        return {**views, "vpn-af-ipv6": _VPN_TARGETS} if self.vpn_family else views
