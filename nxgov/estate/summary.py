"""A summary of an estate: what ``nxgov estate show`` prints, as typed data CI can read."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from nxgov.estate.model import LEVELS, PLACEMENT_MODES, Estate


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    systems: int
    networks: int
    nodes: list[str]
    cores: int
    ram_gb: int
    instances: int
    volumes_gb: int


@dataclass(frozen=True)
class Summary:
    estate: str
    counts: dict[str, int]
    departments: list[DepartmentRow]
    systems_by_level: dict[str, dict[str, int]]
    sites_by_level: dict[str, int]
    devices_by_plane: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(estate: Estate) -> Summary:
    primaries = estate.primary_nodes()
    per_dept: dict[str, list[str]] = {}
    nodes_of: dict[str, set[str]] = {}
    levels: dict[str, Counter[str]] = {}
    for system in estate.systems:
        per_dept.setdefault(system.department, []).append(system.code)
        nodes_of.setdefault(system.department, set()).update(system.placement.node_names(primaries))
        levels.setdefault(str(system.level), Counter())[system.placement.mode] += 1
    rows = [DepartmentRow(
        code=d.code, name=d.name, systems=len(per_dept.get(d.code, [])), networks=len(d.networks),
        nodes=sorted(nodes_of.get(d.code, set())), cores=d.quotas.cores, ram_gb=d.quotas.ram_gb,
        instances=d.quotas.instances, volumes_gb=d.quotas.volumes_gb) for d in estate.departments]
    ext = estate.extranet
    sites: Counter[str] = Counter(s.level for s in ext.sites) if ext else Counter()
    devices: dict[str, Counter[str]] = {}
    for dev in ext.devices if ext else []:
        devices.setdefault(dev.plane or "all", Counter())[dev.platform] += 1
    return Summary(
        estate=estate.estate,
        counts={
            "nodes": len(estate.clouds), "departments": len(estate.departments), "systems": len(estate.systems),
            "servers": sum(s.count for sys in estate.systems for s in sys.servers),
            "planes": len(ext.planes) if ext else 0, "sites": len(ext.sites) if ext else 0,
            "devices": len(ext.devices) if ext else 0,
        },
        departments=rows,
        systems_by_level={lvl: {m: levels[lvl][m] for m in PLACEMENT_MODES} for lvl in sorted(levels)},
        sites_by_level={lvl: sites[lvl] for lvl in LEVELS},
        devices_by_plane={p: dict(sorted(c.items())) for p, c in sorted(devices.items())},
    )


def listings(estate: Estate, *, sites: bool, devices: bool) -> dict[str, list[dict[str, Any]]]:
    """The extranet's sites and/or devices one per row, in estate order: where hints send for codes and names."""
    ext = estate.extranet
    found: dict[str, list[dict[str, Any]]] = {}
    if sites:
        found["sites"] = [site.model_dump(mode="json", include={"code", "name", "level", "parent"})
                          for site in (ext.sites if ext else [])]
    if devices:
        found["devices"] = [device.model_dump(mode="json", include={"name", "site", "plane", "platform", "host",
                                                                     "port"})
                            for device in (ext.devices if ext else [])]
    return found
