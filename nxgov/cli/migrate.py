"""``nxgov migrate``: moving the legacy systems onto the government cloud (issue 10): ``assess``, ``plan``,
``status`` and ``register`` here; the lifecycle verbs in :mod:`nxgov.cli.migrate_steps`."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import Settings, settings
from nxgov.cli.output import console, emit_json, err_console, escape
from nxgov.errors import ExitCode

if TYPE_CHECKING:
    from nxgov.estate.model import Estate, LegacySource, System
    from nxgov.migrate.assess import HostTarget
    from nxgov.migrate.assessment import Assessment
    from nxgov.runner import RunResult

app = typer.Typer(
    help="Migrate legacy systems onto the cloud: assess their hosts, plan the waves, follow the campaign.",
    no_args_is_help=True)

ASSESS_SCHEMA = "nxgov.migrate.assess/1"
SHOWN_PORTS = 6


@app.command()
def assess(
    ctx: typer.Context,
    system: Annotated[list[str] | None, typer.Option(
        "--system", help="Only this system (repeatable; default: every system with a source)")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Hosts assessed at once")] = 8,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show which systems would be assessed and where; contact no host, store nothing")] = False,
) -> None:
    """Read each system's legacy host over SSH (one command per host) and store what it runs and uses.

    OS, CPUs, memory, disks, the size of every data path, listening services, established connections (and the
    estate systems they reach), and zombie evidence. The latest assessment per system is kept in the state store;
    re-assessing replaces it. A host that cannot be assessed fails alone (exit 1 at the end)."""
    from nxgov.estate import load_estate
    from nxgov.migrate.assess import select_systems

    options = settings(ctx)
    loaded = load_estate(options.estate)
    systems = select_systems(loaded, system or ())
    if not systems:
        err_console.print("nothing to assess: no system of the estate has a source (legacy host)")
    if dry_run:
        _report_dry_run(options, loaded.estate.estate, systems)
        return
    result = _assess(options, loaded.estate, systems, workers)
    _report(options, loaded.estate.estate, result)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


def _assess(options: Settings, estate: Estate, systems: list[System], workers: int) -> RunResult[HostTarget]:
    """Resolve every login and open the store (bad input stops here, before any host is contacted), assess, then
    store each assessment."""
    from nxgov.audit import AuditLog
    from nxgov.cli.net_devices import session_options, with_progress
    from nxgov.migrate.assess import assess_all, host_targets
    from nxgov.migrate.assessment import Assessment, save_assessment
    from nxgov.runner import AuditHook
    from nxgov.state import StateStore

    targets = host_targets(estate, systems)
    with StateStore.open(options.state) as store:
        known = session_options(options, None, "migrate assess").known_hosts
        audit = AuditHook(AuditLog(options.audit_log, operator=options.operator), "migrate assess")
        result = with_progress(options, lambda hooks: assess_all(targets, estate, known, workers=workers,
                                                                 hooks=[audit, *hooks]))
        for done in result.results:
            if isinstance(done.data, Assessment):
                save_assessment(store, done.data)
    return result


def _report_dry_run(options: Settings, estate: str, systems: list[System]) -> None:
    rows = [_where(s.code, s.source) for s in systems if s.source is not None]
    if options.json:
        emit_json({"schema": ASSESS_SCHEMA, "estate": estate, "dry_run": True, "ok": True,
                   "systems": [{**row, "status": "would-assess", "error": None, "assessment": None} for row in rows]})
        return
    from rich.table import Table

    table = Table("system", "host", "port", "user", "credentials", "paths",
                  title="dry run: these systems would be assessed (nothing contacted, nothing stored)")
    for row in rows:
        table.add_row(row["system"], escape(row["host"]), str(row["port"]), escape(row["user"]),
                      escape(row["credentials"] or "(SSH agent, ~/.ssh)"), escape(", ".join(row["paths"]) or "-"))
    console.print(table)


def _where(system: str, source: LegacySource) -> dict[str, Any]:
    """Which host a system is assessed on, and as whom."""
    return {"system": system, "host": str(source.host), "port": source.port, "user": source.user,
            "credentials": source.credentials, "paths": list(source.paths)}


def _report(options: Settings, estate: str, result: RunResult[HostTarget]) -> None:
    from nxgov.migrate.assessment import Assessment

    rows = []
    for done in result.results:
        assessment = done.data if isinstance(done.data, Assessment) else None
        rows.append({**_where(done.name, done.target.source),
                     "status": "assessed" if assessment else "failed", "error": done.error,
                     "assessment": assessment.model_dump() if assessment else None})
    if options.json:
        emit_json({"schema": ASSESS_SCHEMA, "estate": estate, "dry_run": False, "ok": result.ok, "systems": rows})
        return
    from rich.table import Table

    table = Table("system", "host", "OS", "CPUs", "memory", "data", "listening", "depends on", "last login",
                  "note", title="assessment of the legacy hosts (stored in the state store)")
    for done in result.results:
        data = done.data
        if not isinstance(data, Assessment):
            reason = (done.error or "failed").removeprefix(f"{done.name}: ").splitlines()[0]
            table.add_row(done.name, escape(str(done.target.source.host)), "", "", "", "", "", "", "",
                          f"[bold red]{escape(reason)}[/]")
            continue
        files = sum(p.files for p in data.paths)
        size = sum(p.bytes for p in data.paths)
        table.add_row(data.system, escape(data.host), escape(data.os_release), str(data.cpus),
                      _size(data.memory_bytes), f"{files} files, {_size(size)}",
                      _listening(data, options.verbose > 0),
                      ", ".join(data.depends_on) or "-", data.zombie.last_login or "-",
                      escape("; ".join(data.notes)))
    console.print(table)
    failed = len(result.failed)
    console.print(f"{len(result.results) - failed} assessed, {failed} failed")


def _listening(data: Assessment, everything: bool) -> str:
    """The listening ports with their processes; the first few unless ``everything`` (``-v``)."""
    shown = data.listening if everything else data.listening[:SHOWN_PORTS]
    text = ", ".join(f"{entry.port}" + (f" {escape(entry.process)}" if entry.process else "") for entry in shown)
    more = len(data.listening) - len(shown)
    return (text + (f", … {more} more (-v)" if more else "")) or "-"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


@app.command("plan")
def plan(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write the plan as an editable YAML file")] = None,
    max_per_wave: Annotated[int, typer.Option("--max-per-wave", min=1, max=1000,
                                              help="Most systems in one wave")] = 10,
    start: Annotated[str | None, typer.Option(
        "--start", help="First window at or after this date or time: YYYY-MM-DD or ISO 8601, Asia/Shanghai time "
        "unless an offset is given (default: now)")] = None,
    check: Annotated[Path | None, typer.Option(
        "--check", help="Check a plan file (edited by hand) against the estate instead; exit 2 with every problem "
        "located")] = None,
) -> None:
    """Plan the migration in waves: targets from each system's placement, the estate's servers checked against
    the assessments, dependencies first (a cycle in one wave), a department's systems together, at most
    --max-per-wave per wave, each wave inside its departments' maintenance windows. Changes nothing."""
    from datetime import UTC, datetime

    from nxgov.cli.output import check_writable, write_output
    from nxgov.errors import InputError
    from nxgov.estate import load_estate
    from nxgov.migrate.plan import make_plan, parse_start
    from nxgov.migrate.planfile import read_plan, render_yaml

    options = settings(ctx)
    if check is not None and out is not None:
        raise InputError("--check reads a plan file and --out writes one: give one of them",
                         "check an edited plan with --check FILE; make a new one with --out FILE")
    if out is not None:
        check_writable(out, "--out")
    estate = load_estate(options.estate).estate
    if check is not None:
        migration = read_plan(check, estate)
    else:
        from nxgov.migrate.assessment import load_assessments
        from nxgov.state import StateStore

        now = datetime.now(UTC)
        begin = parse_start(start, now)
        with StateStore.open(options.state) as store:
            assessments = load_assessments(store)
        migration = make_plan(estate, assessments, start=begin, created=now.isoformat(timespec="seconds"),
                              max_per_wave=max_per_wave)
        if out is not None:
            write_output(out, render_yaml(migration), "--out")
    if options.json:
        emit_json(migration.to_document())
        return
    from nxgov.cli.migrate_tables import render_plan

    render_plan(migration, options.verbose > 0)
    if check is not None:
        console.print(f"[green]✓[/] {escape(str(check))} is a valid migration plan for estate {escape(estate.estate)}")
    elif out is not None:
        console.print(f"plan saved to {escape(str(out))}: edit it, then check it with `nxgov migrate plan --check`")


