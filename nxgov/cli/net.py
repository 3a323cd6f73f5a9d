"""``nxgov net``: the extranet's IPv6 plan (``ipv6 plan|show|export``) and device configuration (``render``)."""

from __future__ import annotations

import enum
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import settings
from nxgov.cli.output import console, emit_json, escape
from nxgov.errors import InputError

if TYPE_CHECKING:
    from nxgov.estate.model import Estate
    from nxgov.network.ipv6plan import Allocation, PlanOutcome
    from nxgov.state import StateStore

app = typer.Typer(help="The dual-plane extranet: IPv6 address plan and device configuration.", no_args_is_help=True)
ipv6_app = typer.Typer(help="The IPv6 numbering plan: blocks per site, links, loopbacks; ASNs; ports.",
                       no_args_is_help=True)
app.add_typer(ipv6_app, name="ipv6")

SHOWN_CHANGES = 20


class Kind(enum.StrEnum):
    site = "site"
    asn = "asn"
    loopback = "loopback"
    link = "link"
    port = "port"
    all = "all"


class ExportFormat(enum.StrEnum):
    csv = "csv"
    json = "json"


def _estate(ctx: typer.Context) -> Estate:
    from nxgov.estate import load_estate

    return load_estate(settings(ctx).estate).estate


def _store(ctx: typer.Context) -> StateStore:
    from nxgov.state import StateStore

    return StateStore.open(settings(ctx).state)


@ipv6_app.command("plan")
def plan(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be allocated; store nothing")] = False,
    release: Annotated[list[str] | None, typer.Option(
        "--release", help="Free everything a site (code) or device (name) holds: a removed one's reserved "
                          "blocks, or a moved one's to renumber it; repeatable")] = None,
) -> None:
    """Allocate what the estate needs; keep every stored allocation (removed sites' stay reserved)."""
    from nxgov.cli.audit_trail import preflight, record
    from nxgov.network.planstore import plan_ipv6

    estate = _estate(ctx)
    if not dry_run:
        preflight(ctx)

    def audit(outcome: PlanOutcome) -> None:
        """Recorded before the plan is committed: if the record cannot be written, nothing is stored."""
        record(ctx, "net ipv6 plan", estate.estate, "changed",
               {"prefix": str(outcome.layout.prefix), **outcome.counts(),
                "released": sorted({a.key for a in outcome.released if a.kind in ("site", "loopback")})})

    with _store(ctx) as store:
        outcome = plan_ipv6(store, estate, dry_run, release or (), on_change=audit)
    changes = _changes(outcome)
    if settings(ctx).json:
        emit_json({"schema": "nxgov.net.ipv6.plan/1", "estate": estate.estate, "prefix": str(outcome.layout.prefix),
                   "dry_run": dry_run, "changed": outcome.changed, "counts": outcome.counts(),
                   "changes": [{"change": change, **a.as_dict()} for change, a in changes]})
        return
    counts = ", ".join(f"{n:,} {k}" for k, n in outcome.counts().items())
    verb = "would change" if dry_run else "changed"
    state = f"{verb}: {counts}" if outcome.changed else f"unchanged ({counts})"
    console.print(f"IPv6 plan of [bold]{escape(estate.estate)}[/] ({outcome.layout.prefix}) {state}")
    if changes:
        _print_allocations(changes, settings(ctx).verbose > 0)


def _changes(outcome: PlanOutcome) -> list[tuple[str, Allocation]]:
    return [(change, a) for change, items in (("new", outcome.new), ("restored", outcome.restored),
                                              ("reserved", outcome.reserved), ("released", outcome.released))
            for a in items]


def _print_allocations(rows: Sequence[tuple[str, Allocation]], everything: bool) -> None:
    from rich.table import Table

    table = Table(title_justify="left")
    for column in ("", "kind", "key", "value", "description"):
        table.add_column(column)
    shown = rows if everything else rows[:SHOWN_CHANGES]
    for label, a in shown:
        table.add_row(label, a.kind, escape(a.key), a.value, escape(a.description))
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"... and {len(rows) - len(shown):,} more (-v lists them all; -o json for CI)")


def _stored(ctx: typer.Context) -> tuple[Estate, PlanOutcome, list[Allocation]]:
    """The estate, the plan it would get now, and what is stored (which must not be empty)."""
    from nxgov.network.ipv6plan import compute_plan
    from nxgov.network.planstore import load_allocations

    estate = _estate(ctx)
    with _store(ctx) as store:
        stored = load_allocations(store, estate.estate)
        if not stored:
            raise InputError(f"no IPv6 plan is stored for estate {estate.estate} in {store.path}",
                             "run 'nxgov net ipv6 plan' first")
    outcome = compute_plan(estate, stored)
    keys = {(a.kind, a.key) for a in stored}
    return estate, outcome, [a for a in outcome.allocations if (a.kind, a.key) in keys]


