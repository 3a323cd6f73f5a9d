"""``nxgov net verify``: read the devices' state and say, per site, whether both planes carry it.

Exit 0 when no site is down (a degraded site is reported, in yellow, and in the JSON ``down_planes``;
alerting on it is the exporter's job), 1 when a site is down or a device that can report its state
could not be read. The latest result per site is kept in the state store (``--state``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from nxgov.cli.audit_trail import preflight
from nxgov.cli.context import settings
from nxgov.cli.net_devices import WorkersOpt, session_options, with_progress
from nxgov.cli.output import console, emit_json, escape
from nxgov.errors import ExitCode

if TYPE_CHECKING:
    from nxgov.network.verify import Report

_STYLE = {"both-up": "green", "degraded": "yellow", "down": "bold red", "unknown": "dim",
          "up": "green", "read": "green", "not-verifiable": "dim", "failed": "bold red"}


def register(app: typer.Typer) -> None:
    """Add ``verify`` to the ``net`` command group."""
    app.command()(verify)


def verify(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Option(
        "--site", help="Only this site (division code): its devices, their link peers and the region are read")] = None,
    workers: WorkersOpt = 20,
) -> None:
    """Read BGP sessions, interfaces and routes; report each site: both-up, degraded (the plane named) or down."""
    from nxgov.estate import load_estate
    from nxgov.network.planstore import stored_plan
    from nxgov.network.verify import save
    from nxgov.network.verify import verify as verify_all
    from nxgov.state import StateStore

    options = settings(ctx)
    estate = load_estate(options.estate).estate
    preflight(ctx)
    with StateStore.open(options.state) as store:
        outcome = stored_plan(store, estate)
    report = with_progress(options, lambda hooks: verify_all(
        estate, outcome, session_options(options, None, "net verify"), site, workers=workers, hooks=hooks))
    with StateStore.open(options.state) as store:
        save(store, report)
    if options.json:
        emit_json(report.as_dict())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def _print(report: Report) -> None:
    from rich.table import Table

    planes = [p.plane for p in report.sites[0].planes] if report.sites else []
    table = Table("site", "name", "level", "state", *(f"plane {p}" for p in planes), "routed at region",
                  title=f"extranet {report.estate} at {report.checked}", title_justify="left")
    for s in report.sites:
        state = s.state + (f" ({', '.join(s.down_planes)} down)" if s.state == "degraded" else "")
        routed = "-" if s.routed is None else ", ".join(s.routed) or "nowhere"
        table.add_row(s.code, escape(s.name), s.level, _styled(s.state, state),
                      *(_styled(p.state, p.state) for p in s.planes), routed)
    console.print(table)
    for s in report.sites:
        for p in s.planes:
            if p.state != "up":
                console.print(f"  {s.code} plane {p.plane} {p.state}: {escape(p.reason)}", highlight=False)
            for link in p.impaired:
                console.print(f"  {s.code} plane {p.plane} up, but a link is down: {escape(link)}", highlight=False)
    devices = Table("device", "platform", "read", "note", title="devices", title_justify="left")
    for r in report.readings:
        devices.add_row(r.device, r.platform, _styled(r.status, r.status), escape(r.note))
    console.print(devices)
    console.print(", ".join(f"{n} {state}" for state, n in report.counts().items()))


def _styled(key: str, text: str) -> str:
    return f"[{_STYLE.get(key, 'red')}]{escape(text)}[/]"
