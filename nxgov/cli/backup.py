"""``nxgov backup``: copies of the protected systems at the backup cloud (issue 11), a thin layer over
:mod:`nxgov.backup`: ``sync``, ``verify``, ``status``, ``prune``, ``drill``, ``drills``, ``restore``, ``copies``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import Settings, settings
from nxgov.cli.output import confirm, console, emit_json, err_console, escape
from nxgov.errors import ExitCode

if TYPE_CHECKING:
    from nxgov.backup.context import Backup

app = typer.Typer(help="Back up protected systems to the backup cloud: sync, verify, drill, status, prune, restore.",
                  no_args_is_help=True)

SCHEMA = "nxgov.backup.{}/1"
SystemOption = Annotated[list[str] | None, typer.Option("--system", help="This system (repeatable; default: all "
                                                        "with a backup policy)")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would be done; change nothing")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")]


@app.command()
def sync(ctx: typer.Context, system: SystemOption = None, dry_run: DryRunOption = False, yes: YesOption = False,
         workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Volumes copied at once")] = 4,
         bwlimit: Annotated[str, typer.Option(
             "--bwlimit", help="Most bandwidth per copy: a rate as rsync takes it (20M, 500K; 0 or off: none), or a "
             "timetable 'HH:MM,RATE ...' in Asia/Shanghai time, e.g. '08:00,512K 19:00,off'")] = "0") -> None:
    """Copy every protected volume to the backup cloud (snapshot, incremental Cinder backup, rsync of the backup
    to the backup cloud's store, import there) and keep the systems' images identical there. A re-run sends only
    what changed; a killed run resumes where it stopped."""
    from nxgov.backup.sync import plan_sync, run_sync
    from nxgov.rates import parse_timetable
    from nxgov.runner import AuditHook, Status

    options = settings(ctx)
    timetable = parse_timetable(bwlimit)
    ctx_backup = _connect(options)
    plan = plan_sync(ctx_backup, system)
    rows = [v.to_dict() for v in plan.volumes]
    images = [{"node": i.node, "image": i.name, "to": i.backup_node, "action": i.action} for i in plan.images]
    _show_sync_plan(options, rows, images)
    if dry_run:
        _audit_rows(options, "backup sync", [(f"{r['system']}/{r['node']}/{r['volume']}", r) for r in rows]
                    + [(f"image:{i['node']}/{i['image']}", i) for i in images])
        if options.json:
            emit_json({"schema": SCHEMA.format("sync"), "dry_run": True, "ok": True, "volumes": rows,
                       "images": images})
        return
    if not plan.changes:
        err_console.print("nothing to copy: no protected volume found on the nodes, images identical")
    elif not confirm(f"copy {sum(r['action'] != 'missing' for r in rows)} volume(s) to the backup cloud?", yes=yes,
                     json=options.json, refusal="backup sync changes the nodes and the backup cloud and asks first",
                     hint="add --yes to go ahead (or --dry-run to see what it does)"):
        raise typer.Exit(ExitCode.FAILED)
    done = run_sync(ctx_backup, plan, timetable, workers=workers, hooks=[AuditHook(_audit(options), "backup sync")],
                    note=_note(options))
    results = [{"target": r.name, "status": r.status.value, "error": r.error,
                "copy": r.data if isinstance(r.data, dict) else None, "skipped": r.data if isinstance(r.data, str)
                else None} for r in done]
    ok = all(r.status is not Status.failed for r in done)
    if options.json:
        emit_json({"schema": SCHEMA.format("sync"), "dry_run": False, "ok": ok, "results": results})
    else:
        _show_sync_results(results)
    if not ok:
        raise typer.Exit(ExitCode.FAILED)




@app.command()
def verify(ctx: typer.Context, system: SystemOption = None,
           sample: Annotated[float, typer.Option("--sample", min=0.1, max=100.0, help="Per cent of the data objects "
                                                 "read (the manifests always)")] = 100.0) -> None:
    """Read each volume's latest copy (and the copies it builds on) at the backup cloud's store and check every block
    against the manifest recorded at sync. A damaged copy is named (exit 1). The result goes to the catalog."""
    from nxgov.backup.verify import verify as verify_copies

    options = settings(ctx)
    audit = _audit(options)
    audit.preflight()
    results = verify_copies(_connect(options), system, sample / 100.0)
    for r in results:
        audit.append("backup verify", f"{r.system}/{r.node}/{r.volume}", "failed" if r.result == "corrupt" else "ok",
                     {"copy": r.copy, "result": r.result, "problems": r.problems, "sample_pct": sample})
    bad = [r for r in results if r.result == "corrupt"]
    if options.json:
        emit_json({"schema": SCHEMA.format("verify"), "ok": not bad, "sample_pct": sample,
                   "volumes": [r.to_dict() for r in results]})
    else:
        from rich.table import Table

        table = Table("system", "node", "volume", "copy", "result", "what differs", title=f"backup verify ({sample:g}"
                      " % of the data)")
        for r in results:
            colour = {"ok": "green", "corrupt": "red"}.get(r.result, "yellow")
            table.add_row(r.system, r.node, r.volume, str(r.copy or "-"), f"[{colour}]{r.result}[/]",
                          escape("; ".join(r.problems) or "-"))
        console.print(table)
    if bad:
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def status(ctx: typer.Context) -> None:
    """Per protected system: the last good copy and its age against the RPO, the last verify, the last drill and
    when the next is due. Exit 3 when an RPO is breached or a drill is overdue. Reads only the catalog."""
    from nxgov.backup.status import backup_status
    from nxgov.estate import load_estate
    from nxgov.spans import span
    from nxgov.state import StateStore

    options = settings(ctx)
    estate = load_estate(options.estate).estate
    with StateStore.open(options.state) as store:
        rows = backup_status(estate, store)
    attention = [r for r in rows if r.attention]
    if options.json:
        emit_json({"schema": SCHEMA.format("status"), "ok": not attention, "systems": [r.to_dict() for r in rows]})
    else:
        from rich.table import Table

        table = Table("system", "volumes", "last good copy", "RPO", "verify", "last drill", "next drill due",
                      title="backup status")
        for r in rows:
            if r.rpo_met is None:
                rpo = "n/a (no data volume)"
            elif r.rpo_met:
                rpo = f"[green]met[/] ({span(r.age_s)} old, RPO {span(r.rpo_s)})"
            elif r.age_s is None:
                rpo = "[red]breached: no good copy[/]"
            else:
                rpo = f"[red]breached by {span(r.breached_by_s or 0)}[/] (RPO {span(r.rpo_s)})"
            drill = f"{r.last_drill} {r.last_drill_result}" if r.last_drill else "never"
            due = f"[red]overdue[/] (due {r.drill_due})" if r.drill_overdue else r.drill_due
            table.add_row(r.system, str(r.volumes), r.last_good or "-", rpo,
                          f"{r.last_verify_result} ({r.last_verify})" if r.last_verify else "-", drill, due)
        console.print(table)
    if attention:
        raise typer.Exit(ExitCode.CHANGES)


@app.command()
def prune(ctx: typer.Context, system: SystemOption = None, dry_run: DryRunOption = False,
          yes: YesOption = False) -> None:
    """Remove copies older than each system's retain, at the backup cloud and at the node: never the last good
    copy of a volume, never a copy a kept copy builds on."""
    from nxgov.backup.prune import expired, prune_copy
    from nxgov.estate import load_estate
    from nxgov.runner import AuditHook, run
    from nxgov.state import StateStore

    options = settings(ctx)
    loaded = load_estate(options.estate)
    with StateStore.open(options.state) as store:
        items = expired(loaded.estate, store, system)
    rows = [i.to_dict() for i in items]
    if not options.json:
        from rich.table import Table

        table = Table("copy", "system", "node", "volume", "kind", "taken", title="backup prune: copies to remove")
        for r in rows:
            table.add_row(str(r["copy"]), str(r["system"]), str(r["node"]), str(r["volume"]), str(r["kind"]),
                          str(r["started"]))
        err_console.print(table if rows else "nothing to prune")
    if dry_run:
        _audit_rows(options, "backup prune", [(f"copy {r['copy']}", r) for r in rows])
        if options.json:
            emit_json({"schema": SCHEMA.format("prune"), "dry_run": True, "ok": True, "copies": rows})
        return
    if rows and not confirm(f"remove {len(rows)} copies?", yes=yes, json=options.json,
                            refusal="backup prune deletes copies and asks first",
                            hint="add --yes to go ahead (or --dry-run to see what it removes)"):
        raise typer.Exit(ExitCode.FAILED)
    ctx_backup = _connect(options)
    done = run(lambda i: prune_copy(ctx_backup, i), items, name="backup prune", key=lambda i: f"copy {i.copy.id}",
               workers=1, hooks=[AuditHook(_audit(options), "backup prune")])
    if options.json:
        emit_json({"schema": SCHEMA.format("prune"), "dry_run": False, "ok": done.ok,
                   "results": [{"copy": r.name, "status": r.status.value, "error": r.error} for r in done.results]})
    else:
        console.print(f"pruned {len(done.changed)} of {len(items)} copies" + (
            f"; failed: {', '.join(f'{r.name} ({r.error})' for r in done.failed)}" if done.failed else ""))
    if not done.ok:
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def drill(ctx: typer.Context, system: SystemOption = None, dry_run: DryRunOption = False,
          yes: YesOption = False) -> None:
    """Restore each system's latest copies at the backup cloud into a drill project nxgov makes, check the data
    against the manifests, boot the servers there (isolated), record the evidence (RTO, checks), and remove the
    drill project and everything in it, also when the drill fails. Exit 1 when a drill fails."""
    from nxgov.backup.drill import plan_drill, run_drill
    from nxgov.backup.policy import protected_systems

    options = settings(ctx)
    ctx_backup = _connect(options)
    plans = [plan_drill(ctx_backup, s.code) for s in protected_systems(ctx_backup.loaded.estate, system)]
    rows = [p.to_dict() for p in plans]
    if not options.json:
        for p in plans:
            servers = "; ".join(f"{name} ({flavor}, {image}) with " + (", ".join(
                f"{c.volume} from copy {c.id} ({c.started})" for c in cs) or "no volume")
                for name, flavor, image, cs in p.servers)
            missing = f" [red]no good copy of {escape(', '.join(p.missing))}[/]" if p.missing else ""
            err_console.print(f"drill {p.system} at {p.backup_node}: {escape(servers)}{missing}", highlight=False)
    if dry_run:
        _audit_rows(options, "backup drill", [(str(r["system"]), r) for r in rows])
        if options.json:
            emit_json({"schema": SCHEMA.format("drill"), "dry_run": True, "ok": True, "drills": rows})
        return
    if not confirm(f"run {len(plans)} drill(s) at the backup cloud?", yes=yes, json=options.json,
                   refusal="backup drill makes and removes a project at the backup cloud and asks first",
                   hint="add --yes to go ahead (or --dry-run to see what it restores)"):
        raise typer.Exit(ExitCode.FAILED)
    audit = _audit(options)
    audit.preflight()
    note = _note(options)
    evidence = []
    for p in plans:
        record = run_drill(ctx_backup, p, note)
        audit.append("backup drill", p.system, "ok" if record.result == "passed" else "failed", record.to_dict())
        evidence.append(record.to_dict())
    _show_drills(options, evidence, "drill")
    if any(e["result"] != "passed" for e in evidence):
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def restore(ctx: typer.Context,
            system: Annotated[str, typer.Option("--system", help="The system to bring back")],
            to: Annotated[str, typer.Option("--to", help="The node to bring it back on, e.g. zhongwei or backup")],
            dry_run: DryRunOption = False, yes: YesOption = False) -> None:
    """Bring a system back on a node from its latest good copies: volumes restored as <volume>-restored-<copy>, its
    servers booted with them (or, where the server exists, the volumes attached to it). Nothing is overwritten."""
    from nxgov.backup.restore import plan_restore, run_restore

    options = settings(ctx)
    ctx_backup = _connect(options)
    plan = plan_restore(ctx_backup, system, to)
    if not options.json:
        for step in plan.steps:
            err_console.print(f"{step.server}: " + ("attach to the existing server" if step.server_exists else
                              f"boot ({step.flavor}, {step.image})") + " with " + (", ".join(
                                  f"{n}{' (exists)' if e else ''}" for n, e in step.volumes) or "no volume")
                              + (f"; stage {len(step.stage)} backup(s) at {to} first" if step.stage else ""),
                              highlight=False)
    if dry_run:
        _audit_rows(options, "backup restore", [(system, plan.to_dict())])
        if options.json:
            emit_json({"schema": SCHEMA.format("restore"), "dry_run": True, "ok": True, "plan": plan.to_dict()})
        return
    if not confirm(f"restore {system} on {to}?", yes=yes, json=options.json,
                   refusal="backup restore makes volumes and servers and asks first",
                   hint="add --yes to go ahead (or --dry-run to see what it makes)"):
        raise typer.Exit(ExitCode.FAILED)
    audit = _audit(options)
    audit.preflight()
    note = _note(options)
    try:
        made = run_restore(ctx_backup, plan, note)
    except Exception as error:
        audit.append("backup restore", system, "failed", {"to": to, "error": str(error)})
        raise
    audit.append("backup restore", system, "changed", {"to": to, "made": made})
    if options.json:
        emit_json({"schema": SCHEMA.format("restore"), "dry_run": False, "ok": True, "made": made})
    else:
        console.print(f"{system} restored on {to}: " + "; ".join(
            f"{server} ({len(v['volumes'])} volume(s))" for server, v in made.items()))


@app.command()
def drills(ctx: typer.Context, system: Annotated[str | None, typer.Option("--system", help="Only this system")] = None
           ) -> None:
    """The restore drills on record, oldest first (evidence for the level-3 inspection). Changes nothing."""
    from nxgov.backup import catalog
    from nxgov.state import StateStore

    options = settings(ctx)
    with StateStore.open(options.state) as store:
        rows = [d.to_dict() for d in catalog.drills(store, system)]
    _show_drills(options, rows, "drills")


@app.command()
def copies(ctx: typer.Context, system: Annotated[str | None, typer.Option("--system", help="Only this system")] = None,
           ) -> None:
    """The backup catalog: every copy with its time, source, sizes, bytes sent, manifest digest and state."""
    from nxgov.backup import catalog
    from nxgov.state import StateStore

    options = settings(ctx)
    with StateStore.open(options.state) as store:
        rows = [c.to_dict() for c in catalog.copies(store, system)]
    if options.json:
        emit_json({"schema": SCHEMA.format("copies"), "copies": rows})
        return
    from rich.table import Table

    table = Table("copy", "system", "node", "volume", "kind", "state", "taken", "volume bytes", "sent", "stored",
                  "manifest", title="backup copies")
    for r in rows:
        table.add_row(str(r["id"]), r["system"], r["node"], r["volume"], r["kind"], r["state"], r["started"],
                      str(r["size_bytes"]), str(r["bytes_sent"]), str(r["stored_bytes"]),
                      (r["manifest_sha256"] or "-")[:12])
    console.print(table)


def _show_sync_plan(options: Settings, rows: list[dict[str, Any]], images: list[dict[str, Any]]) -> None:
    if options.json:
        return
    from rich.table import Table

    table = Table("system", "node", "volume", "→", "action", "why", title="backup sync")
    for r in rows:
        table.add_row(r["system"], r["node"], r["volume"], r["to"],
                      f"[yellow]{r['action']}[/]" if r["action"] == "missing" else r["action"], escape(r["reason"]))
    for i in images:
        table.add_row("(image)", i["node"], i["image"], i["to"], i["action"], "compared by Glance's os_hash_value")
    err_console.print(table)


def _show_sync_results(results: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table("target", "result", "kind", "bytes sent", "stored", title="backup sync: done")
    for r in results:
        copy = r["copy"] or {}
        text = {"failed": f"[red]{escape(r['error'] or 'failed')}[/]",
                "skipped": f"[yellow]skipped: {escape(r['skipped'] or '')}[/]"}.get(r["status"], "[green]ok[/]")
        table.add_row(r["target"], text, str(copy.get("kind", "-")), str(copy.get("bytes_sent", "-")),
                      str(copy.get("stored_bytes", "-")))
    console.print(table)


def _show_drills(options: Settings, rows: list[dict[str, Any]], verb: str) -> None:
    if options.json:
        emit_json({"schema": SCHEMA.format(verb), "ok": all(r["result"] != "failed" for r in rows), "drills": rows})
        return
    from rich.table import Table

    table = Table("#", "system", "at", "started", "ended", "RTO", "result", "checks", "cleaned up",
                  title="backup drills")
    for r in rows:
        checks = "; ".join(f"{c['check']}: {c['result']}" for c in r["checks"])
        colour = {"passed": "green", "failed": "red"}.get(r["result"], "yellow")
        table.add_row(str(r["id"]), r["system"], r["backup_node"], r["started"], r["ended"] or "-",
                      f"{r['rto_s']} s" if r["rto_s"] is not None else "-", f"[{colour}]{r['result']}[/]"
                      + (f": {escape(r['detail'])}" if r["detail"] else ""), escape(checks),
                      "yes" if r["cleaned_up"] else "[red]no[/]")
    console.print(table)


def _note(options: Settings) -> Callable[[str], None]:
    """Where the SDK's step notes go: stderr for people, nowhere with -o json."""
    return (lambda _m: None) if options.json else (lambda m: err_console.print(f"  {escape(m)}", highlight=False))


def _connect(options: Settings) -> Backup:
    from nxgov.backup.context import connect
    from nxgov.estate import load_estate

    return connect(load_estate(options.estate), options.state)


def _audit(options: Settings) -> Any:
    from nxgov.audit import AuditLog

    return AuditLog(options.audit_log, operator=options.operator)


def _audit_rows(options: Settings, command: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    log = _audit(options)
    log.preflight()
    for target, details in rows:
        log.append(command, target, "dry-run", details)
