"""Who links to whom on each plane: every device's uplink per plane to a device of its parent site.

A device attached to plane P (``plane: P``) has one uplink, on P; a dual-homed device (``plane``
omitted) has one uplink per plane. The uplink on P goes to a device of the parent site that is on P
(attached to it, or dual-homed). When the parent site has several, the choice is, in order: the same
platform, the same style (plane-attached for a plane-attached child, dual-homed for a dual-homed one),
the first by name. So a dual-homed child under a dual-homed parent has both uplinks on that one
router, as in the lab. Region devices have no uplink: each plane's tree is rooted at the region.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from nxgov.errors import InputError
from nxgov.estate.model import LEVELS, Device, Extranet, RouterModel, Site


@dataclass(frozen=True)
class Link:
    """A point-to-point link of ``plane`` between ``parent`` (end ::1) and ``child`` (end ::2), by device name."""

    plane: str
    parent: str
    child: str

    @property
    def key(self) -> str:
        """The link's key in the numbering plan: the child device and the plane (one uplink each)."""
        return f"{self.child}/{self.plane}"


@dataclass(frozen=True)
class Topology:
    """The extranet as links. Sites and devices are in plan order: level, then code, then name."""

    planes: tuple[str, ...]
    sites: dict[str, Site]
    devices: dict[str, Device]
    links: tuple[Link, ...]
    uplinks: dict[str, tuple[Link, ...]]
    downlinks: dict[str, tuple[Link, ...]]
    models: dict[str, RouterModel] = field(default_factory=dict)
    """The estate's router models (how a device with a ``model`` names its ports)."""


def planes_of(device: Device, planes: tuple[str, ...]) -> tuple[str, ...]:
    """The planes ``device`` is attached to: its own, or every plane when it is dual-homed."""
    return (device.plane,) if device.plane is not None else planes


@dataclass(frozen=True)
class Unlinked:
    """A device with no device on ``plane`` at its parent site to link to: the estate cannot be planned."""

    device: Device
    plane: str
    parent_site: str

    @property
    def message(self) -> str:
        return (f"device {self.device.name} (site {self.device.site}) has no device on plane {self.plane} to link "
                f"to at its parent site {self.parent_site}")

    @property
    def hint(self) -> str:
        return (f"add a device to site {self.parent_site} with plane: {self.plane} "
                "(or one without a plane: dual-homed)")


def unlinked(extranet: Extranet) -> list[Unlinked]:
    """Every uplink :func:`build_topology` cannot make, in estate order (``estate validate`` reports them)."""
    return [u for u in _uplinks(extranet, extranet.devices) if isinstance(u, Unlinked)]


def build_topology(extranet: Extranet) -> Topology:
    """The links of every plane, from the estate's site tree and devices.

    Raises :class:`InputError` for the first device that has nothing to link to (see :func:`unlinked`).
    """
    planes = tuple(p.name for p in extranet.planes)
    rank = {level: i for i, level in enumerate(LEVELS)}
    sites = tuple(sorted(extranet.sites, key=lambda s: (rank[s.level], s.code)))
    by_code = {s.code: s for s in sites}
    devices = tuple(sorted(extranet.devices, key=lambda d: (rank[by_code[d.site].level], d.site, d.name)))
    links: list[Link] = []
    for uplink in _uplinks(extranet, devices):
        if isinstance(uplink, Unlinked):
            raise InputError(uplink.message, uplink.hint)
        links.append(uplink)
    uplinks: dict[str, list[Link]] = {}
    downlinks: dict[str, list[Link]] = {}
    for link in links:
        uplinks.setdefault(link.child, []).append(link)
        downlinks.setdefault(link.parent, []).append(link)
    return Topology(planes, by_code, {d.name: d for d in devices}, tuple(links),
                    {k: tuple(v) for k, v in uplinks.items()}, {k: tuple(v) for k, v in downlinks.items()},
                    dict(extranet.models))


def _uplinks(extranet: Extranet, devices: Iterable[Device]) -> Iterator[Link | Unlinked]:
    """The uplink of each of ``devices`` on each of its planes, or what is missing for it; none for a root site."""
    planes = tuple(p.name for p in extranet.planes)
    parents = {s.code: s.parent for s in extranet.sites}
    at_site: dict[str, list[Device]] = {}
    for device in extranet.devices:
        at_site.setdefault(device.site, []).append(device)
    for device in devices:
        parent_code = parents.get(device.site)
        if parent_code is None:
            continue
        for plane in planes_of(device, planes):
            parent = _parent_device(device, plane, at_site.get(parent_code, []))
            yield Unlinked(device, plane, parent_code) if parent is None else Link(plane, parent.name, device.name)


def _parent_device(child: Device, plane: str, candidates: list[Device]) -> Device | None:
    on_plane = [d for d in candidates if d.plane in (plane, None)]
    if not on_plane:
        return None
    return min(on_plane, key=lambda d: (d.platform != child.platform, (d.plane is None) != (child.plane is None),
                                        d.name))
