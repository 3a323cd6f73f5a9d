"""Small estates and synthetic assessments for the migration plan tests (no lab, no SSH)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from nxgov.estate import load_estate
from nxgov.estate.model import Estate
from nxgov.migrate.assessment import Assessment, PathUsage, ZombieEvidence
from nxgov.migrate.windows import SHANGHAI

GIB = 1 << 30
WEEKEND = "[{days: [sat, sun], start: '22:00', end: '06:00'}]"
NIGHTLY = "[{days: [mon, tue, wed, thu, fri, sat, sun], start: '01:00', end: '05:00'}]"
MONDAY = datetime(2026, 11, 30, tzinfo=SHANGHAI)
"""A Monday, 00:00 in Asia/Shanghai: the plans' start."""

_HEAD = """\
estate: test
clouds:
  yinchuan: {cloud: nx-yinchuan, role: primary}
  zhongwei: {cloud: nx-zhongwei, role: primary}
cloud_ipv6: 2001:db8:6500::/40
flavors:
  m1.small: {vcpus: 1, ram_mb: 2048}
  m1.large: {vcpus: 4, ram_mb: 8192}
departments:
"""


def estate_text(departments: dict[str, str | None], systems: Iterable[tuple[str, str]],
                no_source: Iterable[tuple[str, str]] = ()) -> str:
    """An estate: ``departments`` code -> maintenance (flow YAML, or None for none); ``systems`` (code, department)
    with a legacy host, each with two small servers and a 10 GiB volume; ``no_source`` systems without one."""
    text = _HEAD
    for code, maintenance in departments.items():
        text += f"  - code: {code}\n    name: {code}\n    quotas: {{cores: 8, ram_gb: 16, instances: 4}}\n"
        if maintenance is not None:
            text += f"    maintenance: {maintenance}\n"
        text += "    networks: [{name: app}]\n"
    text += "systems:\n"
    for n, (code, dept) in enumerate(systems, 1):
        text += (f"  - code: {code}\n    department: {dept}\n    level: 2\n"
                 "    placement: {mode: active-standby, primary: yinchuan, standby: zhongwei}\n"
                 f"    source: {{host: '2001:db8:64f0::{n:x}', user: ops, paths: [/srv/{code}/data]}}\n"
                 "    servers: [{name: app, flavor: m1.small, image: kylin, count: 2, volumes_gb: [10]}]\n")
    for code, dept in no_source:
        text += (f"  - code: {code}\n    department: {dept}\n    level: 2\n    placement: {{mode: active-active}}\n"
                 "    servers: [{name: web, flavor: m1.small, image: kylin}]\n")
    return text


def load(tmp_path: Path, text: str) -> Estate:
    path = tmp_path / "estate.yaml"
    path.write_text(text, encoding="utf-8")
    return load_estate(path).estate


def assessment(code: str, depends_on: Iterable[str] = (), cpus: int = 2, memory_gib: int = 4,
               data_bytes: int = GIB) -> Assessment:
    """What an assessment of ``code``'s legacy host could have found."""
    return Assessment(
        system=code, host="2001:db8:64f0::1", assessed_at="2026-11-20T00:00:00+00:00", os_release="Kylin V10",
        cpus=cpus, memory_bytes=memory_gib * GIB, disks=[],
        paths=[PathUsage(path=f"/srv/{code}/data", bytes=data_bytes, files=10, newest_change=None)],
        listening=[], connections=[], depends_on=sorted(depends_on),
        zombie=ZombieEvidence(last_login=None, newest_change=None, connections_seen=0, access_log_requests=None))
