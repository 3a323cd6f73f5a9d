"""Who links to whom on each plane: every device's uplink per plane to a device of its parent site.

A device attached to plane P (``plane: P``) has one uplink, on P; a dual-homed device (``plane``
omitted) has one uplink per plane. The uplink on P goes to a device of the parent site that is on P
(attached to it, or dual-homed). When the parent site has several, the choice is, in order: the same
platform, the same style (plane-attached for a plane-attached child, dual-homed for a dual-homed one),
the first by name. So a dual-homed child under a dual-homed parent has both uplinks on that one
router, as in the lab. Region devices have no uplink: each plane's tree is rooted at the region.
"""

from __future__ import annotations

from dataclasses import dataclass

from nxgov.errors import InputError
from nxgov.estate.model import LEVELS, Device, Extranet, Site


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


def planes_of(device: Device, planes: tuple[str, ...]) -> tuple[str, ...]:
    """The planes ``device`` is attached to: its own, or every plane when it is dual-homed."""
    return (device.plane,) if device.plane is not None else planes


def build_topology(extranet: Extranet) -> Topology:
    """The links of every plane, from the estate's site tree and devices."""
    planes = tuple(p.name for p in extranet.planes)
    rank = {level: i for i, level in enumerate(LEVELS)}
    sites = tuple(sorted(extranet.sites, key=lambda s: (rank[s.level], s.code)))
    by_code = {s.code: s for s in sites}
    devices = tuple(sorted(extranet.devices, key=lambda d: (rank[by_code[d.site].level], d.site, d.name)))
    at_site: dict[str, list[Device]] = {}
    for device in devices:
        at_site.setdefault(device.site, []).append(device)
    links: list[Link] = []
    for device in devices:
        parent_code = by_code[device.site].parent
        if parent_code is None:
            continue
        for plane in planes_of(device, planes):
            parent = _parent_device(device, plane, at_site.get(parent_code, []))
            if parent is None:
                raise InputError(
                    f"device {device.name} (site {device.site}) has no device on plane {plane} to link to at its "
                    f"parent site {parent_code}",
                    f"add a device to site {parent_code} with plane: {plane} (or one without a plane: dual-homed)",
                )
            links.append(Link(plane, parent.name, device.name))
    uplinks: dict[str, list[Link]] = {}
    downlinks: dict[str, list[Link]] = {}
    for link in links:
        uplinks.setdefault(link.child, []).append(link)
        downlinks.setdefault(link.parent, []).append(link)
    return Topology(planes, by_code, {d.name: d for d in devices}, tuple(links),
                    {k: tuple(v) for k, v in uplinks.items()}, {k: tuple(v) for k, v in downlinks.items()})


def _parent_device(child: Device, plane: str, candidates: list[Device]) -> Device | None:
    on_plane = [d for d in candidates if d.plane in (plane, None)]
    if not on_plane:
        return None
    return min(on_plane, key=lambda d: (d.platform != child.platform, (d.plane is None) != (child.plane is None),
                                        d.name))