@app.command("status")
def status(
    ctx: typer.Context,
    department: Annotated[str | None, typer.Option("--department", help="Only this department's systems")] = None,
    plan_file: Annotated[Path | None, typer.Option(
        "--plan", help="A saved plan file (migrate plan --out): also report per wave")] = None,
) -> None:
    """Where the migration stands: systems by lifecycle state per department (and per wave with --plan), the
    cloud-migration ratio (上云率), systems at risk of missing their department's deadline, zombie candidates with
    their evidence. Reads the estate and the state store; changes nothing."""
    from datetime import UTC, datetime

    from nxgov.estate import load_estate
    from nxgov.migrate.planfile import read_plan
    from nxgov.migrate.status import migration_status
    from nxgov.state import StateStore

    options = settings(ctx)
    estate = load_estate(options.estate).estate
    migration = read_plan(plan_file, estate) if plan_file is not None else None
    with StateStore.open(options.state) as store:
        result = migration_status(estate, store, datetime.now(UTC), plan=migration, department=department)
    if options.json:
        emit_json(result.to_document(str(plan_file) if plan_file is not None else None))
        return
    from nxgov.cli.migrate_tables import render_status

    render_status(result)


class RegisterFormat(enum.StrEnum):
    table = "table"
    csv = "csv"


@app.command("register")
def register(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only changes since this time: ISO (local unless it has an offset) or 30m/2h/3d/1w ago",
    )] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Only changes before this time (same forms as --since)")] = None,
    fmt: Annotated[RegisterFormat, typer.Option(
        "--format", help="table for people, csv (with a header row, to stdout) for filing; -o json wins")] = (
        RegisterFormat.table),
) -> None:
    """The systems created (first cut over onto the cloud), changed (cut over again, or rolled back from cut-over)
    and retired in the period, for filing with the digital-government office. Read from the lifecycle history;
    changes nothing."""
    import sys

    from nxgov.cli.times import parse_since
    from nxgov.errors import InputError
    from nxgov.estate import load_estate
    from nxgov.migrate.register import migration_register
    from nxgov.state import StateStore

    options = settings(ctx)
    begin = parse_since(since, "--since")
    end = parse_since(until, "--until")
    if begin is not None and end is not None and end <= begin:
        raise InputError(f"--until {until!r} is not after --since {since!r}: the period is empty",
                         "give an --until later than --since")
    estate = load_estate(options.estate).estate
    with StateStore.open(options.state) as store:
        result = migration_register(estate, store, since=begin, until=end)
    if options.json:
        emit_json(result.to_document())
    elif fmt is RegisterFormat.csv:
        sys.stdout.write(result.to_csv())
    else:
        from nxgov.cli.migrate_tables import render_register

        render_register(result)


def _add_verbs() -> None:
    from nxgov.cli import migrate_steps

    migrate_steps.register(app)


_add_verbs()
