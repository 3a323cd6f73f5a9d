"""``nxgov status``: the region on one screen (issue 14 §3), a thin layer over
:func:`nxgov.region.status.region_status`: the cloud nodes, the departments, the extranet's sites, and what needs
attention with where to look next. Exit 3 when something needs attention."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from nxgov.cli.context import settings
from nxgov.cli.output import console, emit_json, escape
from nxgov.errors import ExitCode, InputError

if TYPE_CHECKING:
    from nxgov.region.status import DepartmentStatus, NodeStatus, RegionStatus, SiteStatus

GIB = 1024 ** 3
FOLDED = 30
"""Above this many departments or sites, only those not in order are listed (all with -v)."""
PER_KIND = 5
"""Attention items listed per kind (all with -v); the rest are counted."""
_HEALTH = {"up": "green", "degraded": "yellow", "unreachable": "red"}
_SITE = {"both-up": "green", "degraded": "yellow", "down": "red", "unknown": "yellow", "unverified": "dim"}
_PLANE = {"up": "green", "down": "red", "unknown": "yellow"}


def status(ctx: typer.Context,
           timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for one API answer")] = 30.0
           ) -> None:
    """The region on one screen: per cloud node its capacity and health, per department provisioned / migrated
    (上云率) / protected (RPO met) / drilled, per extranet site its two planes, and what needs attention with the
    command to look at it. Changes nothing. Exit 3 when something needs attention."""
    from datetime import UTC, datetime

    from nxgov.cloud.connect import node_clients
    from nxgov.cloud.transport import RetryPolicy
    from nxgov.estate import load_estate
    from nxgov.region.status import region_status
    from nxgov.state import StateStore

    if not 0 < timeout <= 600:
        raise InputError(f"--timeout {timeout:g} is out of range", "give seconds between 1 and 600")
    options = settings(ctx)
    loaded = load_estate(options.estate)
    base = loaded.path if loaded.path.is_dir() else loaded.path.parent
    clients = node_clients(dict(loaded.estate.clouds), base,
                           RetryPolicy(attempts=2, max_delay=1.0, timeout=(5.0, timeout)))
    with StateStore.open(options.state) as store:
        found = region_status(loaded.estate, store, clients, datetime.now(UTC))
    if options.json:
        emit_json(found.to_document())
    else:
        _render(found, options.verbose > 0)
    if not found.ok:
        raise typer.Exit(ExitCode.CHANGES)


def _render(found: RegionStatus, everything: bool) -> None:
    from rich.table import Table

    local = found.time.astimezone().isoformat(timespec="seconds")
    console.print(f"[bold]region {escape(found.estate)}[/] at {local}: " + (
        "[green]nothing needs attention[/]" if found.ok else f"[red]{len(found.attention)} item(s) need attention[/]"))
    nodes = Table("node", "role", "health", "vCPUs used / allocatable", "RAM GiB used / allocatable",
                  "servers (error)", "volumes (GiB)", title="cloud nodes", title_justify="left")
    for node in found.nodes:
        nodes.add_row(*_node_row(node))
    console.print(nodes)
    if found.departments:
        shown = [d for d in found.departments if everything or len(found.departments) <= FOLDED or not _in_order(d)]
        departments = Table("department", "systems", "provisioned", "migrated (上云率)", "protected (RPO met)",
                            "drilled", title="departments" + _folded(len(shown), len(found.departments)),
                            title_justify="left")
        for dept in shown:
            departments.add_row(*_department_row(dept))
        console.print(departments)
        if found.cloud_error:
            console.print(f"[yellow]provisioned unknown:[/] {escape(found.cloud_error)}")
    if found.sites:
        planes = list(dict.fromkeys(p for s in found.sites for p in s.planes))
        shown_sites = [s for s in found.sites if everything or len(found.sites) <= FOLDED or s.state != "both-up"]
        sites = Table("site", "name", "level", "state", *(f"plane {p}" for p in planes), "verified",
                      title="extranet sites" + _folded(len(shown_sites), len(found.sites)), title_justify="left")
        for site in shown_sites:
            sites.add_row(*_site_row(site, planes))
        console.print(sites)
    if found.pending_confirmations:
        console.print(f"{found.pending_confirmations} pushed change(s) awaiting confirmation (nxgov net confirm)")
    if found.attention:
        from rich.table import Column

        items = Table("needs attention", Column("what", ratio=1), Column("look next", no_wrap=True),
                      Column("fix", no_wrap=True), title="attention", title_justify="left")
        kinds = Counter(item.kind for item in found.attention)
        listed: Counter[str] = Counter()
        for item in found.attention:
            listed[item.kind] += 1
            if everything or listed[item.kind] <= PER_KIND:
                items.add_row(f"[red]{escape(item.kind)}[/] {escape(item.subject)}", escape(item.message),
                              f"[bold]{escape(item.look)}[/]", escape(item.fix or "-"))
            elif listed[item.kind] == kinds[item.kind]:
                items.add_row(f"[red]{escape(item.kind)}[/] ...", f"and {kinds[item.kind] - PER_KIND} more",
                              "[bold]nxgov -v status[/]", "-")
        console.print(items)


def _folded(shown: int, total: int) -> str:
    return "" if shown == total else f" ({shown} of {total} shown: those not in order; -v lists all)"


def _node_row(node: NodeStatus) -> list[str]:
    health = f"[{_HEALTH[node.health]}]{node.health}[/]"
    r = node.reading
    if r is None:
        return [node.node, node.role, f"{health} (see attention)", "-", "-", "-", "-"]
    vcpus, memory = r.resources["vcpus"], r.resources["memory"]
    return [node.node, node.role, health, f"{vcpus.used:g} / {vcpus.allocatable:g}",
            f"{memory.used / GIB:.1f} / {memory.allocatable / GIB:.1f}",
            f"{sum(r.servers.values())} ({r.servers.get('ERROR', 0)})",
            f"{sum(r.volumes.values())} ({r.volume_bytes / GIB:g})"]


def _in_order(dept: DepartmentStatus) -> bool:
    p = dept.provisioned
    return (p is not None and not p.missing and not p.changed and not dept.at_risk
            and dept.protected == dept.protected_of and dept.drilled == dept.drilled_of)


def _department_row(dept: DepartmentStatus) -> list[str]:
    p = dept.provisioned
    if p is None:
        provisioned = "[yellow]unknown[/]"
    elif not p.declared:
        provisioned = "-"
    else:
        colour = "green" if not p.missing else "red"
        provisioned = f"[{colour}]{p.present} of {p.declared}[/]" + (f", {len(p.changed)} changed" if p.changed
                                                                      else "")
    tally = dept.migration
    migrated = "-" if tally.ratio is None else f"{tally.on_cloud} of {tally.to_migrate} ({tally.ratio:.0%})" + (
        f", [red]{len(dept.at_risk)} at risk[/]" if dept.at_risk else "")
    return [dept.department, str(dept.systems), provisioned, migrated, _ratio(dept.protected, dept.protected_of),
            _ratio(dept.drilled, dept.drilled_of)]


def _ratio(good: int, of: int) -> str:
    return "-" if not of else f"[{'green' if good == of else 'red'}]{good} of {of}[/]"


def _site_row(site: SiteStatus, planes: list[str]) -> list[str]:
    from nxgov.spans import span

    cells = [f"[{_PLANE.get(site.planes[p], 'dim')}]{site.planes[p]}[/]" if p in site.planes else "-"
             for p in planes]
    verified = "never" if site.checked is None else f"{span(site.age_s)} ago ({site.checked})"
    return [site.code, escape(site.name), site.level, f"[{_SITE.get(site.state, 'dim')}]{site.state}[/]", *cells,
            verified]
