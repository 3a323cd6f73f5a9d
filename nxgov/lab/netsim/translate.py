"""A simulated device's running configuration in FRR's terms: what its data plane must be configured with.

:func:`translate` reads the configuration tree the vendor CLI keeps (:class:`~nxgov.lab.netsim.config.Block`)
and gives the FRR lines that carry the same meaning, each with the FRR context it belongs in
(:class:`FrrLine`). Translated: interface addresses (on VRP only where ``ipv6`` is on globally and ``ipv6
enable`` on the interface, as on the device), ``shutdown``, the loopback, BGP (AS, router ID, peers and their
AS numbers, descriptions, keepalive/hold timers, ``listen-only`` as FRR's ``passive``, BFD with the peer's
or, on Comware, its interface's timers), the IPv6 family (peers enabled, networks, ``maximum load-balancing``
/ ``balance``, ``import-route``) and IPv6 static routes (``NULL0`` a blackhole). Not translated: OSPFv3, VPN
instances, IPv4. Vendor port names map to the namespace's Linux interfaces through ``links``.

Every session retries its connection each second (``timers connect 1``; the devices' default is 32 s), so
the lab converges in seconds after a link comes back.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from nxgov.lab.netsim.config import Block

LOOPBACK = "LoopBack0"
CONNECT_RETRY_S = 1
BFD_DEFAULTS = (3, 300, 300)
"""Detection multiplier, receive and transmit interval (ms) when the configuration sets none."""


@dataclass(frozen=True)
class FrrLine:
    """One FRR configuration line and the contexts it is typed in (outermost first; () is the top)."""

    context: tuple[str, ...]
    line: str


@dataclass(frozen=True)
class _Peer:
    address: str
    lines: tuple[str, ...]


def translate(root: Block, links: Mapping[str, str], ipv6_switches: bool, bfd_view: bool) -> list[FrrLine]:
    """The FRR lines for ``root``; ``links`` maps vendor port names to Linux interface names, ``ipv6_switches``
    says the platform needs ``ipv6`` / ``ipv6 enable`` before an interface takes an IPv6 address, ``bfd_view``
    that it needs ``bfd`` in the system view before any BFD session."""
    names = {**links, LOOPBACK: "lo"}
    ipv6_on = not ipv6_switches or "ipv6" in root.lines()
    addresses: dict[str, list[ipaddress.IPv6Interface]] = {}
    bfd_timers: dict[str, tuple[int, int, int]] = {}
    out: list[FrrLine] = []
    for block in root.blocks():
        if block.kind != "interface":
            continue
        vendor = block.header.split(" ", 1)[1]
        linux = names.get(vendor)
        if linux is None:
            continue
        lines = list(block.lines())
        enabled = ipv6_on and (not ipv6_switches or "ipv6 enable" in lines or vendor == LOOPBACK)
        own = [ipaddress.IPv6Interface(line.split()[2].lower()) for line in lines
               if line.startswith("ipv6 address ") and len(line.split()) == 3 and enabled]
        addresses[linux] = own
        bfd_timers[linux] = _interface_bfd(lines)
        context = (f"interface {linux}",)
        out.append(FrrLine((), context[0]))
        out += [FrrLine(context, f"ipv6 address {a.compressed}") for a in own]
        if "shutdown" in lines:
            out.append(FrrLine(context, "shutdown"))
    out += _static_routes(root, names)
    bgp = next((b for b in root.blocks() if b.kind == "bgp"), None)
    if bgp is not None:
        global_bfd = not bfd_view or any(b.kind == "bfd" for b in root.blocks())
        out += _bgp(bgp, root.first("router id"), addresses, bfd_timers, global_bfd)
    return _profiles(out) + out


def _interface_bfd(lines: list[str]) -> tuple[int, int, int]:
    """Comware's single-hop BFD timers of an interface (``bfd min-transmit-interval`` and the like)."""
    multiplier, rx, tx = BFD_DEFAULTS
    for line in lines:
        words = line.split()
        if line.startswith("bfd min-transmit-interval "):
            tx = int(words[2])
        elif line.startswith("bfd min-receive-interval "):
            rx = int(words[2])
        elif line.startswith("bfd detect-multiplier "):
            multiplier = int(words[2])
    return multiplier, rx, tx


def _static_routes(root: Block, names: Mapping[str, str]) -> Iterator[FrrLine]:
    for line in root.lines():
        if not line.startswith("ipv6 route-static "):
            continue
        words = line.split()
        prefix = ipaddress.IPv6Network(f"{words[2]}/{words[3]}".lower()).compressed
        via = [names.get(word, word) for word in words[4:] if word != "preference"]
        if via and via[0].upper() == "NULL0":
            yield FrrLine((), f"ipv6 route {prefix} blackhole")
        elif via:
            yield FrrLine((), f"ipv6 route {prefix} {' '.join(w.lower() if ':' in w else w for w in via[:2])}")


