"""``nxgov net push | backup | history``: configure the extranet's devices and keep their configurations.

:func:`register` adds the commands (and ``verify``, from :mod:`nxgov.cli.net_verify`) to the ``net``
group. SSH host keys are trusted on first use (reported and audited), then strict, in nxgov's own
``known_hosts`` (:func:`nxgov.paths.default_known_hosts`). Files kept beside the state store (``--state``):
``configs/`` (the archive; override with ``--archive``) and ``sessions/<time>/<device>.log`` (one session log
per device and push, secrets removed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from nxgov.cli.context import Settings, settings
from nxgov.cli.output import confirm, console, emit_json, err_console, escape
from nxgov.errors import ExitCode, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from nxgov.estate.model import Device, Estate
    from nxgov.network.archive import Archive
    from nxgov.network.drivers import SessionOptions, Target
    from nxgov.runner import Hook, RunResult

DeviceOpt = Annotated[list[str] | None, typer.Option("--device", "-d", help="Only this device (repeatable)")]
SiteOpt = Annotated[str | None, typer.Option("--site", help="Only devices of this site (division code, e.g. 640100)")]
PlaneOpt = Annotated[str | None, typer.Option(
    "--plane", help="Only devices attached to this plane (dual-homed routers carry every plane and are left out)")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, max=200, help="Devices worked on at once")]
ArchiveOpt = Annotated[Path | None, typer.Option(
    "--archive", envvar="NXGOV_ARCHIVE", help="Configuration archive (env NXGOV_ARCHIVE; default: configs/ beside "
                                              "the state store)")]
R = TypeVar("R")
_STYLE = {"changed": "yellow", "ok": "green", "failed": "bold red", "skipped": "dim"}


def register(app: typer.Typer) -> None:
    """Add ``push``, ``backup``, ``history`` and ``verify`` to the ``net`` command group."""
    app.command()(push)
    app.command()(backup)
    app.command()(history)
    from nxgov.cli import net_confirm, net_verify

    net_verify.register(app)
    net_confirm.register(app)


def push(
    ctx: typer.Context,
    device: DeviceOpt = None,
    site: SiteOpt = None,
    plane: PlaneOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show each device's diff; change nothing")] = False,
    workers: WorkersOpt = 20,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before changing devices")] = False,
    candidates: Annotated[Path | None, typer.Option(
        "--candidates", help="Push <DIR>/<device>.cfg files instead of rendering from the estate and IPv6 plan",
    )] = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Also remove what nxgov pushed before and the candidate no longer has (never other lines)",
    )] = False,
    archive: ArchiveOpt = None,
    confirm_within: Annotated[str | None, typer.Option(
        "--confirm-within", metavar="DURATION",
        help="Keep the change only if verify (or `net confirm`) confirms it within this time (90s, 5m, 1h30m); "
             "otherwise revert each unconfirmed device to its configuration before the push",
    )] = None,
    no_wait: Annotated[bool, typer.Option(
        "--no-wait", help="With --confirm-within: return at once; `net revert-due` (cron/CI) confirms or reverts later",
    )] = False,
) -> None:
    """Merge each device's rendered configuration into it: diff, send line by line, save; roll back on error.

    What nxgov pushed is kept in the archive (``<archive>/<device>/pushed.cfg``); ``--prune`` removes the
    lines of it the candidate no longer has, in the same change. With --confirm-within, verify (or `net confirm`)
    must confirm the change in time, or each unconfirmed device is reverted to its configuration before the push.
    """
    from nxgov.audit import AuditLog
    from nxgov.cli import net_confirm
    from nxgov.network import inventory
    from nxgov.network.confirm import parse_duration
    from nxgov.network.push import push as push_all

    within = parse_duration(confirm_within) if confirm_within is not None else None
    if no_wait and within is None:
        raise InputError("--no-wait applies only with --confirm-within", "add --confirm-within 5m, or drop --no-wait")
    options = settings(ctx)
    estate, devices = _select(options, device, site, plane)
    texts = _read_candidates(candidates, devices) if candidates else _render(options, estate, devices)
    targets = inventory.targets(estate, devices)
    if not dry_run:
        net_confirm.refuse_pending(options, devices)
        _confirm(options, yes, len(targets))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    session = session_options(options, options.state.parent / "sessions" / stamp, "net push")
    plan = net_confirm.prepare(options, estate, devices, within, session, workers) \
        if within is not None and not dry_run else None
    result = with_progress(options, lambda hooks: push_all(
        targets, texts, session, dry_run=dry_run, workers=workers,
        audit=AuditLog(options.audit_log, operator=options.operator), state=options.state, hooks=hooks,
        archive=_archive(options, archive), prune=prune, confirm=plan))
    document = _report_push(options, result, dry_run, prune, session.session_logs, emit=plan is None)
    kept = True
    if plan is not None:
        document["confirm"], kept = net_confirm.after_push(options, estate, plan, session, no_wait, workers)
        if options.json:
            emit_json(document)
    if not result.ok or not kept:
        if not kept and not options.json:
            reverted = [row["device"] for row in (*document["confirm"]["reverted"],
                                                  *document["confirm"]["revert_failed"])]
            err_console.print(f"[bold red]not confirmed within {confirm_within}:[/] {', '.join(reverted)}",
                              soft_wrap=True)
        raise typer.Exit(ExitCode.FAILED)


def backup(
    ctx: typer.Context,
    device: DeviceOpt = None,
    site: SiteOpt = None,
    plane: PlaneOpt = None,
    workers: WorkersOpt = 20,
    archive: ArchiveOpt = None,
) -> None:
    """Archive every device's running configuration; a version is added only when it changed."""
    from nxgov.audit import AuditLog
    from nxgov.network import inventory
    from nxgov.network.archive import backup as backup_all

    options = settings(ctx)
    estate, devices = _select(options, device, site, plane)
    targets = inventory.targets(estate, devices)
    store = _archive(options, archive)
    result = with_progress(options, lambda hooks: backup_all(
        targets, store, session_options(options, None, "net backup"), workers=workers,
        audit=AuditLog(options.audit_log, operator=options.operator), hooks=hooks))
    rows: list[dict[str, Any]] = [{"device": r.name, "status": r.status.value, "version": (r.data or {}).get("version"),
             "path": (r.data or {}).get("path"), "error": r.error} for r in result.results]
    if options.json:
        emit_json({"schema": "nxgov.net.backup/1", "archive": str(store.directory), "devices": rows,
                   "counts": _counts(result)})
    else:
        from rich.table import Table

        table = Table("device", "result", "version", "note", title=f"backup to {store.directory}")
        for row in rows:
            note = row["error"] or ("new version" if row["status"] == "changed" else "unchanged")
            table.add_row(row["device"], _styled(row["status"]), str(row["version"] or "-"), escape(note))
        console.print(table)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


