"""``nxgov migrate replicate | test | cutover | finalize | rollback | retire`` and ``migrate runs``: the lifecycle
verbs, a thin layer over :mod:`nxgov.migrate.steps`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import Settings, settings
from nxgov.cli.output import confirm, console, emit_json, err_console, escape
from nxgov.errors import ExitCode

if TYPE_CHECKING:
    from nxgov.estate.loader import LoadedEstate
    from nxgov.migrate.ansible import TaskResult
    from nxgov.migrate.steps import Job
    from nxgov.runner import RunResult

STEP_SCHEMA = "nxgov.migrate.step/1"
RUNS_SCHEMA = "nxgov.migrate.runs/1"

SystemOption = Annotated[list[str] | None, typer.Option("--system", help="This system (repeatable)")]
WaveOption = Annotated[int | None, typer.Option("--wave", min=1, help="Every system of this wave of --plan")]
PlanOption = Annotated[Path | None, typer.Option("--plan", help="The saved plan (migrate plan --out) --wave reads")]
DryRunOption = Annotated[bool, typer.Option(
    "--dry-run", help="Show what would be done to which hosts; contact no host, change nothing")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")]
WorkersOption = Annotated[int, typer.Option("--workers", min=1, max=32, help="Systems worked on at once")]
BwlimitOption = Annotated[str, typer.Option(
    "--bwlimit", help="Most bandwidth per copy, as rsync takes it: 20M is 20 MiB/s, 500K; 0 is no limit")]
IO_TIMEOUT_ENV = "NXGOV_MIGRATE_IO_TIMEOUT"


def register(app: typer.Typer) -> None:
    """Add the verbs to the ``migrate`` group."""

    @app.command("replicate")
    def replicate(ctx: typer.Context, system: SystemOption = None, wave: WaveOption = None, plan: PlanOption = None,
                  dry_run: DryRunOption = False, yes: YesOption = False, workers: WorkersOption = 4,
                  bwlimit: BwlimitOption = "0") -> None:
        """Copy each system's data paths onto its running target servers (rsync over SSH; a second run sends only
        what changed; a killed or failed run resumes) and record SHA-256 manifests. The source is only read."""
        _verb(ctx, "replicate", system, wave, plan, dry_run, yes, workers, bwlimit=bwlimit)

    @app.command("test")
    def test(ctx: typer.Context, system: SystemOption = None, wave: WaveOption = None, plan: PlanOption = None,
             dry_run: DryRunOption = False, yes: YesOption = False, workers: WorkersOption = 4) -> None:
        """Start each system on its targets, check their health URL from here, stop them again; the source keeps
        serving, untouched. Passed: ready-for-cutover; failed: ready-for-test again."""
        _verb(ctx, "test", system, wave, plan, dry_run, yes, workers)

    @app.command("cutover")
    def cutover(ctx: typer.Context, system: SystemOption = None, wave: WaveOption = None, plan: PlanOption = None,
                dry_run: DryRunOption = False, yes: YesOption = False, workers: WorkersOption = 4,
                bwlimit: BwlimitOption = "0") -> None:
        """Stop the source's service, copy the last changes, check the manifests are equal, start the targets,
        check their health, switch the service record to them. Any failure rolls back at once: the source serves
        again, and the reason is recorded."""
        _verb(ctx, "cutover", system, wave, plan, dry_run, yes, workers, bwlimit=bwlimit)

    @app.command("finalize")
    def finalize(ctx: typer.Context, system: SystemOption = None, wave: WaveOption = None, plan: PlanOption = None,
                 dry_run: DryRunOption = False, yes: YesOption = False, workers: WorkersOption = 4) -> None:
        """Mark each cut-over system's legacy host retired (its service stays stopped; nothing there is deleted):
        the system counts as on the cloud, and can no longer be rolled back."""
        _verb(ctx, "finalize", system, wave, plan, dry_run, yes, workers)

    @app.command("rollback")
    def rollback(ctx: typer.Context, system: SystemOption = None, wave: WaveOption = None, plan: PlanOption = None,
                 dry_run: DryRunOption = False, yes: YesOption = False, workers: WorkersOption = 4,
                 remove_target: Annotated[bool, typer.Option(
                     "--remove-target", help="Also delete the copied data on the targets (default: kept for "
                     "diagnosis)")] = False) -> None:
        """Make the source serve again, from any state before finalized: the targets' service stopped, the
        service record pointed at the source, the source's service started when it does not answer."""
        _verb(ctx, "rollback", system, wave, plan, dry_run, yes, workers, remove_target=remove_target)

    @app.command("retire")
    def retire(ctx: typer.Context, system: Annotated[str, typer.Argument(help="The zombie system's code")],
               dry_run: DryRunOption = False, yes: YesOption = False) -> None:
        """Retire a zombie (an assessed system nobody uses): its evidence shown, its service stopped, its legacy
        host marked retired (nothing deleted), the system marked retired (filed by `migrate register`)."""
        _verb(ctx, "retire", [system], None, None, dry_run, yes, 1)

    @app.command("runs")
    def runs_command(ctx: typer.Context, system: Annotated[str | None, typer.Option(
            "--system", help="Only this system's runs")] = None,
            limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="How many, newest first")] = 20,
    ) -> None:
        """The lifecycle verbs' runs, newest first: outcome, the step where a failed one stopped, its artifact
        folder (ansible-runner's events and output). Changes nothing."""
        _runs(ctx, system, limit)


