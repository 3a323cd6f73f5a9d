"""Push candidate configurations to many devices at once, NAPALM-style merge, Nornir-style runner.

For each device: open a session (logged to ``<session dir>/<device>.log`` with secrets removed),
merge the candidate, and, unless it is a dry run, commit the difference (every line checked, saved,
rolled back on any error). Devices run concurrently on at most ``workers`` threads; a device that
fails never stops the others. Every device gets one audit record with its diff summary. A device left
half-configured (its session dropped and it could not be reached to roll back, or a rollback that did
not restore it) is recorded in the state store as needing attention; a later successful push clears
that record.

With an archive, a push that succeeded records what nxgov has made on the device (the archive's
``pushed.cfg``): with ``prune`` the candidate, otherwise the candidate and what it had made before. The
next push then removes (``prune``) or counts (``stale``) the lines nxgov made that the candidate no longer
has; a line nxgov never pushed is never removed.

With ``confirm`` (``net push --confirm-within``), each device's change is recorded as pending before it is
committed (:mod:`nxgov.network.confirm`: the running configuration read before it, archived as a version,
and what nxgov had made before); the caller then has it confirmed or reverted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nxgov.audit import AuditLog
from nxgov.errors import InputError
from nxgov.network import attention
from nxgov.network import confirm as confirming
from nxgov.network.archive import Archive
from nxgov.network.drivers import SessionOptions, Target, driver
from nxgov.network.drivers.errors import DeviceError, RollbackError, SessionDroppedError
from nxgov.runner import AuditHook, Hook, Outcome, RunResult, Status, TargetResult, run
from nxgov.state import StateStore

AUDIT_COMMANDS_MAX = 200
"""At most this many pushed lines go into a device's audit record (the session log has them all)."""


@dataclass(frozen=True)
class DeviceChange:
    """What a push did (or, dry, would do) to one device: the ``data`` of its :class:`TargetResult`."""

    commands: tuple[str, ...]
    diff: str
    unconfirmed: tuple[str, ...] = ()
    session_log: str | None = None
    removed: int = 0
    """Lines removed (or, dry, to remove) because nxgov made them and the candidate no longer has them."""
    stale: int = 0
    """Such lines left on the device (a push without prune)."""

    def summary(self) -> dict[str, Any]:
        """The audit record's details: how many lines, the lines themselves (capped), the session log."""
        lines = list(self.commands)
        summary: dict[str, Any] = {"lines": len(lines), "commands": lines[:AUDIT_COMMANDS_MAX],
                                   "removed": self.removed, "stale": self.stale}
        if len(lines) > AUDIT_COMMANDS_MAX:
            summary["commands_truncated"] = True
        if self.unconfirmed:
            summary["unconfirmed"] = list(self.unconfirmed)
        if self.session_log:
            summary["session_log"] = self.session_log
        return summary


@dataclass(frozen=True)
class ConfirmWithin:
    """A push whose changes must be confirmed within ``within_s`` seconds (see :mod:`nxgov.network.confirm`)."""

    push: str
    """The push's id, in every pending row and audit record of it."""
    estate: str
    within_s: float
    sites: Mapping[str, tuple[str, ...]]
    """Each device's touched sites."""
    baseline: Mapping[str, Sequence[str]]
    """Each site's planes up before the push."""


