"""Verify the extranet from the devices' own state: per site, both planes up, degraded (one named) or down.

Reading. Every device that can report its state (a driver that is a
:class:`~nxgov.network.drivers.base.StateReader`: FRR from vtysh's JSON, Huawei VRP and H3C Comware from their
``display`` commands read with TextFSM templates) is asked, concurrently, for its IPv6 BGP peers and its
interfaces, and a region device also for its IPv6 routes (the getters' typed rows). A device whose answer holds
a line its parser does not understand is a ``failed`` reading naming the lines, never read as down. A device on a
platform without such a driver (Cisco IOS) is reported *not verifiable on this platform* without being contacted.

Judging. A link (a child device's uplink on one plane) is judged from the ends that were read, each by
the session to the neighbor address the intent gives it: **up** when every end read has it
Established, **down** when one has not, **unknown** when no end was read. A site's links are its
devices' uplinks (the region's: its downlinks). A site's plane is up when one of the site's links on it
is up and, when a region device was read, the region routes the site's prefix over that plane (the
selected route's next-hop interfaces, mapped to planes by the region device's intent): a county whose
city lost plane A has lost plane A too. A site is then

- ``both-up``: every plane up (the extranet has two),
- ``degraded``: some plane up and some down (``down_planes`` names them),
- ``down``: no plane up and at least one down,
- ``unknown``: nothing that decides it could be read.

The latest result per site is kept in the state store (table ``verify_results``, migration 4) with the
time it was taken, for the exporter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from nxgov.errors import InputError
from nxgov.estate.model import Estate
from nxgov.network import inventory
from nxgov.network.drivers import DRIVERS, SessionOptions, StateReader, Target, driver
from nxgov.network.intent import DeviceIntent, build_intents
from nxgov.network.ipv6plan import PlanOutcome
from nxgov.network.topology import Link
from nxgov.runner import Hook, Outcome, Status, run
from nxgov.state import StateStore

SiteState = Literal["both-up", "degraded", "down", "unknown"]
PlaneState = Literal["up", "down", "unknown"]
ReadStatus = Literal["read", "not-verifiable", "failed"]
ESTABLISHED = "Established"
SITE_STATES: tuple[SiteState, ...] = ("both-up", "degraded", "down", "unknown")


@dataclass(frozen=True)
class Reading:
    """What one device reported. ``ports`` maps the intent's port numbers to the device's interface names."""

    device: str
    platform: str
    status: ReadStatus
    note: str = ""
    sessions: dict[str, str] = field(default_factory=dict)
    interfaces: dict[str, bool] = field(default_factory=dict)
    routes: dict[str, tuple[str, ...]] | None = None
    ports: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class End:
    """One end of a link as its device reported it (None: not read)."""

    device: str
    session: str | None
    interface_up: bool | None


@dataclass(frozen=True)
class LinkResult:
    plane: str
    parent: str
    child: str
    state: PlaneState
    ends: tuple[End, ...]

    def describe(self) -> str:
        ends = "; ".join(f"{e.device} {e.session or 'not read'}" + ("" if e.interface_up is not False
                                                                      else ", port down") for e in self.ends)
        return f"{self.child} - {self.parent}: {ends}"


@dataclass(frozen=True)
class PlaneResult:
    """A site's plane; ``impaired`` describes the plane's links that are down while the plane is up."""

    plane: str
    state: PlaneState
    reason: str
    impaired: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteResult:
    """One site's verdict; ``routed`` lists the planes the region routes the site's prefix over (None: not
    checked: the site is the region, or no region device could be read)."""

    code: str
    name: str
    level: str
    prefix: str
    state: SiteState
    planes: tuple[PlaneResult, ...]
    routed: tuple[str, ...] | None
    links: tuple[LinkResult, ...]

    @property
    def down_planes(self) -> tuple[str, ...]:
        return tuple(p.plane for p in self.planes if p.state == "down")

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.code, "name": self.name, "level": self.level, "prefix": self.prefix,
                "state": self.state, "down_planes": list(self.down_planes),
                "planes": {p.plane: {"state": p.state, "reason": p.reason, "impaired": list(p.impaired)}
                           for p in self.planes},
                "routed_at_region": None if self.routed is None else list(self.routed),
                "links": [{**asdict(link), "ends": [asdict(e) for e in link.ends]} for link in self.links]}


@dataclass(frozen=True)
class Report:
    estate: str
    checked: str
    sites: tuple[SiteResult, ...]
    readings: tuple[Reading, ...]

    @property
    def ok(self) -> bool:
        """No site down and every device that can be read was read."""
        return not any(s.state == "down" for s in self.sites) and not any(r.status == "failed"
                                                                           for r in self.readings)

    def counts(self) -> dict[str, int]:
        return {state: sum(1 for s in self.sites if s.state == state) for state in SITE_STATES}

    def as_dict(self) -> dict[str, Any]:
        return {"schema": "nxgov.net.verify/1", "estate": self.estate, "checked": self.checked, "ok": self.ok,
                "counts": self.counts(), "sites": [s.as_dict() for s in self.sites],
                "devices": [{"device": r.device, "platform": r.platform, "read": r.status, "note": r.note}
                            for r in self.readings]}


def verify(estate: Estate, outcome: PlanOutcome, options: SessionOptions, site: str | None = None, *,
           workers: int = 20, hooks: Sequence[Hook] = (), sites: Sequence[str] | None = None) -> Report:
    """Read the devices ``site`` (or every site; or the sites ``sites``) depends on and judge it (see the module
    docstring).

    Only devices whose platform can report its state are contacted (and only their logins resolved).
    """
    topology = outcome.topology
    codes = list(sites) if sites is not None else [site] if site is not None else list(topology.sites)
    for code in codes:
        if code not in topology.sites:
            raise InputError(f"the estate has no site {code}",
                             "use a division code listed by 'nxgov estate show --sites'")
    intents = {i.name: i for i in build_intents(outcome)}
    needed = _devices_needed(outcome, codes)
    devices = [d for d in topology.devices.values() if d.name in needed]
    readable = [d for d in devices if issubclass(DRIVERS.get(d.platform, object), StateReader)]
    checked = datetime.now(UTC).isoformat(timespec="seconds")
    got = {r.device: r for r in read(inventory.targets(estate, readable), intents, options,
                                     _region_devices(outcome), workers, hooks)}
    readings = [got.get(d.name) or Reading(d.name, d.platform, "not-verifiable",
                                           f"not verifiable on this platform ({d.platform})") for d in devices]
    judged = judge(outcome, intents, {r.device: r for r in readings}, codes)
    return Report(outcome.estate, checked, tuple(judged), tuple(readings))


def read(targets: Sequence[Target], intents: dict[str, DeviceIntent], options: SessionOptions,
         with_routes: Iterable[str], workers: int = 20, hooks: Sequence[Hook] = ()) -> list[Reading]:
    """Each target's state, concurrently (their platforms' drivers must be StateReaders); a device that fails
    is a ``failed`` reading, never an exception."""
    routed = set(with_routes)

    def task(target: Target) -> Outcome:
        with driver(target, options) as session:
            assert isinstance(session, StateReader)
            ports = {i.port: i.name or session.interface_name(i.port) for i in intents[target.name].interfaces}
            sessions: dict[str, str] = {peer.address: peer.state for peer in session.get_bgp_peers()}
            interfaces = {interface.name: interface.oper_up for interface in session.get_interface_states()}
            routes = {route.prefix: route.interfaces for route in session.get_routes()} if target.name in routed \
                else None
            return Outcome(False, Reading(target.name, target.platform, "read", "", sessions, interfaces, routes,
                                          ports))

    result = run(task, targets, name="verify", key=lambda t: t.name, workers=workers, hooks=hooks)
    return [r.data if r.status is not Status.failed and isinstance(r.data, Reading)
            else Reading(r.name, r.target.platform, "failed", r.error or "failed") for r in result.results]


def judge(outcome: PlanOutcome, intents: dict[str, DeviceIntent], readings: dict[str, Reading],
          codes: Iterable[str]) -> list[SiteResult]:
    """Every site of ``codes``, judged from ``readings`` (pure: no device is contacted)."""
    topology, plan = outcome.topology, outcome.plan()
    regions = [readings[d] for d in _region_devices(outcome) if d in readings and readings[d].routes is not None]
    out = []
    for code in codes:
        site = topology.sites[code]
        devices = [d for d in topology.devices.values() if d.site == code]
        links = [link for d in devices for link in (topology.downlinks if site.parent is None else topology.uplinks)
                 .get(d.name, ())]
        results = tuple(_link(link, intents, readings) for link in links)
        prefix = plan.site_prefix(code)
        routed = None if site.parent is None or not regions else _routed(prefix, regions, intents)
        planes = tuple(_plane(plane, [r for r in results if r.plane == plane], routed, prefix)
                       for plane in topology.planes)
        out.append(SiteResult(code, site.name, site.level, prefix, _verdict(planes), planes, routed, results))
    return out


def _devices_needed(outcome: PlanOutcome, codes: Iterable[str]) -> set[str]:
    """The devices at ``codes``, the far ends of their links, and the region's devices (for its routes)."""
    topology = outcome.topology
    needed = set(_region_devices(outcome))
    for code in codes:
        for device in (d for d in topology.devices.values() if d.site == code):
            needed.add(device.name)
            for link in (*topology.uplinks.get(device.name, ()), *topology.downlinks.get(device.name, ())):
                needed.update((link.parent, link.child))
    return needed