def _codes(loaded: LoadedEstate, systems: list[str] | None, wave: int | None, plan: Path | None) -> list[str]:
    from nxgov.errors import InputError

    if wave is None:
        if plan is not None:
            raise InputError("--plan is read only with --wave", "add --wave N, or drop --plan")
        return list(systems or [])
    if plan is None:
        raise InputError("--wave needs the plan it is a wave of",
                         "add --plan FILE (written by nxgov migrate plan --out)")
    from nxgov.migrate.planfile import read_plan

    migration = read_plan(plan, loaded.estate)
    found = next((w for w in migration.waves if w.wave == wave), None)
    if found is None:
        raise InputError(f"{plan} has no wave {wave} (it has {len(migration.waves)})",
                         "see the waves with nxgov migrate plan --check FILE")
    return list(dict.fromkeys([*(systems or []), *(s.code for s in found.systems)]))


def _verb(ctx: typer.Context, verb: str, systems: list[str] | None, wave: int | None, plan: Path | None,
          dry_run: bool, yes: bool, workers: int, *, remove_target: bool = False, bwlimit: str = "0") -> None:
    from nxgov.estate import load_estate
    from nxgov.migrate.steps import prepare, select

    options = settings(ctx)
    io_timeout = _io_timeout()
    loaded = load_estate(options.estate)
    chosen = select(loaded, _codes(loaded, systems, wave, plan))
    jobs = prepare(loaded, chosen, verb, remove_target=remove_target, bwlimit=bwlimit)
    preview = _preview(options, jobs, verb)
    if verb == "retire":
        _show_evidence(options, jobs[0].code)
    if dry_run:
        _audit_dry_run(options, verb, preview)
        if options.json:
            emit_json({"schema": STEP_SCHEMA, "verb": verb, "dry_run": True, "ok": True, "systems": preview})
        return
    refused = [row for row in preview if row["refused"]]
    if refused and len(refused) == len(preview):
        from nxgov.migrate.lifecycle import LifecycleError

        raise LifecycleError(refused[0]["refused"], f"{refused[0]['hint']}; nothing was changed")
    if not confirm(f"{verb} {len(jobs)} system(s)?", yes=yes, json=options.json,
                   refusal=f"migrate {verb} changes hosts and asks first",
                   hint="add --yes to go ahead (or --dry-run to see what it does)"):
        raise typer.Exit(ExitCode.FAILED)
    result = _execute(options, jobs, workers, io_timeout)
    _report(options, verb, result)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


