"""One vendor-neutral intent per device, from the estate's topology and the numbering plan.

Routing design (the same on every platform, and the lab's FRR routers' own):

- **eBGP on every plane link**, IPv6 unicast only. Each site has its own private 4-byte ASN (from the
  plan; the site's devices share it), so every link is an eBGP session and AS paths prevent loops.
  The planes are independent routing domains: a plane-A router only ever talks to plane-A routers.
  (The planes' own ASNs, 65101/65102, stay the planes' identity towards the cloud nodes; the
  extranet's inside uses the per-site ASNs, as the lab does.)
- **Both planes carry the site's prefix**: every device of a site announces the site block (held by
  a discard route, so the announcement never depends on a LAN being up) and its loopback /128. A
  site therefore stays reachable over plane B when plane A fails, and the reverse.
- **Failover**: BGP keepalive 1 s / hold 3 s on every session; on FRR, VRP and Comware also BFD (300 ms x 3).
  The parent's end is passive where the platform has it (FRR, VRP, Cisco IOS; Comware has no such command):
  the child opens every session, so no OPEN collisions.
- **Plane preference**: equal by default; a router that learns a prefix over both planes (a dual-homed
  one) load-shares over them (ECMP, as many paths as the prefix can arrive over: one per plane, or one per
  link to a neighbouring site that has several devices on a plane, so that no plane is left out of the
  load-sharing by BGP's tie-breaks). Preferring a plane for a site would
  add a local-preference on one plane's sessions; no estate field asks for it yet.

Interfaces are numbered ports (the plan's stable port numbers, uplinks first). A port's name is the
estate's when it gives one (the device's ``ports``, or its ``model``'s pattern: :mod:`nxgov.estate.ports`);
otherwise each renderer names it in its platform's default way. IPv6 only: the estate declares no IPv4
for the extranet.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from nxgov.errors import InputError
from nxgov.estate.model import Device, Platform, RouterModel, SiteLevel
from nxgov.estate.ports import default_name, namer
from nxgov.network.ipv6plan import Plan, PlanOutcome
from nxgov.network.topology import Link, Topology, planes_of

KEEPALIVE_S, HOLD_S, CONNECT_RETRY_S = 1, 3, 1
BFD_INTERVAL_MS, BFD_MULTIPLIER = 300, 3


@dataclass(frozen=True)
class Interface:
    """A link port: ``address`` is this end's address with its length (e.g. 2001:db8:6401::2/64); ``name`` is
    the estate's name for the port (None: the platform's default naming, see :func:`interface_name`)."""

    port: int
    plane: str
    peer: str
    role: str
    address: str
    name: str | None = None

    @property
    def description(self) -> str:
        return f"plane {self.plane} {self.role} to {self.peer}"


@dataclass(frozen=True)
class Neighbor:
    """An eBGP session over one link; ``passive`` on the parent's end (the child opens the session)."""

    address: str
    asn: int
    plane: str
    peer: str
    passive: bool

    @property
    def description(self) -> str:
        return f"plane {self.plane} to {self.peer}"


@dataclass(frozen=True)
class Timers:
    """BGP timers in seconds; ``connect`` is the retry interval while a session is down."""

    keepalive: int = KEEPALIVE_S
    hold: int = HOLD_S
    connect: int = CONNECT_RETRY_S


@dataclass(frozen=True)
class Bfd:
    interval_ms: int = BFD_INTERVAL_MS
    multiplier: int = BFD_MULTIPLIER


@dataclass(frozen=True)
class DeviceIntent:
    """Everything a device's configuration says, independent of its platform."""

    name: str
    platform: Platform
    site: str
    level: SiteLevel
    planes: tuple[str, ...]
    asn: int
    router_id: str
    loopback: str
    site_prefix: str
    interfaces: tuple[Interface, ...]
    neighbors: tuple[Neighbor, ...]
    ecmp_paths: int
    timers: Timers = Timers()
    bfd: Bfd = Bfd()

    @property
    def networks(self) -> tuple[str, str]:
        """What the device announces into every plane it is on: its loopback and its site's block."""
        return f"{self.loopback}/128", self.site_prefix


