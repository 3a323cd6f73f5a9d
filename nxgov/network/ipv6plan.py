"""The extranet's numbering plan: an IPv6 block per site, link and loopback, a private ASN per site, link ports.

The pools are laid out in :mod:`nxgov.network.ipv6layout`.

Stability: every allocation is stored (state store table ``numbering``); re-planning keeps it. A new
site, device or link takes the lowest free slot of its pool, so adding or removing one never
renumbers another. When a site, device or link leaves the estate its allocations are kept
``reserved``: nobody else gets them until the operator releases them (``--release CODE|DEVICE``);
a reserved allocation becomes active again if its owner comes back.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from nxgov.errors import InputError
from nxgov.estate.model import Estate, Extranet
from nxgov.network.ipv6layout import Kind, Layout, Pool, State, build_layout
from nxgov.network.topology import Link, Topology, build_topology


@dataclass(frozen=True)
class Allocation:
    """One stored number: ``value`` is a prefix (site, loopback, link), an ASN or a port number."""

    kind: Kind
    key: str
    pool: str
    slot: int
    value: str
    state: State
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "pool": self.pool, "value": self.value, "state": self.state,
                "description": self.description}


@dataclass(frozen=True)
class Request:
    """What the estate needs numbered; ``owner`` and ``hint`` word the error when the pool is full."""

    kind: Kind
    key: str
    pool: Pool
    description: str
    owner: str
    hint: str


@dataclass(frozen=True)
class PlanOutcome:
    """A plan run: every allocation after it, and what changed (nothing is written on a dry run)."""

    estate: str
    layout: Layout
    topology: Topology
    allocations: tuple[Allocation, ...]
    new: tuple[Allocation, ...]
    restored: tuple[Allocation, ...]
    reserved: tuple[Allocation, ...]
    released: tuple[Allocation, ...]
    renamed: tuple[Allocation, ...]

    @property
    def changed(self) -> bool:
        return bool(self.new or self.restored or self.reserved or self.released or self.renamed)

    def counts(self) -> dict[str, int]:
        kept = sum(1 for a in self.allocations if a.state == "active") - len(self.new) - len(self.restored)
        return {"new": len(self.new), "kept": kept, "restored": len(self.restored), "reserved": len(self.reserved),
                "released": len(self.released)}

    def plan(self) -> Plan:
        return Plan(self.allocations)


class Plan:
    """Look-ups into the active allocations, for building intents."""

    def __init__(self, allocations: Iterable[Allocation]) -> None:
        self._active = {(a.kind, a.key): a for a in allocations if a.state == "active"}

    def _get(self, kind: Kind, key: str) -> Allocation:
        try:
            return self._active[(kind, key)]
        except KeyError:
            raise InputError(f"the IPv6 plan has no {kind} allocation for {key}",
                             "run 'nxgov net ipv6 plan' after changing the estate") from None

    def site_prefix(self, code: str) -> str:
        return self._get("site", code).value

    def asn(self, code: str) -> int:
        return int(self._get("asn", code).value)

    def loopback(self, device: str) -> str:
        """The device's loopback address (no length)."""
        return self._get("loopback", device).value.split("/", 1)[0]

    def router_id(self, device: str) -> str:
        """The BGP router id: the loopback's low 32 bits (its slot, never 0), dotted."""
        slot = self._get("loopback", device).slot
        return f"{slot >> 24}.{slot >> 16 & 255}.{slot >> 8 & 255}.{slot & 255}"

    def link(self, link: Link) -> str:
        return self._get("link", link.key).value

    def port(self, device: str, plane: str, peer: str) -> int:
        return int(self._get("port", port_key(device, plane, peer)).value)


def port_key(device: str, plane: str, peer: str) -> str:
    return f"{device}/{plane}/{peer}"


def requests(topology: Topology, layout: Layout) -> list[Request]:
    """Everything the estate needs numbered, in plan order (parents before children)."""
    out: list[Request] = []
    widen = "or give extranet.prefix a shorter length (every 4 bits hold 16 times as much; this renumbers all)"
    for site in topology.sites.values():
        pool = layout.pools[site.level]
        parent = f"parent {site.parent}" if site.parent else "the root"
        out.append(Request("site", site.code, pool, f"{site.level} {site.code} {site.name}",
                           f"{site.level} {site.code} {site.name} ({parent})",
                           f"release removed {site.level} sites with 'nxgov net ipv6 plan --release CODE', {widen}"))
    for site in topology.sites.values():
        out.append(Request("asn", site.code, layout.pools["asn"], f"ASN of {site.level} {site.code}",
                           f"site {site.code}", "release removed sites with 'nxgov net ipv6 plan --release CODE'"))
    release_devices = "release removed devices with 'nxgov net ipv6 plan --release NAME'"
    for device in topology.devices.values():
        out.append(Request("loopback", device.name, layout.pools["loopback"], f"loopback of {device.name}",
                           f"device {device.name}", release_devices))
    for link in topology.links:
        out.append(Request("link", link.key, layout.pools[f"link:{link.plane}"],
                           f"plane {link.plane} link {link.parent} - {link.child}", f"link {link.key}",
                           f"{release_devices}, {widen}"))
    for device in topology.devices.values():
        pool = layout.port_pool(device.name)
        ends = [(u.plane, u.parent, "uplink") for u in topology.uplinks.get(device.name, ())]
        ends += [(d.plane, d.child, "downlink") for d in topology.downlinks.get(device.name, ())]
        for plane, peer, role in ends:
            out.append(Request("port", port_key(device.name, plane, peer), pool,
                               f"plane {plane} {role} of {device.name} to {peer}", f"device {device.name}",
                               f"attach the site's children to more than one device of site {device.site}"))
    return out