def _region_devices(outcome: PlanOutcome) -> list[str]:
    topology = outcome.topology
    return [d.name for d in topology.devices.values() if topology.sites[d.site].parent is None]


def _link(link: Link, intents: dict[str, DeviceIntent], readings: dict[str, Reading]) -> LinkResult:
    ends = []
    for device, peer in ((link.child, link.parent), (link.parent, link.child)):
        reading = readings.get(device)
        if reading is None or reading.status != "read":
            ends.append(End(device, None, None))
            continue
        intent = intents[device]
        neighbor = next(n for n in intent.neighbors if n.peer == peer and n.plane == link.plane)
        port = next(i.port for i in intent.interfaces if i.peer == peer and i.plane == link.plane)
        ends.append(End(device, reading.sessions.get(neighbor.address, "not configured"),
                        reading.interfaces.get(reading.ports.get(port, ""))))
    read = [e for e in ends if e.session is not None]
    state: PlaneState = "unknown" if not read else "up" if all(e.session == ESTABLISHED for e in read) else "down"
    return LinkResult(link.plane, link.parent, link.child, state, tuple(ends))


def _routed(prefix: str, regions: list[Reading], intents: dict[str, DeviceIntent]) -> tuple[str, ...]:
    """The planes over which the region devices route ``prefix`` (by their next hops' interfaces)."""
    planes: set[str] = set()
    for reading in regions:
        names = set((reading.routes or {}).get(prefix, ()))
        planes.update(i.plane for i in intents[reading.device].interfaces if reading.ports.get(i.port) in names)
    return tuple(sorted(planes))