@ipv6_app.command("show")
def show(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Option(help="Which allocations to list")] = Kind.site,
) -> None:
    """The stored plan: each pool's use, and the allocations of one kind (sites by default)."""
    from nxgov.network.ipv6export import pool_usage

    estate, outcome, stored = _stored(ctx)
    rows = [a for a in stored if kind is Kind.all or a.kind == kind.value]
    pools = pool_usage(outcome.layout, stored)
    if settings(ctx).json:
        emit_json({"schema": "nxgov.net.ipv6.show/1", "estate": estate.estate, "prefix": str(outcome.layout.prefix),
                   "missing": len(outcome.new), "pools": pools, "allocations": [a.as_dict() for a in rows]})
        return
    from rich.table import Table

    table = Table(title=f"IPv6 plan of {escape(estate.estate)} ({outcome.layout.prefix}): pools", title_justify="left")
    for column in ("pool", "span", "block", "active", "reserved", "capacity"):
        table.add_column(column, justify="right" if column in ("active", "reserved", "capacity") else "left")
    for p in pools:
        table.add_row(p["pool"], p["span"], p["block"], f"{p['active']:,}", f"{p['reserved']:,}", f"{p['capacity']:,}")
    console.print(table)
    listing = Table(title=f"{kind.value} allocations", title_justify="left")
    for column in ("kind", "key", "value", "state", "description"):
        listing.add_column(column)
    for a in rows:
        listing.add_row(a.kind, escape(a.key), a.value, a.state, escape(a.description))
    console.print(listing)
    if outcome.new:
        console.print(f"[yellow]{len(outcome.new):,} allocations the estate needs are not planned yet[/]: "
                      "run 'nxgov net ipv6 plan'")


@ipv6_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv: NetBox prefix import; json: everything")] = (
        ExportFormat.csv),
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout")] = None,
) -> None:
    """Export the stored plan: NetBox-importable prefixes (prefix,status,description) or the whole plan as JSON."""
    import json

    from nxgov.network.ipv6export import export_csv, export_json

    estate, outcome, stored = _stored(ctx)
    if fmt is ExportFormat.csv:
        text = export_csv(stored, outcome.layout)
    else:
        document = {"schema": "nxgov.net.ipv6.export/1", **export_json(estate.estate, outcome.layout, stored)}
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    as_json = settings(ctx).json
    if out is None and not (as_json and fmt is ExportFormat.csv):
        sys.stdout.write(text)
        return
    if out is not None:
        from nxgov.cli.output import write_output

        write_output(out, text, "--out")
        console.print(f"wrote {out} ({text.count(chr(10)) - (1 if fmt is ExportFormat.csv else 0):,} "
                      f"{'prefixes' if fmt is ExportFormat.csv else 'lines'})", soft_wrap=True)
    if as_json:
        emit_json({"schema": "nxgov.net.ipv6.exported/1", "estate": estate.estate, "format": fmt.value,
                   "out": None if out is None else str(out), "lines": text.count("\n"),
                   **({"content": text} if out is None else {})})


@app.command("render")
def render(
    ctx: typer.Context,
    device: Annotated[list[str] | None, typer.Option("--device", "-d", help="A device to render; repeatable")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Render every device of this site (division code)")] = (
        None),
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write DIR/<device>.cfg (default ./rendered; one --device alone prints to stdout)")] = None,
) -> None:
    """Render device configurations from the estate and the stored IPv6 plan (VRP, Comware, FRR, IOS)."""
    from nxgov.network.intent import build_intents
    from nxgov.network.planstore import stored_plan
    from nxgov.network.render import render as render_config

    started = time.perf_counter()
    estate = _estate(ctx)
    with _store(ctx) as store:
        outcome = stored_plan(store, estate)
    names = _selected(outcome, device or [], site)
    intents = build_intents(outcome, names)
    configs = [(intent, render_config(intent)) for intent in intents]
    opts = settings(ctx)
    to_stdout = out is None and bool(device) and site is None and len(configs) == 1
    target = None if to_stdout else (out or Path("rendered"))
    if target is not None:
        _write(target, configs)
    seconds = time.perf_counter() - started
    rows: list[dict[str, Any]] = [
        {"name": intent.name, "platform": intent.platform, "site": intent.site,
         "file": None if target is None else str(target / f"{intent.name}.cfg"), "lines": text.count("\n")}
        for intent, text in configs]
    if opts.json:
        if to_stdout:
            rows[0]["config"] = configs[0][1]
        emit_json({"schema": "nxgov.net.render/1", "estate": estate.estate, "out": None if target is None
                   else str(target), "devices": rows, "seconds": round(seconds, 3)})
    elif to_stdout:
        sys.stdout.write(configs[0][1])
    else:
        _print_rendered(rows, target, seconds, opts.verbose > 0)


def _selected(outcome: PlanOutcome, devices: list[str], site: str | None) -> list[str] | None:
    """The device names asked for (None: every device)."""
    if not devices and site is None:
        return None
    names = list(devices)
    if site is not None:
        if site not in outcome.topology.sites:
            raise InputError(f"the estate has no site {site}",
                             "use a division code listed by 'nxgov estate show --sites'")
        names += [d.name for d in outcome.topology.devices.values() if d.site == site and d.name not in names]
    return names


def _write(target: Path, configs: list[tuple[Any, str]]) -> None:
    try:
        target.mkdir(parents=True, exist_ok=True)
        for intent, text in configs:
            (target / f"{intent.name}.cfg").write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write the configurations to {target}: {error.strerror or error}",
                         "choose another --out directory") from error


def _print_rendered(rows: list[dict[str, Any]], target: Path | None, seconds: float, everything: bool) -> None:
    from rich.table import Table

    console.print(f"rendered {len(rows):,} device configurations to {target}/ in {seconds:.2f} s")
    table = Table(title_justify="left")
    for column in ("device", "platform", "site", "lines", "file"):
        table.add_column(column, justify="right" if column == "lines" else "left")
    shown = rows if everything else rows[:SHOWN_CHANGES]
    for row in shown:
        table.add_row(row["name"], row["platform"], row["site"], str(row["lines"]), row["file"])
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"... and {len(rows) - len(shown):,} more (-v lists them all)")
