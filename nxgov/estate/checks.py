"""Checks across the estate: duplicates, references, the site tree, prefix overlaps, plane coverage.

Also what later commands need of the estate, so that ``estate validate`` reports it first and located:
cloud names that do not collide (``cloud plan``), the IPv6 'auto' allocation (``cloud plan``), and the
extranet's address plan and links (``net ipv6 plan``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from nxgov.cloud import naming
from nxgov.errors import DepartmentInputError, InputError, Problem
from nxgov.estate.errors import suggest
from nxgov.estate.model import LEVELS, Department, Device, Estate, Extranet, Plane, Site, System
from nxgov.estate.ports import clashes, name_problem
from nxgov.estate.source import PathKey, Source, format_path

if TYPE_CHECKING:
    from nxgov.estate.loader import Invalid
    from nxgov.network.ipv6layout import Layout

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def cross_check(estate: Estate, source: Source, invalid: Invalid) -> list[Problem]:
    found: list[Problem] = []
    report = _Reporter(source, found)
    _duplicates(estate, report)
    _cloud_names(estate, report)
    _nodes(estate, report, invalid)
    _systems(estate, report, invalid)
    _server_access(estate, report, invalid)
    if estate.extranet is not None:
        _extranet(estate, report, invalid)
    _prefixes(estate, report, invalid)
    _cloud_ipv6(estate, report, invalid)
    if estate.extranet is not None and _extranet_clean(report, invalid):
        _address_plan(estate, report)
    return found


class _Reporter:
    def __init__(self, source: Source, found: list[Problem]) -> None:
        self.source = source
        self.found = found
        self._empty_reported: set[str] = set()

    def __call__(self, path: PathKey, message: str, hint: str | None = None) -> None:
        self.found.append(self.source.problem(path, message, hint))

    def unknown(self, path: PathKey, what: str, value: str, known: Iterable[str], where: str) -> None:
        known = list(known)
        if not known:
            if where not in self._empty_reported:
                self._empty_reported.add(where)
                self(path, f"unknown {what} {value!r}: no {where} are declared (reported once)",
                     f"declare them under {where}")
            return
        guess = suggest(value, known)
        listing = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
        self(path, f"unknown {what} {value!r}", " ".join(x for x in (guess, f"{where}: {listing}") if x))


def _dupes(items: Sequence[Any], key: Callable[[Any], Any], base: PathKey, field: str, what: str,
           report: _Reporter) -> None:
    first: dict[Any, int] = {}
    for i, item in enumerate(items):
        value = key(item)
        if value in first:
            where = report.source.locate((*base, first[value]))
            report((*base, i, field), f"duplicate {what} {value!r}"
                   + (f" (first declared at {where.file}:{where.line})" if where else ""),
                   f"each {what} must be unique: rename or remove one")
        else:
            first[value] = i


def _duplicates(estate: Estate, report: _Reporter) -> None:
    _dupes(estate.departments, lambda d: d.code, ("departments",), "code", "department code", report)
    _dupes(estate.systems, lambda s: s.code, ("systems",), "code", "system code", report)
    for i, dept in enumerate(estate.departments):
        _dupes(dept.networks, lambda n: n.name, ("departments", i, "networks"), "name", "network name", report)
    for i, system in enumerate(estate.systems):
        _dupes(system.servers, lambda s: s.name, ("systems", i, "servers"), "name", "server name", report)
    if estate.extranet:
        ext = estate.extranet
        _dupes(ext.planes, lambda p: p.name, ("extranet", "planes"), "name", "plane name", report)
        _dupes(ext.planes, lambda p: p.asn, ("extranet", "planes"), "asn", "plane AS number", report)
        _dupes(ext.sites, lambda s: s.code, ("extranet", "sites"), "code", "site code", report)
        _dupes(ext.devices, lambda d: d.name, ("extranet", "devices"), "name", "device name", report)
        _dupes(ext.devices, lambda d: (d.host, d.port), ("extranet", "devices"), "host", "device address", report)


def _cloud_names(estate: Estate, report: _Reporter) -> None:
    """Cloud names (:mod:`nxgov.cloud.naming`) derived from two different entries: the plan would keep only one."""
    owners: dict[tuple[str, str], PathKey] = {}
    reported: set[tuple[PathKey, PathKey]] = set()

    def claim(kind: str, name: str, owner: PathKey, what: str) -> None:
        first = owners.setdefault((kind, name), owner)
        if first == owner or (first, owner) in reported:
            return
        reported.add((first, owner))
        where = report.source.locate(first)
        report(owner, f"{what} makes the cloud {kind.replace('_', ' ')} {name}, as {format_path(first)} does"
               + (f" ({where.file}:{where.line})" if where else ""),
               "rename one of the two: cloud names join codes and names with '-', so they must not add up the same")

    for i, dept in enumerate(estate.departments):
        for j, net in enumerate(dept.networks):
            owner: PathKey = ("departments", i, "networks", j, "name")
            what = f"network {net.name} of department {dept.code}"
            claim("network", naming.network(dept.code, net.name), owner, what)
            for version in (4, 6):
                claim("subnet", naming.subnet(dept.code, net.name, version), owner, what)
    for i, system in enumerate(estate.systems):
        for j, server in enumerate(system.servers):
            owner = ("systems", i, "servers", j, "name")
            what = f"server {server.name} of system {system.code}"
            for index in range(1, server.count + 1):
                name = naming.server(system.code, server.name, index)
                claim("server", name, owner, what)
                for k in range(1, len(server.volumes_gb) + 1):
                    claim("volume", naming.volume(name, k), owner, what)
            claim("server_group", naming.server_group(system.code, server.name), owner, what)


def _nodes(estate: Estate, report: _Reporter, invalid: Invalid) -> None:
    if "clouds" in invalid.header_keys:
        return
    if not estate.primary_nodes():
        report(("clouds",), "no cloud node has role 'primary'", "mark the compute/storage nodes role: primary")


def _systems(estate: Estate, report: _Reporter, invalid: Invalid) -> None:
    depts = {d.code: d for d in estate.departments}
    primaries = estate.primary_nodes()
    backups = [n for n, c in estate.clouds.items() if c.role == "backup"]
    check_nodes = "clouds" not in invalid.header_keys
    for i, system in enumerate(estate.systems):
        base: PathKey = ("systems", i)
        dept = depts.get(system.department)
        if dept is None and not invalid.has(Department, system.department):
            report.unknown((*base, "department"), "department", system.department, depts, "departments")
        if check_nodes:
            _placement_nodes(system, base, primaries, report)
            if system.backup and system.backup.to not in backups:
                report.unknown((*base, "backup", "to"), "backup node", system.backup.to, backups,
                               "clouds with role backup")
        if system.level >= 3 and system.backup is None:
            report((*base, "level"), f"level-{system.level} system {system.code!r} has no backup policy",
                   "level-3 protection requires restorable, tested backups: add backup: {rpo: 4h, retain: 30d}")
        if system.source and system.source.credentials and system.source.credentials not in estate.credentials:
            report.unknown((*base, "source", "credentials"), "credentials entry", system.source.credentials,
                           estate.credentials, "credentials")
        if estate.flavors and "flavors" not in invalid.header_keys:
            for j, server in enumerate(system.servers):
                if server.flavor not in estate.flavors:
                    report.unknown((*base, "servers", j, "flavor"), "flavor", server.flavor, estate.flavors,
                                   "flavors")
        if dept is not None:
            names = [n.name for n in dept.networks]
            for j, server in enumerate(system.servers):
                if server.network is not None and server.network not in names:
                    report.unknown((*base, "servers", j, "network"), f"network of department {dept.code}",
                                   server.network, names, f"departments {dept.code} networks")
                if server.network is None and not names:
                    report((*base, "servers", j), f"department {dept.code!r} has no network for server "
                           f"{server.name!r}", f"declare a network under department {dept.code}")


def _server_access(estate: Estate, report: _Reporter, invalid: Invalid) -> None:
    """``server_access`` names a credentials entry that can hold an SSH key (the keypair is made from it)."""
    access = estate.server_access
    if access is None or "credentials" in invalid.header_keys:
        return
    path: PathKey = ("server_access", "credentials")
    ref = estate.credentials.get(access.credentials)
    if ref is None:
        report.unknown(path, "credentials entry", access.credentials, estate.credentials, "credentials")
    elif ref.file is None and ref.ssh_key is None:
        report(path, f"credentials entry {access.credentials!r} gives a password only (environment variables "
               f"{ref.env}_USER and {ref.env}_PASSWORD), and server_access needs an SSH key",
               f"add ssh_key: /path/to/key to credentials.{access.credentials}, or use a file entry holding "
               "username and ssh_key")


def _placement_nodes(system: System, base: PathKey, primaries: list[str], report: _Reporter) -> None:
    p = system.placement
    fields: list[tuple[PathKey, str]] = [((*base, "placement", "nodes", k), n) for k, n in enumerate(p.nodes or [])]
    fields += [((*base, "placement", f), getattr(p, f)) for f in ("primary", "standby", "node") if getattr(p, f)]
    for path, node in fields:
        if node not in primaries:
            report.unknown(path, "primary cloud node", node, primaries, "clouds with role primary")


def _extranet(estate: Estate, report: _Reporter, invalid: Invalid) -> None:
    ext = estate.extranet
    assert ext is not None
    if "extranet.planes" not in invalid.header_keys and len(ext.planes) < 2 and not invalid.names.get(Plane):
        report(("extranet", "planes"), f"the extranet declares {len(ext.planes)} plane(s)",
               "one network, two planes: declare at least two, e.g. [{name: A, asn: 65101}, {name: B, asn: 65102}]")
    sites = {s.code: s for s in ext.sites}
    _site_tree(ext.sites, sites, report, invalid)
    planes = [p.name for p in ext.planes]
    attached: dict[str, set[str]] = {}
    for i, dev in enumerate(ext.devices):
        base: PathKey = ("extranet", "devices", i)
        if dev.site not in sites and not invalid.has(Site, dev.site):
            report.unknown((*base, "site"), "site", dev.site, sites, "extranet sites")
        if dev.plane is not None and dev.plane not in planes and not invalid.has(Plane, dev.plane):
            report.unknown((*base, "plane"), "plane", dev.plane, planes, "extranet planes")
        if dev.credentials not in estate.credentials:
            report.unknown((*base, "credentials"), "credentials entry", dev.credentials, estate.credentials,
                           "credentials")
        _port_names(ext, dev, base, report, "extranet.models" in invalid.header_keys)
        attached.setdefault(dev.site, set()).update([dev.plane] if dev.plane else planes)
    if invalid.names.get(Device) or invalid.names.get(Plane):
        return
    for i, site in enumerate(ext.sites):
        missing = [p for p in planes if site.code in attached and p not in attached[site.code]]
        if missing:
            report(("extranet", "sites", i), f"site {site.code} ({site.name}) is not attached to plane "
                   f"{', '.join(missing)}", "one network, two planes: give the site a device on every plane, "
                   "or one device with no 'plane' (dual-homed)")


def _port_names(ext: Extranet, dev: Device, base: PathKey, report: _Reporter, models_invalid: bool) -> None:
    """A device's model exists and fits its platform; its own port names fit the platform and name one port each."""
    pattern: str | None = None
    if dev.model is not None:
        model = ext.models.get(dev.model)
        if model is None:
            if not models_invalid:
                report.unknown((*base, "model"), "router model", dev.model, ext.models, "extranet models")
            return
        if model.platform != dev.platform:
            report((*base, "model"), f"model {dev.model} is a {model.platform} router, device {dev.name} is "
                   f"{dev.platform}", f"give the device platform: {model.platform}, or a {dev.platform} model")
            return
        pattern = model.ports
    for port, name in (dev.ports or {}).items():
        problem = name_problem(name, dev.platform)
        if problem is not None:
            report((*base, "ports", port), f"port {port}: {problem}", "write the name the device itself shows")
    for port, message in clashes(dev.platform, pattern, dev.ports or {}):
        report((*base, "ports", port), message, "each port needs its own interface: map the other port too, "
               "or choose another name")


