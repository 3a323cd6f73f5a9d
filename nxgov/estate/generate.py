"""Generate estates: the region's real site tree, and a full-scale estate for benchmarks and scale tests.

The real tree is Ningxia's region, 5 cities and 22 counties with their GB/T 2260 division codes.
The full scale adds townships (9-digit codes) and villages (12-digit codes) under every county,
two devices per site (one per plane), 100 departments and 1,000 systems: about 3,000 sites and
6,000 devices, the size of the real extranet down to the villages. Output is deterministic.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nxgov.errors import InputError
from nxgov.estate.model import WEEKDAYS
from nxgov.estate.types import SLUG_HINT, is_slug

REGION = ("640000", "宁夏回族自治区")
CITIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("640100", "银川市", (("640104", "兴庆区"), ("640105", "西夏区"), ("640106", "金凤区"),
                         ("640121", "永宁县"), ("640122", "贺兰县"), ("640181", "灵武市"))),
    ("640200", "石嘴山市", (("640202", "大武口区"), ("640205", "惠农区"), ("640221", "平罗县"))),
    ("640300", "吴忠市", (("640302", "利通区"), ("640303", "红寺堡区"), ("640323", "盐池县"),
                         ("640324", "同心县"), ("640381", "青铜峡市"))),
    ("640400", "固原市", (("640402", "原州区"), ("640422", "西吉县"), ("640423", "隆德县"),
                         ("640424", "泾源县"), ("640425", "彭阳县"))),
    ("640500", "中卫市", (("640502", "沙坡头区"), ("640521", "中宁县"), ("640522", "海原县"))),
)
PLANES: tuple[dict[str, Any], ...] = (
    {"name": "A", "asn": 65101, "description": "平面A"},
    {"name": "B", "asn": 65102, "description": "平面B"},
)
PLANE_PLATFORM = {"A": "huawei_vrp", "B": "h3c_comware"}
DEVICE_HOSTS = ipaddress.IPv6Network("2001:db8:64fe::/48")


@dataclass(frozen=True)
class Scale:
    """How big a generated estate is."""

    townships_per_county: int
    villages_per_township: int
    departments: int
    systems_per_department: int


SCALES = {
    "region": Scale(0, 0, 0, 0),
    "medium": Scale(3, 4, 20, 5),
    "full": Scale(11, 11, 100, 10),
}


def sites(scale: Scale) -> list[dict[str, Any]]:
    """The site tree, parents before children: region, cities, counties, then townships and villages."""
    out: list[dict[str, Any]] = [{"code": REGION[0], "name": REGION[1], "level": "region"}]
    for city, city_name, counties in CITIES:
        out.append({"code": city, "name": city_name, "level": "city", "parent": REGION[0]})
        for county, county_name in counties:
            out.append({"code": county, "name": county_name, "level": "county", "parent": city})
            for t in range(1, scale.townships_per_county + 1):
                town = f"{county}{t:03d}"
                out.append({"code": town, "name": f"{county_name}第{t}乡镇", "level": "township", "parent": county})
                for v in range(1, scale.villages_per_township + 1):
                    out.append({"code": f"{town}{v:03d}", "name": f"{county_name}第{t}乡镇第{v}村",
                                "level": "village", "parent": town})
    return out


def devices(site_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two routers per site, one on each plane: plane A on Huawei VRP, plane B on H3C Comware."""
    out: list[dict[str, Any]] = []
    for site in site_list:
        for plane in PLANES:
            index = len(out) + 1
            out.append({
                "name": f"ce-{site['code']}-{plane['name'].lower()}",
                "site": site["code"],
                "plane": plane["name"],
                "platform": PLANE_PLATFORM[plane["name"]],
                "host": str(DEVICE_HOSTS.network_address + index),
                "credentials": "extranet",
            })
    return out


_MAINTENANCE = (
    [{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}],
    [{"days": ["fri", "sat"], "start": "20:00", "end": "08:00"}],
    [{"days": list(WEEKDAYS), "start": "01:00", "end": "05:00"}],
)
"""Departments' migration windows, in turn: weekend nights, Friday and Saturday nights, every night."""