def _preview(options: Settings, jobs: list[Job], verb: str) -> list[dict[str, Any]]:
    """What the verb would do per system: printed (tables) unless -o json; returned as rows either way."""
    from nxgov.migrate import lifecycle
    from nxgov.migrate.steps import PLAYS
    from nxgov.state import StateStore

    rows: list[dict[str, Any]] = []
    with StateStore.open(options.state) as store:
        for job in jobs:
            refused: str | None = None
            hint: str | None = None
            state = "?"
            try:
                current, resumed = lifecycle.check(store, job.code, job.verb.begin or job.verb.done)
                state = current.value
                move = "resume" if resumed else next(t.target.value for t in lifecycle.next_steps(current)
                                                     if t.event == (job.verb.begin or job.verb.done))
            except lifecycle.LifecycleError as error:
                refused, hint, move = error.message, error.hint, "refused"
            rows.append({"system": job.code, "state": state, "then": move, "refused": refused, "hint": hint,
                         "source": f"{job.source.user}@{job.source.host}", "targets":
                         [{"server": t.name, "node": t.node, "address": t.address} for t in job.targets],
                         "hooks": {"pre": [p.name for p in job.hooks[0]], "post": [p.name for p in job.hooks[1]]},
                         "steps": PLAYS[verb]})
    if options.json:
        return rows
    from rich.table import Table

    table = Table("system", "state", "→", "source", "targets", "hooks",
                  title=f"migrate {verb}: " + "; ".join(PLAYS[verb]))
    for row in rows:
        hooks = ", ".join([*(f"pre {h}" for h in row["hooks"]["pre"]), *(f"post {h}" for h in row["hooks"]["post"])])
        table.add_row(row["system"], row["state"],
                      f"[red]{escape(row['refused'])}[/]" if row["refused"] else row["then"], escape(row["source"]),
                      escape(", ".join(f"{t['server']} ({t['node']}, {t['address']})" for t in row["targets"]) or "-"),
                      escape(hooks or "-"))
    err_console.print(table)
    return rows


def _show_evidence(options: Settings, system: str) -> None:
    from nxgov.migrate.assessment import load_assessments
    from nxgov.state import StateStore

    with StateStore.open(options.state) as store:
        found = load_assessments(store).get(system)
    if found is None or options.json:
        return
    zombie = found.zombie
    err_console.print(f"zombie evidence for {system} (assessed {found.assessed_at}): last login "
                      f"{zombie.last_login or 'none recorded'}; newest data change {zombie.newest_change or '-'}; "
                      f"connections seen {zombie.connections_seen}; requests in the access log "
                      f"{zombie.access_log_requests if zombie.access_log_requests is not None else 'no log'}",
                      highlight=False)


def _audit_dry_run(options: Settings, verb: str, preview: list[dict[str, Any]]) -> None:
    from nxgov.audit import AuditLog

    log = AuditLog(options.audit_log, operator=options.operator)
    log.preflight()
    for row in preview:
        log.append(f"migrate {verb}", row["system"], "dry-run",
                   {"state": row["state"], "then": row["then"], "targets": row["targets"]})


def _execute(options: Settings, jobs: list[Job], workers: int, io_timeout: int) -> RunResult[Job]:
    from nxgov.audit import AuditLog
    from nxgov.cli.net_devices import session_options
    from nxgov.migrate.steps import execute
    from nxgov.runner import AuditHook

    audit_log = AuditLog(options.audit_log, operator=options.operator)
    known = session_options(options, None, f"migrate {jobs[0].verb.name}").known_hosts
    runs_dir = options.state.parent / "migrate" / "runs"

    def progress(system: str, result: TaskResult) -> None:
        if options.json:
            return
        colour = {"failed": "red", "unreachable": "red", "changed": "yellow"}.get(result.status, "green")
        line = f"[{colour}]{result.status:>11}[/] {escape(system)} · {escape(result.host)} · {escape(result.task)}"
        if result.status in ("failed", "unreachable"):
            line += f": {escape(result.message)}"
        err_console.print(line, highlight=False, soft_wrap=True)

    return execute(jobs, store_path=options.state, runs_dir=runs_dir, audit_log=audit_log, known_hosts=known,
                   workers=workers, hooks=[AuditHook(audit_log, f"migrate {jobs[0].verb.name}")], on_task=progress,
                   io_timeout=io_timeout)