def _site_tree(items: list[Site], sites: dict[str, Site], report: _Reporter, invalid: Invalid) -> None:
    regions = [i for i, s in enumerate(items) if s.level == "region"]
    if len(regions) > 1:
        report(("extranet", "sites", regions[1], "level"), "more than one region-level site",
               "the estate covers one region: make the others cities or split the estate")
    for i, site in enumerate(items):
        base: PathKey = ("extranet", "sites", i)
        if site.level == "region":
            if site.parent is not None:
                report((*base, "parent"), "the region-level site cannot have a parent", "remove 'parent'")
            continue
        if site.parent is None:
            report(base, f"{site.level}-level site {site.code} has no parent",
                   f"add parent: the code of its {LEVELS[LEVELS.index(site.level) - 1]}-level site")
            continue
        parent = sites.get(site.parent)
        if parent is None:
            if not invalid.has(Site, site.parent):
                report.unknown((*base, "parent"), "parent site", site.parent, sites, "extranet sites")
            continue
        if _in_cycle(site, sites):
            report((*base, "parent"), f"site {site.code} is its own ancestor (parents form a cycle)",
                   "fix the parent codes so that they lead up to the region")
        elif LEVELS.index(parent.level) != LEVELS.index(site.level) - 1:
            report((*base, "parent"), f"a {site.level} cannot have a {parent.level} ({parent.code}) as parent",
                   f"the parent of a {site.level} must be a {LEVELS[LEVELS.index(site.level) - 1]}")


