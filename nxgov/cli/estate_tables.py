"""Rich tables for ``nxgov estate show``."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from nxgov.cli.output import console, escape
from nxgov.estate.summary import Summary


def render_summary(summary: Summary) -> None:
    counts = ", ".join(f"{n} {k}" for k, n in summary.counts.items())
    console.print(f"[bold]estate {summary.estate}[/]: {counts}")

    depts = Table(title="Departments", title_justify="left")
    for col in ("code", "name", "systems", "networks", "nodes", "cores", "RAM GiB", "instances", "volumes GiB"):
        depts.add_column(col, justify="right" if col not in ("code", "name", "nodes") else "left")
    for row in summary.departments:
        depts.add_row(row.code, row.name, str(row.systems), str(row.networks), ", ".join(row.nodes) or "-",
                      str(row.cores), str(row.ram_gb), str(row.instances), str(row.volumes_gb))
    console.print(depts)

    levels = Table(title="Systems by protection level and placement", title_justify="left")
    modes = sorted({m for counts in summary.systems_by_level.values() for m in counts})
    levels.add_column("level")
    for mode in modes:
        levels.add_column(mode, justify="right")
    levels.add_column("total", justify="right")
    for level, by_mode in summary.systems_by_level.items():
        levels.add_row(level, *(str(by_mode.get(m, 0)) for m in modes), str(sum(by_mode.values())))
    console.print(levels)

    sites = Table(title="Extranet sites per level", title_justify="left")
    for level in summary.sites_by_level:
        sites.add_column(level, justify="right")
    sites.add_row(*(str(n) for n in summary.sites_by_level.values()))
    console.print(sites)

    devices = Table(title="Devices per plane and platform", title_justify="left")
    platforms = sorted({p for counts in summary.devices_by_plane.values() for p in counts})
    devices.add_column("plane")
    for platform in platforms:
        devices.add_column(platform, justify="right")
    for plane, by_platform in summary.devices_by_plane.items():
        devices.add_row(plane, *(str(by_platform.get(p, 0)) for p in platforms))
    console.print(devices)


def render_listing(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"{title} ({len(rows):,})", title_justify="left")
    for column in rows[0] if rows else ():
        table.add_column(column, justify="right" if column == "port" else "left")
    for row in rows:
        table.add_row(*(escape("-" if value is None else str(value)) for value in row.values()))
    console.print(table)