def _io_timeout() -> int:
    import os

    from nxgov.errors import InputError
    from nxgov.migrate.steps import IO_TIMEOUT_S

    text = os.environ.get(IO_TIMEOUT_ENV, "").strip()
    if not text:
        return IO_TIMEOUT_S
    if not text.isdigit() or not 1 <= int(text) <= 86400:
        raise InputError(f"{IO_TIMEOUT_ENV}={text!r} is not a number of seconds", "set it to e.g. 60, or unset it")
    return int(text)


def _report(options: Settings, verb: str, result: RunResult[Job]) -> None:
    from nxgov.migrate.steps import StepReport

    rows: list[dict[str, Any]] = []
    for done in result.results:
        report = done.data if isinstance(done.data, StepReport) else None
        rows.append({"system": done.name, "status": "ok" if report else "failed", "error": done.error,
                     "state": report.state if report else None, "resumed": report.resumed if report else False,
                     "run": report.run if report else None, "artifacts": report.artifacts if report else None,
                     "copies": [{"server": c.host, "files": c.files, "bytes": c.bytes, "bytes_sent": c.bytes_sent,
                                 "manifest_sha256": c.manifest_sha256, "matches_source": c.matches_source}
                                for c in report.copies] if report else [],
                     "notes": report.notes if report else []})
    if options.json:
        emit_json({"schema": STEP_SCHEMA, "verb": verb, "dry_run": False, "ok": result.ok, "systems": rows})
        return
    from rich.table import Table

    table = Table("system", "result", "state now", "copied", "run", title=f"migrate {verb}")
    for row in rows:
        copied = ", ".join(f"{c['server']}: {c['files']} files, {c['bytes_sent']} B sent"
                           + ("" if c["matches_source"] else " (differs from the source)") for c in row["copies"])
        result_text = ("[green]ok[/]" + (" (resumed)" if row["resumed"] else "")) if row["status"] == "ok" else (
            f"[red]{escape(row['error'] or 'failed')}[/]")
        table.add_row(row["system"], result_text, row["state"] or "-", escape(copied or "-"),
                      f"#{row['run']}" if row["run"] else "-")
    console.print(table)
    for row in rows:
        for note in row["notes"]:
            console.print(f"[yellow]note[/] {escape(row['system'])}: {escape(note)}")


def _runs(ctx: typer.Context, system: str | None, limit: int) -> None:
    from nxgov.migrate.runs import runs, steps
    from nxgov.state import StateStore

    options = settings(ctx)
    with StateStore.open(options.state) as store:
        found = runs(store, system, limit)
        rows: list[dict[str, Any]] = [
            {"run": r.id, "system": r.system, "verb": r.verb, "started": r.started, "finished": r.finished,
                 "outcome": r.outcome, "artifacts": r.artifacts, "detail": r.detail,
                 "steps": [{"host": h, "task": t, "outcome": o, "at": a} for h, t, o, a in steps(store, r.id)]}
                for r in found]
    if options.json:
        emit_json({"schema": RUNS_SCHEMA, "runs": rows})
        return
    from rich.table import Table

    table = Table("run", "system", "verb", "started", "outcome", "steps", "last step / reason", title="migration runs")
    for row in rows:
        last = row["detail"].get("reason") or (f"{row['steps'][-1]['task']} ({row['steps'][-1]['outcome']})"
                                               if row["steps"] else "-")
        colour = {"ok": "green", "failed": "red", "interrupted": "yellow"}.get(row["outcome"], "cyan")
        table.add_row(f"#{row['run']}", row["system"], row["verb"], row["started"][:19],
                      f"[{colour}]{row['outcome']}[/]", str(len(row["steps"])), escape(str(last)))
    console.print(table)