def _in_cycle(site: Site, sites: dict[str, Site]) -> bool:
    seen = {site.code}
    current = sites.get(site.parent or "")
    while current is not None:
        if current.code in seen:
            return True
        seen.add(current.code)
        current = sites.get(current.parent or "")
    return False


def _prefixes(estate: Estate, report: _Reporter, invalid: Invalid) -> None:
    v4: list[tuple[Network, PathKey]] = []
    v6: list[tuple[Network, PathKey]] = []
    for i, dept in enumerate(estate.departments):
        block = dept.ipv6 if isinstance(dept.ipv6, ipaddress.IPv6Network) else None
        if block is not None:
            v6.append((block, ("departments", i, "ipv6")))
            if estate.cloud_ipv6 and not block.subnet_of(estate.cloud_ipv6):
                report(("departments", i, "ipv6"), f"{block} is outside cloud_ipv6 {estate.cloud_ipv6}",
                       "take the department's block from cloud_ipv6, or use 'auto'")
        for j, net in enumerate(dept.networks):
            if net.ipv4 is not None:
                v4.append((net.ipv4, ("departments", i, "networks", j, "ipv4")))
            if isinstance(net.ipv6, ipaddress.IPv6Network):
                if block is not None and not net.ipv6.subnet_of(block):
                    report(("departments", i, "networks", j, "ipv6"), f"{net.ipv6} is outside the department's "
                           f"block {block}", "take it from the department's block, or use 'auto'")
                elif block is None:
                    v6.append((net.ipv6, ("departments", i, "networks", j, "ipv6")))
    _overlaps(v4, report)
    _overlaps(v6, report)