def history(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The device's name")],
    diff: Annotated[tuple[int, int] | None, typer.Option(
        "--diff", metavar="V1 V2", help="Show what changed from version V1 to version V2")] = None,
    archive: ArchiveOpt = None,
) -> None:
    """List a device's archived configuration versions, or diff two of them."""
    options = settings(ctx)
    store = _archive(options, archive)
    versions = store.history(device)
    text = store.diff(device, *diff) if diff else None
    if options.json:
        document: dict[str, Any] = {"schema": "nxgov.net.history/1", "device": device,
                                    "versions": [v.as_dict() for v in versions]}
        if text is not None:
            document["diff"] = text
        emit_json(document)
        return
    if diff is not None:
        console.print(escape(text) if text else f"versions {diff[0]} and {diff[1]} are the same", highlight=False)
        return
    if not versions:
        raise InputError(f"{device} has no archived configuration in {store.directory}", "run `nxgov net backup`")
    from rich.table import Table

    table = Table("version", "taken (UTC)", "sha256", "bytes", title=f"{device}: {len(versions)} versions")
    for version in versions:
        table.add_row(str(version.version), version.taken[:19].replace("T", " "), version.sha256[:12],
                      str(version.bytes))
    console.print(table)


def _select(options: Settings, names: list[str] | None, site: str | None,
            plane: str | None) -> tuple[Estate, list[Device]]:
    from nxgov.estate import load_estate
    from nxgov.network.inventory import select

    estate = load_estate(options.estate).estate
    return estate, select(estate, names or (), site, plane)


def _render(options: Settings, estate: Estate, devices: list[Device]) -> dict[str, str]:
    """Each device's configuration rendered from its intent (the estate and the stored IPv6 plan)."""
    from nxgov.network.planstore import stored_plan
    from nxgov.network.render import candidates
    from nxgov.state import StateStore

    with StateStore.open(options.state) as store:
        outcome = stored_plan(store, estate)
    return candidates(outcome, [d.name for d in devices])


def _read_candidates(directory: Path, devices: list[Device]) -> dict[str, str]:
    texts = {}
    for device in devices:
        path = directory / f"{device.name}.cfg"
        try:
            texts[device.name] = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot read the candidate of {device.name}: {path}: {error.strerror}",
                             "write the candidates with `nxgov net render`, or leave out --candidates") from error
    return texts


def _confirm(options: Settings, yes: bool, count: int) -> None:
    if not confirm(f"Push to {count} device{'s' if count != 1 else ''}?", yes=yes, json=options.json,
                   refusal="pushing changes devices and needs confirmation",
                   hint="look first with --dry-run, then pass --yes"):
        err_console.print("nothing changed")
        raise typer.Exit(ExitCode.OK)


