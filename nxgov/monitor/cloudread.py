"""One cloud node read for the exporter: capacity from Placement, servers and volumes by status, the departments'
quotas and use, and their networks without IPv6.

Calls per read: Keystone's project list, Placement's provider list and two calls per provider (inventories,
usages), one listing each of servers (:data:`SERVER_PAGE` a page), volumes, networks and subnets, and two per
department project (Nova's limits with their use, Cinder's quota set with its use): O(kinds + projects + compute
hosts + servers / 50), never one call per server or volume. Listings are plain JSON through
:func:`nxgov.cloud.actual.paged`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nxgov.cloud.actual import COMPUTE_MICROVERSION, paged

GIB = 1024 ** 3
MIB = 1024 ** 2
PLACEMENT = {"VCPU": ("vcpus", 1), "MEMORY_MB": ("memory", MIB), "DISK_GB": ("disk", GIB)}
"""Placement resource class → (metric stem, bytes per unit)."""
SERVER_PAGE = 50
"""Servers per page. Nova asks Neutron about a whole page of servers in one GET that names every one of them
(``device_id=<uuid>``, about 47 bytes each): behind a front end whose request line is limited to 4 KiB (gunicorn's
default, the lab's until 2026-11-27) a page of 100 servers makes Neutron answer 400 and Nova 500; 50 stays under."""


@dataclass(frozen=True)
class ResourceUse:
    """One resource of a node summed over its providers, in base units (vCPUs, bytes)."""

    capacity: float
    used: float
    allocatable: float
    """``(total - reserved) x allocation_ratio``: what can be scheduled in all."""


@dataclass(frozen=True)
class QuotaUse:
    department: str
    resource: str
    """``cores``, ``memory`` (bytes), ``instances``, ``volume`` (bytes)."""
    limit: float
    """-1 when unlimited."""
    used: float


@dataclass(frozen=True)
class NodeReading:
    node: str
    resources: dict[str, ResourceUse]
    servers: Counter[str] = field(default_factory=Counter)
    volumes: Counter[str] = field(default_factory=Counter)
    volume_bytes: float = 0.0
    quotas: tuple[QuotaUse, ...] = ()
    networks_without_ipv6: dict[str, int] = field(default_factory=dict)


def read_node(conn: Any, node: str, departments: set[str]) -> NodeReading:
    """Read ``node`` through its admin connection; ``departments`` are the estate's codes (their projects)."""
    projects = {p["id"]: p["name"] for p in paged(conn.identity, "/projects", "projects", {"domain_id": "default"})
                if p["name"] in departments}
    servers = paged(conn.compute, "/servers/detail", "servers", {"all_tenants": "True", "limit": SERVER_PAGE},
                    COMPUTE_MICROVERSION)
    volumes = paged(conn.block_storage, "/volumes/detail", "volumes", {"all_tenants": "True"})
    return NodeReading(
        node=node, resources=_placement(conn),
        servers=Counter(s.get("status") or "UNKNOWN" for s in servers),
        volumes=Counter(v.get("status") or "unknown" for v in volumes),
        volume_bytes=float(sum((v.get("size") or 0) for v in volumes) * GIB),
        quotas=tuple(q for pid, name in sorted(projects.items(), key=lambda p: p[1])
                     for q in _quotas(conn, pid, name)),
        networks_without_ipv6=_without_ipv6(conn, projects))


def _get(adapter: Any, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    from openstack import exceptions as os_exc

    response = adapter.get(path, params=params)
    os_exc.raise_from_response(response)
    body: dict[str, Any] = response.json()
    return body


def _placement(conn: Any) -> dict[str, ResourceUse]:
    sums: dict[str, list[float]] = {stem: [0.0, 0.0, 0.0] for stem, _ in PLACEMENT.values()}
    for provider in _get(conn.placement, "/resource_providers")["resource_providers"]:
        inventories = _get(conn.placement, f"/resource_providers/{provider['uuid']}/inventories")["inventories"]
        usages = _get(conn.placement, f"/resource_providers/{provider['uuid']}/usages")["usages"]
        for resource_class, (stem, unit) in PLACEMENT.items():
            inventory = inventories.get(resource_class)
            if inventory is None:
                continue
            total, reserved = inventory["total"], inventory.get("reserved") or 0
            ratio = inventory.get("allocation_ratio")
            sums[stem][0] += total * unit
            sums[stem][1] += (usages.get(resource_class) or 0) * unit
            sums[stem][2] += (total - reserved) * (1.0 if ratio is None else float(ratio)) * unit
    return {stem: ResourceUse(*values) for stem, values in sums.items()}


def _quotas(conn: Any, project_id: str, department: str) -> list[QuotaUse]:
    absolute = _get(conn.compute, "/limits", {"tenant_id": project_id})["limits"]["absolute"]
    gigabytes = _get(conn.block_storage, f"/os-quota-sets/{project_id}", {"usage": "True"})["quota_set"]["gigabytes"]

    def scaled(value: float, unit: float) -> float:
        return -1.0 if value < 0 else value * unit

    return [QuotaUse(department, "cores", absolute["maxTotalCores"], absolute["totalCoresUsed"]),
            QuotaUse(department, "memory", scaled(absolute["maxTotalRAMSize"], MIB), absolute["totalRAMUsed"] * MIB),
            QuotaUse(department, "instances", absolute["maxTotalInstances"], absolute["totalInstancesUsed"]),
            QuotaUse(department, "volume", scaled(gigabytes["limit"], GIB), gigabytes["in_use"] * GIB)]


def _without_ipv6(conn: Any, projects: dict[str, str]) -> dict[str, int]:
    networks = paged(conn.network, "/networks", "networks", {"fields": ["id", "project_id"]})
    subnets = paged(conn.network, "/subnets", "subnets", {"fields": ["network_id", "ip_version"]})
    with_ipv6 = {s["network_id"] for s in subnets if s.get("ip_version") == 6}
    found = dict.fromkeys(projects.values(), 0)
    for network in networks:
        department = projects.get(network.get("project_id") or "")
        if department is not None and network["id"] not in with_ipv6:
            found[department] += 1
    return found