def build_intents(outcome: PlanOutcome, devices: Collection[str] | None = None) -> list[DeviceIntent]:
    """The intent of every device (or of ``devices``), in plan order."""
    topology = outcome.topology
    if devices is not None:
        unknown = sorted(set(devices) - set(topology.devices))
        if unknown:
            raise InputError(f"the estate has no device {', '.join(unknown)}",
                             "'nxgov estate show --devices' lists the device names")
    plan = outcome.plan()
    names = [n for n in topology.devices if devices is None or n in devices]
    return [_intent(outcome, plan, name) for name in names]


def interface_name(intent: DeviceIntent, interface: Interface) -> str:
    """What ``intent``'s device calls ``interface``: the estate's name, or the platform's default."""
    return interface.name or default_name(intent.platform, interface.port)


def _intent(outcome: PlanOutcome, plan: Plan, name: str) -> DeviceIntent:
    topology = outcome.topology
    device = topology.devices[name]
    site = topology.sites[device.site]
    interfaces: list[Interface] = []
    neighbors: list[Neighbor] = []
    for link in topology.uplinks.get(name, ()):
        interfaces.append(_end(plan, link, name, link.parent, "uplink", 2))
        neighbors.append(Neighbor(_address(plan, link, 1), plan.asn(topology.devices[link.parent].site), link.plane,
                                  link.parent, passive=False))
    for link in topology.downlinks.get(name, ()):
        interfaces.append(_end(plan, link, name, link.child, "downlink", 1))
        neighbors.append(Neighbor(_address(plan, link, 2), plan.asn(topology.devices[link.child].site), link.plane,
                                  link.child, passive=True))
    interfaces.sort(key=lambda i: i.port)
    interfaces = _named(device, topology.models, interfaces)
    return DeviceIntent(
        name=name,
        platform=device.platform,
        site=site.code,
        level=site.level,
        planes=planes_of(device, topology.planes),
        asn=plan.asn(site.code),
        router_id=plan.router_id(name),
        loopback=plan.loopback(name),
        site_prefix=plan.site_prefix(site.code),
        interfaces=tuple(interfaces),
        neighbors=tuple(neighbors),
        ecmp_paths=_ecmp_paths(topology, name),
    )


def _ecmp_paths(topology: Topology, name: str) -> int:
    """One path per plane, or as many as ``name`` has links to the devices of one neighbouring site: each of them
    carries that site's block (a city with a dual-homed router and a CE per plane: four)."""
    per_site: dict[str, int] = {}
    for link in (*topology.uplinks.get(name, ()), *topology.downlinks.get(name, ())):
        site = topology.devices[link.child if link.parent == name else link.parent].site
        per_site[site] = per_site.get(site, 0) + 1
    return max(1, len(topology.planes), *per_site.values())


def _named(device: Device, models: Mapping[str, RouterModel], interfaces: list[Interface]) -> list[Interface]:
    """``interfaces`` with the estate's names for them, when it names the device's ports (``estate validate``
    has checked the names; two ports that would still share one are refused here, never rendered)."""
    if device.model is None and not device.ports:
        return interfaces
    model = models.get(device.model) if device.model is not None else None
    if device.model is not None and (model is None or model.platform != device.platform):
        raise InputError(f"device {device.name}: model {device.model} is not a {device.platform} model of the "
                         "estate", "'nxgov estate validate' locates the problem")
    name = namer(device.platform, model.ports if model else None, device.ports)
    named = [replace(i, name=name(i.port)) for i in interfaces]
    seen: dict[str, int] = {}
    for interface in named:
        assert interface.name is not None
        if interface.name in seen:
            raise InputError(f"device {device.name}: ports {seen[interface.name]} and {interface.port} are both "
                             f"named {interface.name}", "give one of them its own name in the device's ports")
        seen[interface.name] = interface.port
    return named


def _end(plan: Plan, link: Link, device: str, peer: str, role: str, host: int) -> Interface:
    return Interface(plan.port(device, link.plane, peer), link.plane, peer, role,
                     f"{_address(plan, link, host)}/{plan.link(link).split('/', 1)[1]}")


def _address(plan: Plan, link: Link, host: int) -> str:
    """Host ``host`` of the link's /64 (1: the parent's end, 2: the child's)."""
    network = plan.link(link).split("/", 1)[0]
    return f"{network}{host:x}"  # a /64 network's compressed form always ends in '::'
