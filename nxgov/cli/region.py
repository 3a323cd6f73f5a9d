"""``nxgov plan`` and ``nxgov apply``: one plan and one apply across every group, a thin layer over
:mod:`nxgov.region`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import Settings, settings
from nxgov.cli.output import confirm, console, emit_json, err_console, escape
from nxgov.errors import ExitCode

if TYPE_CHECKING:
    from nxgov.region.context import Region
    from nxgov.region.group import PartResult
    from nxgov.region.parts import Part, RegionPlan

MigrateOption = Annotated[list[str] | None, typer.Option(
    "--migrate", metavar="SYSTEM", help="Migrate this system now, whatever its wave's window (an agreed change; "
    "repeatable). Default: the systems whose wave's maintenance window is open now")]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, max=32,
                                            help="Changes, systems or volumes worked on at once per group")]
_GROUP_STYLE = {"cloud": "cyan", "net": "magenta", "migrate": "yellow", "backup": "green"}
_RESULT_STYLE = {"changed": "yellow", "ok": "green", "failed": "bold red", "skipped": "red"}


def register(app: typer.Typer) -> None:
    """Add ``plan`` and ``apply`` to the top level."""
    app.command("plan")(plan)
    app.command("apply")(apply)


def plan(ctx: typer.Context,
         out: Annotated[Path | None, typer.Option("--out", help="Save the plan as JSON, for `nxgov apply PLAN`")
                        ] = None,
         detailed_exitcode: Annotated[bool, typer.Option(
             "--detailed-exitcode", help="Exit 3 when anything would change (for CI)")] = False,
         migrate: MigrateOption = None, workers: WorkersOption = 4) -> None:
    """Everything the estate asks of the region now, in the order apply runs it: departments to provision, the
    IPv6 plan, device pushes (each diff read from the device), migration steps due, backup syncs and drills due.
    Changes nothing."""
    from nxgov.cli.output import check_writable, write_output
    from nxgov.region.plan import make_plan

    options = settings(ctx)
    if out is not None:
        check_writable(out, "--out")
    planning = make_plan(_region(options, workers, "plan"), migrate=migrate or ())
    document = planning.plan.to_json()
    if out is not None:
        write_output(out, json.dumps(document, ensure_ascii=False, indent=2) + "\n", "--out")
    if options.json:
        emit_json(document)
    else:
        _render(planning.plan, options.verbose > 0)
        if out is not None:
            console.print(f"[dim]plan saved to {escape(str(out))}: apply it with `nxgov apply {escape(str(out))}`[/]")
    if detailed_exitcode and not planning.plan.empty:
        raise typer.Exit(ExitCode.CHANGES)


def apply(ctx: typer.Context,
          plan_file: Annotated[Path | None, typer.Argument(
              help="A plan saved by `nxgov plan --out`: applied exactly, refused if anything it read changed since")
          ] = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan, change nothing")] = False,
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
          migrate: MigrateOption = None, workers: WorkersOption = 4) -> None:
    """Make the region match the estate: every part of the plan in dependency order (a part whose needed part
    failed is skipped with the reason; the rest goes on). Exit 1 when a part failed or was skipped."""
    from nxgov.region.plan import check_estate, make_plan, read_plan, refuse_changed

    options = settings(ctx)
    saved = read_plan(plan_file) if plan_file is not None else None
    if saved is not None and migrate:
        err_console.print("[yellow]--migrate is ignored: a saved plan is applied with the options it was made with[/]")
    chosen = list(saved.options.get("migrate", [])) if saved is not None else (migrate or [])
    region = _region(options, workers, "apply")
    if saved is not None and plan_file is not None:
        check_estate(saved, region.loaded.estate.estate, plan_file)
    region.audit_log.preflight()  # a dry run is audited too
    planning = make_plan(region, migrate=chosen)
    if saved is not None and plan_file is not None:
        refuse_changed(saved, planning.plan, plan_file)
    if not options.json:
        _render(planning.plan, options.verbose > 0)
    if dry_run or planning.plan.empty:
        region.audit_log.append("apply", f"region/{planning.plan.estate}", "dry-run" if dry_run else "ok",
                                {"parts": planning.plan.counts(), "read": planning.plan.read})
        if options.json:
            emit_json({"schema": "nxgov.apply/1", "dry_run": dry_run, "plan": planning.plan.to_json(), "result": None})
        elif dry_run:
            console.print("[dim]dry run: nothing was changed[/]")
        else:
            console.print("[green]nothing to change:[/] the region matches the estate")
        return
    count = len(planning.plan.parts)
    if not confirm(f"apply {count} part(s)?", yes=yes or saved is not None, json=options.json,
                   refusal="apply changes the region and asks first",
                   hint="pass --yes, or apply a saved plan: nxgov apply PLAN.json"):
        err_console.print("nothing changed")
        return
    from nxgov.region.apply import apply as run_apply

    report = run_apply(region, planning, on_result=lambda r: _progress(options, r),
                       on_stage=lambda s, p: _stage(options, s, p))
    if options.json:
        emit_json({"schema": "nxgov.apply/1", "dry_run": False, "plan": planning.plan.to_json(),
                   "result": report.to_dict()})
    else:
        counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
        colour = "green" if report.ok else "bold red"
        console.print(f"[{colour}]apply {'done' if report.ok else 'finished with failures'}[/] in "
                      f"{report.seconds:.0f} s: {counts}. Run it again to converge; `nxgov status` shows the region.")
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def _region(options: Settings, workers: int, command: str) -> Region:
    from datetime import UTC, datetime

    from nxgov.audit import AuditLog
    from nxgov.cli.net_devices import session_options
    from nxgov.estate import load_estate
    from nxgov.region.context import Region

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = options.state.parent / "sessions" / stamp if command == "apply" else None
    return Region(load_estate(options.estate), options.state, AuditLog(options.audit_log, operator=options.operator),
                  session_options(options, logs, command), workers)


def _render(plan: RegionPlan, everything: bool) -> None:
    from rich.table import Table

    table = Table("#", "group", "part", "what", "after", title=f"plan for {plan.estate} ({plan.created})",
                  title_justify="left")
    for number, part in enumerate(plan.parts, 1):
        style = _GROUP_STYLE[part.group]
        what = part.summary if part.changes else f"[dim]check:[/] {part.summary}"
        table.add_row(str(number), f"[{style}]{part.group}[/]", escape(part.key), escape(what) if part.changes
                      else what, escape(", ".join(part.needs) or "-"))
    if plan.parts:
        console.print(table)
    if everything:
        for part in plan.parts:
            _detail(part)
    for item in plan.deferred:
        console.print(f"[dim]not now:[/] {escape(item.key)}: {escape(item.reason)}", highlight=False)
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if plan.empty:
        console.print("[green]nothing to change:[/] the region matches the estate")
    else:
        counts = ", ".join(f"{n} {stage}" for stage, n in plan.counts().items())
        console.print(f"{len(plan.parts)} part(s): {counts}" + ("" if everything else " (-v shows every change)"))


def _detail(part: Part) -> None:
    detail: dict[str, Any] = part.detail
    if detail.get("diff"):
        console.print(f"[bold]{escape(part.key)}[/]\n{escape(detail['diff'])}", highlight=False)
    for change in detail.get("changes", []):
        console.print(f"  {escape(part.key)}: {change['action']} {escape(change['resource'])} "
                      f"({escape(change['reason'])})", highlight=False)


def _stage(options: Settings, stage: str, parts: list[Part]) -> None:
    if not options.json:
        err_console.print(f"[bold]{stage}[/]: {escape(', '.join(p.subject for p in parts))}", highlight=False,
                          soft_wrap=True)


def _progress(options: Settings, result: PartResult) -> None:
    if options.json:
        return
    style = _RESULT_STYLE.get(result.result, "")
    err_console.print(f"  [{style}]{result.result:>8}[/] {escape(result.key)} ({result.seconds:.0f} s): "
                      f"{escape(result.detail)}", highlight=False, soft_wrap=True)