def departments(count: int) -> list[dict[str, Any]]:
    return [{
        "code": f"dept{i:03d}",
        "name": f"委办局{i:03d}",
        "quotas": {"cores": 64, "ram_gb": 256, "instances": 40, "volumes_gb": 4096},
        "maintenance": [{**w, "days": list(w["days"])} for w in _MAINTENANCE[i % len(_MAINTENANCE)]],
        "migration_deadline": "2027-06-30" if i % 2 else "2027-12-31",
        "networks": [{"name": "app", "ipv4": f"10.{64 + i // 256}.{i % 256}.0/24"},
                     {"name": "db", "ipv4": f"10.{96 + i // 256}.{i % 256}.0/24"}],
    } for i in range(1, count + 1)]


_PLACEMENTS = (
    {"mode": "active-active"},
    {"mode": "active-standby", "primary": "yinchuan", "standby": "zhongwei"},
    {"mode": "single", "node": "yinchuan"},
    {"mode": "single", "node": "zhongwei"},
    {"mode": "active-standby", "primary": "zhongwei", "standby": "yinchuan", "standby_servers": "absent"},
)


def systems(depts: list[dict[str, Any]], per_department: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for dept in depts:
        for k in range(1, per_department + 1):
            n = len(out)
            level = (2, 3, 3, 1, 2)[n % 5]
            system: dict[str, Any] = {
                "code": f"{dept['code']}-sys{k:02d}",
                "department": dept["code"],
                "level": level,
                "placement": _PLACEMENTS[n % len(_PLACEMENTS)],
                "source": {"host": str(ipaddress.IPv6Address("2001:db8:64f0::21") + (n << 16)), "user": "ops",
                           "credentials": "legacy-ssh", "paths": [f"/srv/{dept['code']}-sys{k:02d}/data"]},
                "servers": [{"name": "app", "flavor": "m1.medium", "image": "kylin-v10", "count": 1 + n % 3,
                             "network": "app", "volumes_gb": [100]},
                            {"name": "db", "flavor": "m1.large", "image": "kylin-v10", "network": "db"}],
            }
            if level >= 2:
                system["backup"] = {"rpo": "4h" if level == 3 else "24h", "retain": "30d"}
            out.append(system)
    return out


def header(name: str) -> dict[str, Any]:
    return {
        "estate": name,
        "description": "generated estate (nxgov estate generate)",
        "clouds": {"yinchuan": {"cloud": "nx-yinchuan", "role": "primary"},
                   "zhongwei": {"cloud": "nx-zhongwei", "role": "primary"},
                   "backup": {"cloud": "nx-backup", "role": "backup"}},
        "cloud_ipv6": "2001:db8:6500::/40",
        "credentials": {"extranet": {"file": "/etc/nxgov/extranet.yaml"},
                        "legacy-ssh": {"file": "/etc/nxgov/legacy-ssh.yaml"}},
        "flavors": {"m1.medium": {"vcpus": 2, "ram_mb": 4096, "disk_gb": 40},
                    "m1.large": {"vcpus": 4, "ram_mb": 8192, "disk_gb": 80}},
    }


def generate(scale_name: str, name: str | None = None) -> dict[str, dict[str, Any]]:
    """The estate as file name -> YAML document, split the way an operator would keep it.

    Raises :class:`InputError` for an unknown scale or an estate name that would not validate.
    """
    if scale_name not in SCALES:
        raise InputError(f"unknown scale {scale_name!r}", f"use one of: {', '.join(SCALES)}")
    if name is not None and not is_slug(name):
        raise InputError(f"--name {name!r} is not a valid code: the estate's name must be one; nothing was written",
                         SLUG_HINT)
    scale = SCALES[scale_name]
    site_list = sites(scale)
    depts = departments(scale.departments)
    return {
        "estate.yaml": header(name or f"ningxia-{scale_name}"),
        "departments.yaml": {"departments": depts},
        "systems.yaml": {"systems": systems(depts, scale.systems_per_department)},
        "extranet/planes.yaml": {"extranet": {"prefix": "2001:db8:6400::/40", "planes": list(PLANES)}},
        "extranet/sites.yaml": {"extranet": {"sites": site_list}},
        "extranet/devices.yaml": {"extranet": {"devices": devices(site_list)}},
    }


def write(files: dict[str, dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write generated files under ``out_dir``; return the paths written."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    written: list[Path] = []
    for rel, document in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(document, Dumper=dumper, allow_unicode=True, sort_keys=False, width=160,
                         default_flow_style=None)
        path.write_text("# generated by nxgov estate generate; edit freely\n" + text, encoding="utf-8")
        written.append(path)
    return written