def push(
    targets: Sequence[Target],
    candidates: Mapping[str, str],
    options: SessionOptions,
    *,
    dry_run: bool = False,
    workers: int = 20,
    audit: AuditLog | None = None,
    state: Path | None = None,
    hooks: Sequence[Hook] = (),
    archive: Archive | None = None,
    prune: bool = False,
    confirm: ConfirmWithin | None = None,
) -> RunResult[Target]:
    """Merge ``candidates[name]`` (device display format) into every target; see the module docstring.

    Raises InputError before touching any device when a target has no candidate.
    """
    lacking = [target.name for target in targets if target.name not in candidates]
    if lacking:
        raise InputError(f"no candidate configuration for {', '.join(lacking)}",
                         "render the devices' configurations first (nxgov net render)")
    if confirm is not None and (archive is None or state is None):
        raise InputError("a push to be confirmed needs the archive and the state store",
                         "give --archive and --state (or leave out --confirm-within)")

    def task(target: Target) -> Outcome:
        session = driver(target, options)
        log = str(session.session_log_path) if session.session_log_path else None
        with session:
            made = archive.made(target.name) if archive is not None else None
            session.load_merge_candidate(candidates[target.name], made, prune)
            diff = session.compare_config()
            change = DeviceChange(diff.commands, diff.text, session_log=log, removed=diff.removed, stale=diff.stale)
            if dry_run:
                return Outcome(bool(diff), change)
            if diff:
                row = _open_pending(confirm, state, archive, target.name, session.before, made)
                try:
                    result = session.commit_config()
                except (SessionDroppedError, RollbackError) as error:
                    _note(state, target.name, error)
                    if row is not None and state is not None and isinstance(error, SessionDroppedError) \
                            and error.rolled_back:
                        confirming.close(state, row, "push-failed", error.message)
                    raise
                except DeviceError as error:  # refused or failed, and rolled back by the push itself
                    if row is not None and state is not None:
                        confirming.close(state, row, "push-failed", error.message)
                    raise
                if row is not None and state is not None and confirm is not None:
                    confirming.mark_committed(state, row, confirm.within_s)
                change = replace(change, commands=result.commands, unconfirmed=result.unconfirmed)
            if archive is not None:
                archive.record_made(target.name, session.made())
            return Outcome(bool(diff), change)

    secrets = sorted({secret for target in targets for secret in target.credentials.secrets})
    audit_hooks: list[Hook] = [_PushAudit(audit, dry_run, secrets, confirm)] if audit is not None else []
    result = run(task, targets, name="push", key=lambda target: target.name, workers=workers,
                 hooks=[*audit_hooks, *hooks])
    if state is not None and not dry_run:
        _clear_attention(state, [r.name for r in result.results if r.status in (Status.ok, Status.changed)])
    return result


def _open_pending(confirm: ConfirmWithin | None, state: Path | None, archive: Archive | None, device: str,
                  before: str | None, made: str | None) -> int | None:
    """Archive the configuration before the change and record the change as pending (None without ``confirm``)."""
    if confirm is None or state is None or archive is None or before is None:
        return None
    version, _ = archive.add(device, before)
    return confirming.open_change(state, push=confirm.push, estate=confirm.estate, device=device,
                                  within_s=confirm.within_s, before_config=before, before_version=version.version,
                                  made_before=made, archive=archive.directory, sites=confirm.sites.get(device, ()),
                                  baseline=confirm.baseline)


def _note(state: Path | None, device: str, error: SessionDroppedError | RollbackError) -> None:
    if state is None:
        return
    if isinstance(error, SessionDroppedError):
        if not error.rolled_back:
            attention.note(state, device, "net push", error.last_applied, error.message)
    else:
        attention.note(state, device, "net push", None, error.message)


def _clear_attention(state: Path, devices: list[str]) -> None:
    """A device pushed successfully holds the whole candidate again: its open records are resolved."""
    with StateStore.open(state) as store:
        pending = {item.device for item in attention.open_items(store)}
        for device in sorted(pending.intersection(devices)):
            attention.resolve(store, device)


class _PushAudit(AuditHook):
    """The runner's audit hook, with each device's diff summary in its record and secrets redacted."""

    def __init__(self, audit_log: AuditLog, dry_run: bool, secrets: list[str],
                 confirm: ConfirmWithin | None = None) -> None:
        super().__init__(audit_log, "net push", dry_run=dry_run)
        self.secrets = secrets
        self.confirm = confirm

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        details: dict[str, Any] = {"task": name, "status": result.status.value, "duration_s": result.duration_s}
        if result.error is not None:
            details["error"] = result.error
        if isinstance(result.data, DeviceChange):
            details.update(result.data.summary())
        if self.confirm is not None and not self.dry_run:
            details["confirm_within"] = {"push": self.confirm.push, "within_s": self.confirm.within_s}
        self.audit_log.append(self.command, result.name, self._result(result), details, secrets=self.secrets)