def _bgp(bgp: Block, router_id: str | None, addresses: Mapping[str, list[ipaddress.IPv6Interface]],
         bfd_timers: Mapping[str, tuple[int, int, int]], global_bfd: bool) -> list[FrrLine]:
    asn = bgp.header.split()[1]
    context = (f"router bgp {asn}",)
    lines = list(bgp.lines())
    out = [FrrLine((), context[0]), FrrLine(context, "no bgp ebgp-requires-policy"),
           FrrLine(context, "no bgp default ipv4-unicast")]
    own_id = next((line.split()[1] for line in lines if line.startswith("router-id ")), router_id)
    if own_id:
        out.append(FrrLine(context, f"bgp router-id {own_id}"))
    for line in lines:
        if line.startswith("timer keepalive "):
            words = line.split()
            out.append(FrrLine(context, f"timers bgp {words[2]} {words[4]}"))
    peers: dict[str, list[str]] = {}
    for line in lines:
        words = line.split()
        if words[0] == "peer":
            peers.setdefault(words[1], []).append(" ".join(words[2:]))
    for vendor_address, settings in peers.items():
        peer = _Peer(vendor_address.lower(), tuple(settings))
        out += [FrrLine(context, line) for line in _neighbor(peer, addresses, bfd_timers, global_bfd)]
    family = next((b for b in bgp.blocks() if b.kind == "bgp-af-ipv6"), None)
    if family is not None:
        out += _family(context, family)
    return out


def _neighbor(peer: _Peer, addresses: Mapping[str, list[ipaddress.IPv6Interface]],
              bfd_timers: Mapping[str, tuple[int, int, int]], global_bfd: bool) -> list[str]:
    """A peer's FRR lines; none until it has an AS number (as on the devices, where that line makes the peer)."""
    asn = next((s.split()[1] for s in peer.lines if s.startswith("as-number ")), None)
    if asn is None:
        return []
    head = f"neighbor {peer.address}"
    out = [f"{head} remote-as {asn}"]
    for setting in peer.lines:
        words = setting.split()
        if words[0] == "description":
            out.append(f"{head} description {setting.split(' ', 1)[1]}")
        elif words[0] == "timer" and words[1] == "keepalive":
            out.append(f"{head} timers {words[2]} {words[4]}")
        elif setting == "listen-only":
            out.append(f"{head} passive")
    out.append(f"{head} timers connect {CONNECT_RETRY_S}")
    timers = _peer_bfd(peer, addresses, bfd_timers) if global_bfd else None
    if timers is not None:
        out += [f"{head} bfd", f"{head} bfd profile {_profile_name(timers)}"]
    return out


def _peer_bfd(peer: _Peer, addresses: Mapping[str, list[ipaddress.IPv6Interface]],
              bfd_timers: Mapping[str, tuple[int, int, int]]) -> tuple[int, int, int] | None:
    """The BFD timers of ``peer`` when BFD is on for it: VRP's ``bfd enable`` with the peer's own timers, or
    Comware's ``bfd`` with the timers of the interface the peer is reached on."""
    settings = peer.lines
    if "bfd enable" in settings:
        own = next((s.split() for s in settings if s.startswith("bfd min-tx-interval ")), None)
        return (int(own[6]), int(own[4]), int(own[2])) if own else BFD_DEFAULTS
    if any(s == "bfd" or s.startswith("bfd single-hop") for s in settings):
        address = ipaddress.IPv6Address(peer.address)
        return next((bfd_timers[name] for name, own in addresses.items()
                     if any(address in a.network for a in own)), BFD_DEFAULTS)
    return None


def _family(context: tuple[str, ...], family: Block) -> list[FrrLine]:
    inner = (*context, "address-family ipv6 unicast")
    out = [FrrLine(context, inner[-1])]
    for line in family.lines():
        words = line.split()
        if words[0] == "peer" and words[2] == "enable":
            out.append(FrrLine(inner, f"neighbor {words[1].lower()} activate"))
        elif words[0] == "network":
            out.append(FrrLine(inner, f"network {ipaddress.IPv6Network(f'{words[1]}/{words[2]}'.lower())}"))
        elif words[0] in ("maximum", "balance"):
            out.append(FrrLine(inner, f"maximum-paths {words[-1]}"))
        elif words[0] == "import-route" and words[1] in ("direct", "static"):
            out.append(FrrLine(inner, f"redistribute {'connected' if words[1] == 'direct' else 'static'}"))
    return out


def _profile_name(timers: tuple[int, int, int]) -> str:
    return "nxsim-{}x{}x{}".format(*timers)


def _profiles(lines: list[FrrLine]) -> list[FrrLine]:
    """The BFD profiles the neighbors' lines name, each once, defined first."""
    names = sorted({line.line.rsplit(" ", 1)[1] for line in lines if " bfd profile " in line.line})
    out = [FrrLine((), "bfd")] if names else []
    for name in names:
        multiplier, rx, tx = (int(v) for v in name.removeprefix("nxsim-").split("x"))
        context = ("bfd", f"profile {name}")
        out += [FrrLine(("bfd",), context[1]), FrrLine(context, f"detect-multiplier {multiplier}"),
                FrrLine(context, f"receive-interval {rx}"), FrrLine(context, f"transmit-interval {tx}")]
    return out
