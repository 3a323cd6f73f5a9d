"""``nxgov lab``: the rehearsal lab (real OpenStack regions, dual-plane routers, legacy hosts) on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nxgov.cli.audit_trail import preflight, record, record_failure
from nxgov.cli.context import settings
from nxgov.cli.output import console, emit_json, err_console
from nxgov.errors import InputError

if TYPE_CHECKING:
    from nxgov.lab.manager import Lab
    from nxgov.lab.netns import ComponentStatus

app = typer.Typer(help="The rehearsal lab: rehearse a change on real services before it touches the region.",
                  no_args_is_help=True)

LabDir = Annotated[Path | None, typer.Option("--lab-dir", help="Lab directory (env NXGOV_LAB_DIR; "
                                                               "default /var/lib/nxgov/lab)")]
PARTS_HELP = ("Parts to start, comma-separated: netsim, extranet, legacy-hosts, openstack (default: these four), "
              "monitoring (the exporter and a Prometheus scraping it: only when named)")
DOWN_HELP = ("Parts to remove, comma-separated: netsim, extranet, legacy-hosts, openstack, monitoring "
             "(default: everything the lab recorded)")


def _lab(ctx: typer.Context, lab_dir: Path | None, with_estate: bool) -> Lab:
    from nxgov.lab.manager import Lab
    from nxgov.lab.openstack import default_lab_dir

    estate = None
    if with_estate:
        from nxgov.estate import load_estate

        estate = load_estate(settings(ctx).estate).estate
    options = settings(ctx)
    return Lab(lab_dir or default_lab_dir(), estate, options.state, estate_path=options.estate,
               audit_log=options.audit_log)


def _parts(value: str | None, default: tuple[str, ...]) -> list[str]:
    from nxgov.lab.manager import ALL_PARTS

    if not value:
        return list(default)
    chosen = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in ALL_PARTS]
    if unknown:
        raise InputError(f"unknown lab part {unknown[0]!r}", f"use some of: {', '.join(ALL_PARTS)}")
    return chosen


@app.command()
def up(ctx: typer.Context, lab_dir: LabDir = None,
       only: Annotated[str | None, typer.Option("--only", help=PARTS_HELP)] = None,
       dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be built; change nothing")] = False,
       ) -> None:
    """Bring the lab up from the estate (use --estate inventories/lab). Safe to re-run: running parts are kept.

    --only monitoring starts nxgov's exporter (http://127.0.0.1:8790) and a Prometheus scraping it
    (http://127.0.0.1:9090), reading this command's estate, --state and --audit-log, and waits for the first scrape."""
    import time

    from nxgov.lab.manager import PARTS

    lab = _lab(ctx, lab_dir, with_estate=True)
    parts = _parts(only, PARTS)
    if dry_run:
        plan = lab.plan(parts)
        if settings(ctx).json:
            emit_json({"schema": "nxgov.lab.up/1", "dry_run": True, "plan": plan})
        else:
            for line in plan:
                console.print(f"would start {line}")
        return
    preflight(ctx)
    start = time.monotonic()
    try:
        with console.status("lab: starting") as spinner:

            def progress(message: str) -> None:
                spinner.update(f"lab: {message}")
                err_console.print(f"[dim]{message}[/]", soft_wrap=True)

            states = lab.up(parts, progress)
    except Exception as exc:
        record_failure(ctx, "lab up", str(lab.lab_dir), exc, {"parts": parts})
        raise
    elapsed = time.monotonic() - start
    record(ctx, "lab up", str(lab.lab_dir), "changed", {"parts": parts, "seconds": round(elapsed, 1)})
    _report(ctx, states, f"lab up in {elapsed:.1f} s", "nxgov.lab.up/1")


def _dry_run(ctx: typer.Context, schema: str, key: str, items: list[str], verb: str) -> None:
    """What a ``--dry-run`` would do: ``items`` under ``key`` in JSON, else one "would <verb> <item>" line each
    (or "nothing to <verb>")."""
    if settings(ctx).json:
        emit_json({"schema": schema, "dry_run": True, key: items})
    else:
        console.print("\n".join(f"would {verb} {item}" for item in items) or f"nothing to {verb}")


@app.command()
def install(ctx: typer.Context, lab_dir: LabDir = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be installed")] = False,
            ) -> None:
    """Install the Debian packages and the OpenStack service venv every lab part needs (no estate needed).

    ``lab up`` installs them too, part by part; this does it all at once, ahead of time (scripts/test.sh does,
    before the tests start, so no test depends on what a machine happened to have installed).
    """
    lab = _lab(ctx, lab_dir, with_estate=False)
    todo = lab.install_plan()
    if dry_run:
        _dry_run(ctx, "nxgov.lab.install/1", "installed", todo, "install")
        return
    preflight(ctx)
    try:
        lab.install(lambda message: err_console.print(f"[dim]{message}[/]", soft_wrap=True))
    except Exception as exc:
        record_failure(ctx, "lab install", str(lab.lab_dir), exc, {"missing": todo})
        raise
    record(ctx, "lab install", str(lab.lab_dir), "changed" if todo else "ok", {"installed": todo})
    if settings(ctx).json:
        emit_json({"schema": "nxgov.lab.install/1", "dry_run": False, "installed": todo})
        return
    console.print("\n".join(f"installed {item}" for item in todo) or "everything the lab needs is installed")


@app.command()
def status(ctx: typer.Context, lab_dir: LabDir = None) -> None:
    """Each component's health (exit 1 when something is not running)."""
    states = _lab(ctx, lab_dir, with_estate=False).status()
    _report(ctx, states, "lab status", "nxgov.lab.status/1")
    if any(s.state != "running" for s in states):
        raise typer.Exit(1)


@app.command()
def down(ctx: typer.Context, lab_dir: LabDir = None,
         only: Annotated[str | None, typer.Option("--only", help=DOWN_HELP)] = None,
         dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed")] = False) -> None:
    """Remove every process, namespace, link and mount the lab made (by recorded PID and name)."""
    import time

    from nxgov.lab.manager import ALL_PARTS

    lab = _lab(ctx, lab_dir, with_estate=False)
    parts = _parts(only, ALL_PARTS)
    if dry_run:
        entries = [f"{e.kind} {e.name}" + (f" (pid {e.pid})" if e.pid else "") for e in lab.ledger.entries()
                   if only is None or e.component in parts]
        _dry_run(ctx, "nxgov.lab.down/1", "removed", entries, "remove")
        return
    preflight(ctx)
    start = time.monotonic()
    removed = lab.down(parts)
    elapsed = time.monotonic() - start
    record(ctx, "lab down", str(lab.lab_dir), "changed" if removed else "ok",
           {"parts": parts, "removed": len(removed), "seconds": round(elapsed, 1)})
    if settings(ctx).json:
        emit_json({"schema": "nxgov.lab.down/1", "dry_run": False, "removed": removed, "seconds": elapsed})
        return
    for item in removed:
        console.print(f"removed {item}", soft_wrap=True)
    console.print(f"lab down in {elapsed:.1f} s: {len(removed)} item(s) removed")


@app.command()
def env(ctx: typer.Context, lab_dir: LabDir = None) -> None:
    """Print the environment that points tools at the lab: eval "$(nxgov lab env)"."""
    import shlex

    variables = _lab(ctx, lab_dir, with_estate=False).env()
    if settings(ctx).json:
        emit_json({"schema": "nxgov.lab.env/1", "env": variables})
        return
    for key, value in variables.items():
        typer.echo(f"export {key}={shlex.quote(value)}")


def _report(ctx: typer.Context, states: list[ComponentStatus], title: str, schema: str) -> None:
    if settings(ctx).json:
        emit_json({"schema": schema, "components": [
            {"component": s.component, "name": s.name, "state": s.state, "detail": s.detail} for s in states]})
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("component", "name", "state", "detail"):
        table.add_column(column)
    colour = {"running": "green", "degraded": "yellow", "stopped": "red"}
    for s in states:
        table.add_row(s.component, s.name, f"[{colour.get(s.state, 'white')}]{s.state}[/]", s.detail)
    console.print(table)