def _overlaps(prefixes: list[tuple[Network, PathKey]], report: _Reporter) -> None:
    """Report each prefix that overlaps an earlier one (one address family; sorted sweep, O(n log n))."""
    ordered = sorted(prefixes, key=lambda item: (int(item[0].network_address), item[0].prefixlen))
    widest: tuple[Network, PathKey] | None = None
    for net, path in ordered:
        if widest is not None and int(net.network_address) <= int(widest[0].broadcast_address):
            where = report.source.locate(widest[1])
            report(path, f"{net} overlaps {widest[0]}" + (f" ({where.file}:{where.line})" if where else ""),
                   "give each network its own prefix")
        if widest is None or int(net.broadcast_address) > int(widest[0].broadcast_address):
            widest = (net, path)


def _cloud_ipv6(estate: Estate, report: _Reporter, invalid: Invalid) -> None:
    """The IPv6 'auto' allocation ``cloud plan`` makes for the departments that have systems."""
    from nxgov.cloud.ipv6 import allocate  # imports the estate model: not at the top (import cycle)

    if "cloud_ipv6" in invalid.header_keys:
        return
    placed = {s.department for s in estate.systems}
    departments = [d for d in estate.departments if d.code in placed]
    try:
        allocate(estate, departments, {})
    except DepartmentInputError as error:
        index = next((i for i, d in enumerate(estate.departments) if d.code == error.department), None)
        report(("departments", index, "ipv6") if index is not None else ("cloud_ipv6",), error.message, error.hint)