def _plane(plane: str, links: list[LinkResult], routed: tuple[str, ...] | None, prefix: str) -> PlaneResult:
    up = [link for link in links if link.state == "up"]
    down = [link for link in links if link.state == "down"]
    if not links:
        return PlaneResult(plane, "unknown", f"no link on plane {plane}")
    if up and routed is not None and plane not in routed:
        via = f"over {', '.join(routed)} only" if routed else "over no plane"
        return PlaneResult(plane, "down", f"sessions up, but the region routes {prefix} {via}")
    if up:
        return PlaneResult(plane, "up", f"{len(up)} of {len(links)} links up: {up[0].describe()}",
                           tuple(link.describe() for link in down))
    if down:
        return PlaneResult(plane, "down", "; ".join(link.describe() for link in down))
    return PlaneResult(plane, "unknown", "no end of its links could be read: "
                       + "; ".join(link.describe() for link in links))


def _verdict(planes: tuple[PlaneResult, ...]) -> SiteState:
    states = [p.state for p in planes]
    if states and all(s == "up" for s in states):
        return "both-up"
    if "up" in states and "down" in states:
        return "degraded"
    if "down" in states and "up" not in states:
        return "down"
    return "unknown"


# -- the state store ---------------------------------------------------------------------------------

def save(store: StateStore, report: Report) -> None:
    """Keep ``report``'s result of every site it judged as that site's latest."""
    with store.transaction() as connection:
        connection.executemany(
            "INSERT INTO verify_results (estate, site, checked, state, down_planes, routed, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (estate, site) DO UPDATE SET checked = excluded.checked, "
            "state = excluded.state, down_planes = excluded.down_planes, routed = excluded.routed, "
            "detail = excluded.detail",
            [(report.estate, s.code, report.checked, s.state, json.dumps(list(s.down_planes)),
              None if s.routed is None else json.dumps(list(s.routed)),
              json.dumps(s.as_dict(), ensure_ascii=False, sort_keys=True)) for s in report.sites])


def latest(store: StateStore, estate: str) -> list[dict[str, Any]]:
    """The latest stored result of every site of ``estate`` (what the exporter publishes); ``planes`` maps each
    plane to its state (up, down, unknown)."""
    rows = store.connection.execute(
        "SELECT site, checked, state, down_planes, routed, json_extract(detail, '$.planes') FROM verify_results "
        "WHERE estate = ? ORDER BY site", (estate,)).fetchall()
    return [{"site": site, "checked": checked, "state": state, "down_planes": json.loads(down),
             "routed_at_region": None if routed is None else json.loads(routed),
             "planes": {plane: value["state"] for plane, value in json.loads(planes or "{}").items()}}
            for site, checked, state, down, routed, planes in rows]
