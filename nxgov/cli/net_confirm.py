"""Confirm or revert: ``net push --confirm-within`` (the waiting part), ``net confirm`` and ``net revert-due``.

A push with ``--confirm-within`` records each changed device as pending (:mod:`nxgov.network.confirm`), then
waits, running nxgov's verify for the sites it touched, until verify confirms each change or its deadline
passes; what is still unconfirmed then is reverted (exit 1, naming the devices). With ``--no-wait`` it returns
at once and ``net revert-due`` (cron, CI) does the same in one look: confirms what verify finds good, reverts
what is overdue. ``net confirm`` confirms by hand.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.audit_trail import preflight
from nxgov.cli.context import Settings, settings
from nxgov.cli.net_devices import DeviceOpt, WorkersOpt, session_options, with_progress
from nxgov.cli.output import console, emit_json, err_console, escape
from nxgov.errors import ExitCode, InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nxgov.estate.model import Device, Estate
    from nxgov.network.confirm import Pending, Waited
    from nxgov.network.drivers import SessionOptions
    from nxgov.network.push import ConfirmWithin
    from nxgov.network.verify import Report


def register(app: typer.Typer) -> None:
    """Add ``confirm`` and ``revert-due`` to the ``net`` command group."""
    app.command()(confirm)
    app.command("revert-due")(revert_due)


# -- net push --confirm-within -----------------------------------------------------------------------

def refuse_pending(options: Settings, devices: Sequence[Device]) -> None:
    """A device with a change awaiting confirmation takes no other change until it is confirmed or reverted."""
    from nxgov.network.confirm import open_changes

    pending = open_changes(options.state, devices=[d.name for d in devices])
    if pending:
        names = ", ".join(sorted({p.device for p in pending}))
        raise InputError(f"{names}: a change awaits confirmation (until "
                         f"{min(p.deadline for p in pending).isoformat(timespec='seconds')})",
                         "confirm it (nxgov net confirm -d DEVICE) or let it be reverted (nxgov net revert-due)")


def prepare(options: Settings, estate: Estate, devices: Sequence[Device], within_s: int,
            session: SessionOptions, workers: int) -> ConfirmWithin:
    """The push's id, each device's touched sites and those sites' planes up now (a verify before the push)."""
    from nxgov.network.confirm import baseline, touched_sites
    from nxgov.network.planstore import stored_plan
    from nxgov.network.push import ConfirmWithin
    from nxgov.network.verify import verify
    from nxgov.state import StateStore

    with StateStore.open(options.state) as store:
        outcome = stored_plan(store, estate)
    sites = {d.name: touched_sites(outcome.topology, d.name) for d in devices}
    codes = sorted({code for touched in sites.values() for code in touched})
    if not options.json:
        err_console.print(f"verifying {len(codes)} site(s) before the push (the baseline a change must keep)")
    report = with_progress(options, lambda hooks: verify(estate, outcome, session, sites=codes, workers=workers,
                                                          hooks=hooks))
    return ConfirmWithin(uuid.uuid4().hex[:12], estate.estate, within_s, sites, baseline(report))