def _extranet_clean(report: _Reporter, invalid: Invalid) -> bool:
    """Whether the extranet passed every other check (the address plan is only worked out for a sound tree)."""
    return not ({"extranet", "extranet.prefix", "extranet.planes", "extranet.sites", "extranet.devices"}
                & invalid.header_keys or invalid.names.get(Site) or invalid.names.get(Device)
                or invalid.names.get(Plane) or any(p.path.startswith("extranet") for p in report.found))


def _address_plan(estate: Estate, report: _Reporter) -> None:
    """What ``net ipv6 plan`` needs: a prefix the layout can cut, management addresses outside the planned
    slices, a device to link to on each plane at the parent site, and room in every pool."""
    from nxgov.network.ipv6layout import build_layout  # imports the estate model: not at the top (import cycle)

    ext = estate.extranet
    assert ext is not None
    if estate.cloud_ipv6 is not None and ext.prefix.overlaps(estate.cloud_ipv6):
        report(("extranet", "prefix"), f"{ext.prefix} overlaps cloud_ipv6 {estate.cloud_ipv6}",
               "give the extranet and the cloud nodes each their own block")
    try:
        layout = build_layout(ext)
    except InputError as error:
        report(("extranet", "prefix"), error.message, error.hint)
        return
    _management(estate, layout, report)
    if _links(estate, report):
        _pool_room(estate, layout, report)


def _management(estate: Estate, layout: Layout, report: _Reporter) -> None:
    from nxgov.network.ipv6plan import MANAGEMENT_HINT, management_clashes

    for clash in management_clashes(estate, layout):
        path: PathKey = (("extranet", "devices", clash.index, "host") if clash.field == "host"
                         else ("operations", clash.index))
        report(path, clash.message(layout), MANAGEMENT_HINT)


def _links(estate: Estate, report: _Reporter) -> bool:
    """Every device's uplink on each of its planes needs a device on that plane at the parent site."""
    from nxgov.network.topology import unlinked

    ext = estate.extranet
    assert ext is not None
    device_index = {d.name: i for i, d in enumerate(ext.devices)}
    missing = unlinked(ext)
    for gap in missing:
        report(("extranet", "devices", device_index[gap.device.name]), gap.message, gap.hint)
    return not missing


def _pool_room(estate: Estate, layout: Layout, report: _Reporter) -> None:
    """Each pool must hold what the estate needs numbered (a fresh plan; stored reservations may need more)."""
    from nxgov.network.ipv6plan import requests
    from nxgov.network.topology import build_topology

    ext = estate.extranet
    assert ext is not None
    site_index = {s.code: i for i, s in enumerate(ext.sites)}
    device_index = {d.name: i for i, d in enumerate(ext.devices)}
    used: dict[str, int] = {}
    for request in requests(build_topology(ext), layout):
        pool = request.pool
        used[pool.name] = used.get(pool.name, 0) + 1
        if used[pool.name] != pool.capacity + 1:
            continue
        owner = request.key.split("/", 1)[0]
        path: PathKey = (("extranet", "sites", site_index[owner]) if request.kind in ("site", "asn")
                         else ("extranet", "devices", device_index[owner]))
        report(path, f"the {pool.name} pool is full: no room for {request.owner}; {pool.span} holds "
               f"{pool.capacity:,} {pool.unit}", request.hint)