def compute_plan(estate: Estate, stored: Sequence[Allocation] = (), release: Collection[str] = ()) -> PlanOutcome:
    """The plan for ``estate`` given what is ``stored``: keep every stored allocation, add what is missing."""
    extranet = _extranet(estate)
    layout = build_layout(extranet)
    _check_management(estate, layout)
    topology = build_topology(extranet)
    released = _released(stored, release)
    gone = {(a.kind, a.key) for a in released}
    keep = {(a.kind, a.key): a for a in stored if (a.kind, a.key) not in gone}
    used: dict[str, set[int]] = {}
    for allocation in keep.values():
        used.setdefault(allocation.pool, set()).add(allocation.slot)
    cursor: dict[str, int] = {}
    checked: set[str] = set()
    current: list[Allocation] = []
    new: list[Allocation] = []
    restored: list[Allocation] = []
    renamed: list[Allocation] = []
    for request in requests(topology, layout):
        old = keep.pop((request.kind, request.key), None)
        if old is None:
            slot = _free_slot(request, used.setdefault(request.pool.name, set()), cursor)
            allocation = Allocation(request.kind, request.key, request.pool.name, slot, request.pool.value(slot),
                                    "active", request.description)
            new.append(allocation)
        else:
            _check_kept(old, request, layout, checked)
            allocation = old
            if old.state == "reserved" or old.description != request.description:
                allocation = replace(old, state="active", description=request.description)
                (restored if old.state == "reserved" else renamed).append(allocation)
        current.append(allocation)
    reserved = [replace(a, state="reserved") for a in keep.values() if a.state == "active"]
    current += [replace(a, state="reserved") for a in keep.values()]
    return PlanOutcome(estate.estate, layout, topology, tuple(current), tuple(new), tuple(restored), tuple(reserved),
                       tuple(released), tuple(renamed))


def _extranet(estate: Estate) -> Extranet:
    if estate.extranet is None:
        raise InputError(f"estate {estate.estate} has no extranet to plan",
                         "add 'extranet: {prefix, planes, sites, devices}' to the estate")
    return estate.extranet


def _released(stored: Sequence[Allocation], release: Collection[str]) -> list[Allocation]:
    """The stored allocations ``release`` names: a site code or a device name frees everything it owns."""
    owners = {a.key for a in stored if a.kind in ("site", "loopback")}
    unknown = sorted(set(release) - owners)
    if unknown:
        raise InputError(f"nothing in the stored plan belongs to {', '.join(unknown)}",
                         "release a site code or a device name that 'nxgov net ipv6 show' lists")
    names = set(release)
    return [a for a in stored if names.intersection(a.key.split("/"))]


def _free_slot(request: Request, used: set[int], cursor: dict[str, int]) -> int:
    pool = request.pool
    slot = cursor.get(pool.name, pool.first)
    while slot in used:
        slot += 1
    if slot >= pool.first + pool.capacity:
        raise InputError(f"the {pool.name} pool is full: no room for {request.owner}; {pool.span} holds "
                         f"{pool.capacity:,} {pool.unit} and every one is allocated or reserved", request.hint)
    used.add(slot)
    cursor[pool.name] = slot + 1
    return slot


def _check_kept(old: Allocation, request: Request, layout: Layout, checked: set[str]) -> None:
    """A kept allocation must be in the request's pool, and (checked once per pool) of the current prefix."""
    if old.pool != request.pool.name:
        raise InputError(
            f"{request.kind} {request.key} is planned in the {old.pool} pool ({old.value}) but now belongs in the "
            f"{request.pool.name} pool",
            f"renumber it on purpose: nxgov net ipv6 plan --release {request.key.split('/')[0]}",
        )
    if old.pool in checked:
        return
    checked.add(old.pool)
    if old.value != request.pool.value(old.slot):
        raise InputError(
            f"the stored plan was made for another extranet prefix or plane order ({request.kind} {request.key} "
            f"holds {old.value}; the {old.pool} pool of {layout.prefix} now puts it at {request.pool.value(old.slot)})",
            "restore extranet.prefix and the order of extranet.planes, or renumber the whole extranet with a new "
            "state store (--state)",
        )


@dataclass(frozen=True)
class ManagementClash:
    """A management address inside the planned slices: ``extranet.devices[index].host`` or ``operations[index]``."""

    field: Literal["host", "operations"]
    index: int
    what: str

    def message(self, layout: Layout) -> str:
        return f"{self.what} is inside the extranet's address plan ({layout.planned_span()})"


MANAGEMENT_HINT = "move management addresses to the top of extranet.prefix (e.g. its last /48) or outside it"


def management_clashes(estate: Estate, layout: Layout) -> list[ManagementClash]:
    """Management addresses (device hosts, operations prefixes) must stay out of the planned slices."""
    clashes: list[ManagementClash] = []
    assert estate.extranet is not None
    for i, device in enumerate(estate.extranet.devices):
        try:
            address = ipaddress.ip_address(device.host)
        except ValueError:
            continue
        if address.version == 6 and layout.in_plan(int(address), int(address)):
            clashes.append(ManagementClash("host", i, f"device {device.name} host {device.host}"))
    for i, text in enumerate(estate.operations):
        network = ipaddress.ip_network(text)
        if network.version == 6 and layout.in_plan(int(network.network_address), int(network.broadcast_address)):
            clashes.append(ManagementClash("operations", i, f"operations prefix {text}"))
    return clashes


def _check_management(estate: Estate, layout: Layout) -> None:
    clashes = [c.what for c in management_clashes(estate, layout)]
    if clashes:
        more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
        raise InputError(
            f"the address plan overlaps management addresses: {'; '.join(clashes[:3])}{more} "
            f"(the plan hands out {layout.planned_span()})",
            MANAGEMENT_HINT,
        )