def after_push(options: Settings, estate: Estate, plan: ConfirmWithin, session: SessionOptions, no_wait: bool,
               workers: int) -> tuple[dict[str, Any], bool]:
    """Wait for the push's changes to be confirmed and revert the rest (or, ``no_wait``, only list them).

    Returns the ``confirm`` part of the push's JSON document and whether everything changed was confirmed.
    """
    from nxgov.audit import AuditLog
    from nxgov.network.confirm import audit_confirmed, open_changes, wait

    audit = AuditLog(options.audit_log, operator=options.operator)
    pending = open_changes(options.state, push=plan.push)
    document: dict[str, Any] = {"push": plan.push, "within_s": plan.within_s, "waited": not no_wait,
                                "confirmed": [], "reverted": [], "revert_failed": [],
                                "pending": [p.as_dict() for p in pending]}
    if not pending:
        return document, True
    if no_wait:
        if not options.json:
            for p in pending:
                err_console.print(f"{escape(p.device)}: awaits confirmation until "
                                  f"{p.deadline.isoformat(timespec='seconds')}", highlight=False)
            err_console.print("confirm with `nxgov net confirm`; `nxgov net revert-due` confirms what verify finds "
                              "good and reverts what is overdue (run it from cron or CI)", soft_wrap=True)
        return document, True
    deadline = max(p.deadline for p in pending)
    if not options.json:
        err_console.print(f"waiting until {deadline.isoformat(timespec='seconds')} for verify to confirm "
                          f"{len(pending)} change(s); unconfirmed ones are then reverted", highlight=False)

    def confirmed(change: Pending, reason: str) -> None:
        audit_confirmed(audit, change, "verify", reason)
        if not options.json:
            err_console.print(f"[green]{escape(change.device)}: confirmed[/] ({escape(reason)})", soft_wrap=True)

    try:
        waited = wait(options.state, plan.push, lambda changes: _verify(options, estate, session, changes, workers),
                      on_confirmed=confirmed)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted while waiting: the changes stay pending[/]; `nxgov net confirm` "
                          "confirms them, `nxgov net revert-due` reverts them once overdue", soft_wrap=True)
        raise
    return _settle(options, estate, session, waited, audit, workers, document, dry_run=False)


def _verify(options: Settings, estate: Estate, session: SessionOptions, changes: Sequence[Pending],
            workers: int) -> Report:
    from nxgov.network.planstore import stored_plan
    from nxgov.network.verify import verify
    from nxgov.state import StateStore

    with StateStore.open(options.state) as store:
        outcome = stored_plan(store, estate)
    codes = sorted({code for change in changes for code in change.sites})
    return verify(estate, outcome, session, sites=codes, workers=workers)


def _settle(options: Settings, estate: Estate, session: SessionOptions, waited: Waited, audit: Any, workers: int,
            document: dict[str, Any], *, dry_run: bool) -> tuple[dict[str, Any], bool]:
    """Revert what is due (not with ``dry_run``); fill ``document``; whether nothing had to be reverted."""
    from nxgov.network import inventory
    from nxgov.network.confirm import revert

    document["confirmed"] += [{**change.as_dict(), "reason": reason} for change, reason in waited.confirmed]
    due = waited.due
    done = {change.id for change, _ in [*waited.confirmed, *due]}
    why = {change.id: reason for change, reason in waited.waiting}
    document["pending"] = [{**p, **({"reason": why[p["id"]]} if p["id"] in why else {})}
                           for p in document["pending"] if p["id"] not in done]
    if not due:
        return document, True
    if dry_run:
        document["reverted"] = [{**change.as_dict(), "reason": reason} for change, reason in due]
        return document, True
    wanted = {change.device for change, _ in due}
    devices = [d for d in (estate.extranet.devices if estate.extranet else []) if d.name in wanted]
    targets = {t.name: t for t in inventory.targets(estate, devices)}
    result = with_progress(options, lambda hooks: revert(due, targets, session, options.state, audit=audit,
                                                         workers=workers, hooks=hooks))
    reasons = {change.id: reason for change, reason in due}
    for r in result.results:
        row = {**r.target.as_dict(), "reason": reasons[r.target.id]}
        if r.error is None:
            document["reverted"].append(row)
        else:
            document["revert_failed"].append({**row, "error": r.error})
    if not options.json:
        for row in document["reverted"]:
            err_console.print(f"[bold red]{escape(row['device'])}: reverted[/] to the configuration before push "
                              f"{row['push']} ({escape(row['reason'])})", soft_wrap=True)
        for row in document["revert_failed"]:
            err_console.print(f"[bold red]{escape(row['device'])}: the revert failed[/]: {escape(row['error'])} "
                              f"(still pending: `nxgov net revert-due` tries again)", soft_wrap=True)
    return document, False


# -- net confirm, net revert-due ---------------------------------------------------------------------