def session_options(options: Settings, logs: Path | None, command: str) -> SessionOptions:
    """Sessions trusting nxgov's ``known_hosts`` (:func:`nxgov.paths.default_known_hosts`); each key trusted on first
    use during ``command`` is reported on stderr and audited. paramiko's own log lines stay off the terminal (every
    failure reaches the operator as an error naming the device)."""
    import logging

    from nxgov.audit import AuditLog
    from nxgov.network.drivers import SessionOptions
    from nxgov.network.drivers.hostkeys import KnownHosts, TrustedKey
    from nxgov.paths import default_known_hosts

    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    def trusted(key: TrustedKey) -> None:
        err_console.print(f"[yellow]{escape(key.device)}: trusted the SSH host key of {escape(key.address)} on first "
                          f"use:[/] {key.key_type} {key.fingerprint} (recorded in {escape(key.known_hosts)})",
                          soft_wrap=True)
        AuditLog(options.audit_log, operator=options.operator).append(
            "net known-hosts", key.device, "changed",
            {"action": "trusted on first use", "during": command, "address": key.address, "key_type": key.key_type,
             "fingerprint": key.fingerprint, "known_hosts": key.known_hosts})

    return SessionOptions(KnownHosts(default_known_hosts(), on_trust=trusted), session_logs=logs)


def _archive(options: Settings, directory: Path | None) -> Archive:
    from nxgov.network.archive import Archive

    return Archive(directory or options.state.parent / "configs", options.state)


def with_progress(options: Settings, work: Callable[[list[Hook]], R]) -> R:
    """Run ``work(hooks)`` with a progress bar on stderr (none with --output json)."""
    if options.json:
        return work([])
    from nxgov.cli.progress import ProgressHook, make_progress

    with make_progress(err_console) as progress:
        return work([ProgressHook(progress)])


def _report_push(options: Settings, result: RunResult[Target], dry_run: bool, prune: bool, logs: Path | None,
                 emit: bool = True) -> dict[str, Any]:
    """Print the push's table, or (``-o json``) its document, which is also returned (``emit=False``: not printed
    yet, the caller adds to it)."""
    from nxgov.network.push import DeviceChange

    rows: list[dict[str, Any]] = []
    for r in result.results:
        change = r.data if isinstance(r.data, DeviceChange) else None
        rows.append({"device": r.name, "status": r.status.value, "lines": len(change.commands) if change else 0,
                     "commands": list(change.commands) if change else [], "diff": change.diff if change else "",
                     "unconfirmed": list(change.unconfirmed) if change else [], "error": r.error,
                     "session_log": change.session_log if change else None,
                     "removed": change.removed if change else 0, "stale": change.stale if change else 0})
    stale = sum(row["stale"] for row in rows)
    if stale:
        err_console.print(f"[yellow]warning: {stale} line{'s' if stale != 1 else ''} nxgov pushed and the estate no "
                          f"longer declares {'are' if stale != 1 else 'is'} left on "
                          f"{sum(1 for row in rows if row['stale'])} device(s)[/]; --prune removes them",
                          soft_wrap=True)
    document = {"schema": "nxgov.net.push/1", "dry_run": dry_run, "prune": prune, "session_logs": str(logs),
                "devices": rows, "counts": _counts(result), "removed": sum(row["removed"] for row in rows),
                "stale": stale}
    if options.json:
        if emit:
            emit_json(document)
        return document
    from rich.table import Table

    if dry_run or options.verbose:
        for row in rows:
            if row["diff"]:
                console.print(escape(row["diff"]), highlight=False)
    table = Table("device", "result", "lines", "note", title="dry run: nothing was changed" if dry_run else "push")
    for row in rows:
        note = row["error"] or _note(row, dry_run)
        table.add_row(row["device"], _styled(row["status"], dry_run), str(row["lines"]), escape(note))
    console.print(table)
    counts = _counts(result)
    console.print(", ".join(f"{n} {k}" for k, n in counts.items()) + f"; session logs in {logs}")
    return document


def _note(row: dict[str, Any], dry_run: bool) -> str:
    if row["unconfirmed"]:
        return f"saved, but the device does not show: {'; '.join(row['unconfirmed'][:3])}"
    removing = f" ({row['removed']} {'to remove' if dry_run else 'removed'})" if row["removed"] else ""
    if row["status"] == "changed":
        return ("would change" if dry_run else "changed and saved") + removing
    return "already as rendered" + (f" ({row['stale']} stale lines left)" if row["stale"] else "")


def _styled(status: str, dry_run: bool = False) -> str:
    label = "would change" if dry_run and status == "changed" else status
    return f"[{_STYLE.get(status, '')}]{label}[/]"


def _counts(result: RunResult[Target]) -> dict[str, int]:
    counts = {"changed": 0, "ok": 0, "failed": 0, "skipped": 0}
    for r in result.results:
        counts[r.status.value] += 1
    return counts