def confirm(
    ctx: typer.Context,
    device: DeviceOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be confirmed; confirm nothing")] = False,
) -> None:
    """Confirm changes awaiting confirmation (net push --confirm-within) by hand: they stay; every one, or -d's."""
    from nxgov.audit import AuditLog
    from nxgov.network.confirm import audit_confirmed, close, open_changes

    options = settings(ctx)
    names = device or []
    pending = open_changes(options.state, devices=names)
    lacking = sorted(set(names) - {p.device for p in pending})
    if lacking:
        waiting = sorted({p.device for p in open_changes(options.state)})
        raise InputError(f"{', '.join(lacking)}: no change awaits confirmation",
                         f"changes await confirmation on: {', '.join(waiting)}" if waiting
                         else "no change awaits confirmation on any device")
    if not dry_run and pending:
        preflight(ctx)
    audit = AuditLog(options.audit_log, operator=options.operator)
    rows = []
    for change in pending:
        result = "would confirm" if dry_run else "confirmed"
        if not dry_run:
            if close(options.state, change.id, "confirmed", "confirmed by hand (net confirm)"):
                audit_confirmed(audit, change, "operator", "net confirm")
            else:
                result = "closed meanwhile"
        rows.append({**change.as_dict(), "result": result})
    if options.json:
        emit_json({"schema": "nxgov.net.confirm/1", "dry_run": dry_run, "changes": rows})
        return
    _table(rows, "dry run: nothing was confirmed" if dry_run else "confirm")


def revert_due(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Verify and show what would be confirmed and reverted; change nothing")] = False,
    workers: WorkersOpt = 20,
) -> None:
    """One look at the changes awaiting confirmation (for cron/CI): confirm what verify finds good, revert what is
    overdue to the configuration before it. Exit 1 when something was reverted or a revert failed."""
    from nxgov.audit import AuditLog
    from nxgov.estate import load_estate
    from nxgov.network.confirm import audit_confirmed, close, now, open_changes, sweep

    options = settings(ctx)
    estate = load_estate(options.estate).estate
    pending = [p for p in open_changes(options.state) if p.estate == estate.estate]
    if not dry_run and pending:
        preflight(ctx)
    session = session_options(options, None, "net revert-due")
    moment = now()
    verifiable = [p for p in pending if not p.overdue(moment) and p.committed is not None]
    report = _verify(options, estate, session, verifiable, workers) if verifiable else None
    waited = sweep(pending, report, now())
    audit = AuditLog(options.audit_log, operator=options.operator)
    if not dry_run:
        waited.confirmed = [(c, reason) for c, reason in waited.confirmed
                            if close(options.state, c.id, "confirmed", reason)]
        for change, reason in waited.confirmed:
            audit_confirmed(audit, change, "verify", reason)
    document: dict[str, Any] = {"schema": "nxgov.net.revert-due/1", "dry_run": dry_run, "confirmed": [],
                                "reverted": [], "revert_failed": [], "pending": [p.as_dict() for p in pending]}
    document, clean = _settle(options, estate, session, waited, audit, workers, document, dry_run=dry_run)
    if options.json:
        emit_json(document)
    else:
        rows = [*({**r, "result": "would confirm" if dry_run else "confirmed"} for r in document["confirmed"]),
                *({**r, "result": "would revert" if dry_run else "reverted"} for r in document["reverted"]),
                *({**r, "result": "revert failed"} for r in document["revert_failed"]),
                *({**r, "result": "pending"} for r in document["pending"])]
        _table(rows, "dry run: nothing was changed" if dry_run else "changes awaiting confirmation")
    if not clean:
        raise typer.Exit(ExitCode.FAILED)


def _table(rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        console.print("no change awaits confirmation")
        return
    from rich.table import Table

    table = Table("device", "push", "deadline (UTC)", "result", "note", title=title, title_justify="left")
    for row in rows:
        table.add_row(escape(row["device"]), row["push"], row["deadline"][:19].replace("T", " "), row["result"],
                      escape(row.get("reason") or row.get("error") or row.get("detail") or ""))
    console.print(table)
