"""Confirm or revert (``net push --confirm-within``): a pushed change stays only if it is confirmed in time.

Before a device's change is committed, nxgov records it as *pending* in the state store (table
``pending_confirmations``, migration 8): the device, the push it belongs to, the running configuration read
before the change (also archived as a version), what nxgov had made on the device before (the archive's
``pushed.cfg``), the sites whose verdict the change can affect (:func:`touched_sites`), those sites' planes
that were up before the push (the *baseline*), and a deadline. Once committed, the deadline is set again
from the commit (``committed``).

A pending change is **confirmed** by nxgov's own verify, when every touched site is ``both-up`` or has at
least the planes up it had before the push (:func:`judge`), checked no earlier than :func:`settle_s` after
the commit (so a broken session has had its hold time to show) and, while waiting in the push's process,
good for that long without a bad check between; or by the operator (``net confirm``). A change still
pending at its deadline is **reverted**: the device is brought back to the configuration before the change
through the driver's rollback path (:meth:`~nxgov.network.drivers.base.NetworkDriver.revert_to`: undo what was
added, re-add what was lost, read back and compare, save), and ``pushed.cfg`` is restored. A row stays
open until one of them happens, so if the waiting process is killed, ``net revert-due`` (run by hand, cron
or CI) reverts what is overdue. A change whose commit failed and was rolled back by the push itself is
closed as ``push-failed``; one whose commit was interrupted stays open (``committing``) and is reverted
when overdue.

One mechanism for every platform: FRR (vtysh) and the lab's simulators have no commit-confirm, and
VRP's ``commit confirmed`` exists only in two-stage commit mode, Comware's ``configuration commit delay``
only with its own commit model; both are future native paths (see README).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nxgov.audit import AuditLog
from nxgov.errors import InputError
from nxgov.network import attention
from nxgov.network.archive import Archive
from nxgov.network.drivers import SessionOptions, Target, driver
from nxgov.network.topology import Topology
from nxgov.network.verify import Report
from nxgov.runner import AuditHook, Hook, Outcome, RunResult, TargetResult, run
from nxgov.state import StateStore

MIN_S = 10
"""The shortest window: BGP's hold time (3 s) and a verify must fit in it."""
MAX_S = 24 * 3600
SETTLE_S = 10.0
"""How long after a commit (and how long good) verify must see the sites before it confirms."""
OPEN_STATES = ("committing", "pending")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str, option: str = "--confirm-within") -> int:
    """``text`` (``90s``, ``5m``, ``1h30m``) in seconds; InputError (exit 2) naming ``option`` otherwise."""
    value = text.strip().lower()
    match = _DURATION.fullmatch(value)
    if not value or match is None or not any(match.groups()):
        hint = "give a unit: 90s, 5m, 1h30m" if value.isdigit() else "use a duration such as 90s, 5m or 1h30m"
        raise InputError(f"{option} {text!r} is not a duration", hint)
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if not MIN_S <= total <= MAX_S:
        raise InputError(f"{option} {text!r} is outside {MIN_S}s..{MAX_S // 3600}h",
                         f"verify needs at least {MIN_S} s to see BGP settle; confirm within a day at most")
    return total


def settle_s(within_s: float) -> float:
    """How long verify must see a change good (and after its commit) before confirming it."""
    return min(SETTLE_S, within_s / 3)


@dataclass(frozen=True)
class Pending:
    """One recorded change awaiting (or past) confirmation."""

    id: int
    push: str
    estate: str
    device: str
    opened: datetime
    committed: datetime | None
    deadline: datetime
    state: str
    before_version: int | None
    before_config: str
    made_before: str | None
    archive: Path
    sites: tuple[str, ...]
    baseline: dict[str, list[str]]
    detail: str

    @property
    def within_s(self) -> float:
        return (self.deadline - (self.committed or self.opened)).total_seconds()

    def overdue(self, now: datetime) -> bool:
        return now >= self.deadline

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "push": self.push, "device": self.device, "state": self.state,
                "opened": self.opened.isoformat(timespec="seconds"),
                "committed": self.committed.isoformat(timespec="seconds") if self.committed else None,
                "deadline": self.deadline.isoformat(timespec="seconds"), "before_version": self.before_version,
                "sites": list(self.sites), "detail": self.detail}


def now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


# -- the state store ---------------------------------------------------------------------------------

def open_change(state: Path, *, push: str, estate: str, device: str, within_s: float, before_config: str,
                before_version: int | None, made_before: str | None, archive: Path, sites: Sequence[str],
                baseline: Mapping[str, Sequence[str]]) -> int:
    """Record ``device``'s change as about to be committed (state ``committing``); returns its id. Opens its own
    connection: safe from any thread, and the row exists before the first line is typed."""
    opened = now()
    with StateStore.open(state) as store, store.transaction() as connection:
        cursor = connection.execute(
            "INSERT INTO pending_confirmations (push, estate, device, opened, deadline, state, before_version, "
            "before_config, made_before, archive, sites, baseline) VALUES (?, ?, ?, ?, ?, 'committing', ?, ?, ?, ?, "
            "?, ?)",
            (push, estate, device, _iso(opened), _iso(opened + timedelta(seconds=within_s)), before_version,
             before_config, made_before, str(archive), json.dumps(list(sites)),
             json.dumps({site: list(baseline.get(site, ())) for site in sites})))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def mark_committed(state: Path, row: int, within_s: float) -> None:
    """The change is committed: pending, with its deadline counted from now."""
    moment = now()
    with StateStore.open(state) as store, store.transaction() as connection:
        connection.execute("UPDATE pending_confirmations SET state = 'pending', committed = ?, deadline = ? "
                           "WHERE id = ? AND closed IS NULL",
                           (_iso(moment), _iso(moment + timedelta(seconds=within_s)), row))


def close(state: Path, row: int, outcome: str, detail: str) -> bool:
    """Close an open row as ``confirmed``, ``reverted`` or ``push-failed``; False when it was closed already."""
    with StateStore.open(state) as store, store.transaction() as connection:
        cursor = connection.execute(
            "UPDATE pending_confirmations SET state = ?, closed = ?, detail = ? WHERE id = ? AND closed IS NULL",
            (outcome, _iso(now()), detail, row))
    return cursor.rowcount == 1


def note(state: Path, row: int, detail: str) -> None:
    """Keep why an open row is still open (a revert that failed, to be tried again)."""
    with StateStore.open(state) as store, store.transaction() as connection:
        connection.execute("UPDATE pending_confirmations SET detail = ? WHERE id = ? AND closed IS NULL",
                           (detail, row))


def open_changes(state: Path, *, devices: Iterable[str] = (), push: str | None = None) -> list[Pending]:
    """The open rows (of ``devices`` if any are named, of ``push`` if given), oldest first."""
    wanted = sorted(set(devices))
    with StateStore.open(state) as store:
        rows = store.connection.execute(
            "SELECT id, push, estate, device, opened, committed, deadline, state, before_version, before_config, "
            "made_before, archive, sites, baseline, detail FROM pending_confirmations WHERE closed IS NULL "
            "AND (? IS NULL OR push = ?) ORDER BY id", (push, push)).fetchall()
    out = [_pending(row) for row in rows]
    return [p for p in out if not wanted or p.device in wanted]


def _pending(row: tuple[object, ...]) -> Pending:
    (id_, push, estate, device, opened, committed, deadline, state, version, before, made, archive, sites,
     baseline, detail) = row
    return Pending(int(str(id_)), str(push), str(estate), str(device), datetime.fromisoformat(str(opened)),
                   datetime.fromisoformat(str(committed)) if committed else None,
                   datetime.fromisoformat(str(deadline)), str(state), int(str(version)) if version is not None
                   else None, str(before), None if made is None else str(made), Path(str(archive)),
                   tuple(json.loads(str(sites))), json.loads(str(baseline)), str(detail))


# -- judging -----------------------------------------------------------------------------------------

def touched_sites(topology: Topology, device: str) -> tuple[str, ...]:
    """The sites whose verdict a change on ``device`` can alter: its own, the sites of the devices whose uplinks end
    on it, and every site when it is a region device (the region routes every site's block)."""
    own = topology.devices[device].site
    if topology.sites[own].parent is None:
        return tuple(topology.sites)
    sites = {own, *(topology.devices[link.child].site for link in topology.downlinks.get(device, ()))}
    return tuple(code for code in topology.sites if code in sites)


def baseline(report: Report) -> dict[str, list[str]]:
    """Every judged site's planes that are up (what a change must not lose)."""
    return {s.code: [p.plane for p in s.planes if p.state == "up"] for s in report.sites}


def judge(change: Pending, report: Report) -> tuple[bool, str]:
    """Whether ``report`` confirms ``change``: every touched site both-up or with the planes up it had before."""
    results = {s.code: s for s in report.sites}
    for code in change.sites:
        site = results.get(code)
        if site is None:
            return False, f"site {code} was not verified"
        if site.state == "both-up":
            continue
        up = {p.plane for p in site.planes if p.state == "up"}
        lost = [plane for plane in change.baseline.get(code, []) if plane not in up]
        if lost:
            return False, (f"site {code} is {site.state}: plane {', '.join(lost)} was up before the push and is "
                           f"{'/'.join(p.state for p in site.planes if p.plane in lost)} now")
    return True, "verify: " + ", ".join(f"{code} {results[code].state}" for code in change.sites)


@dataclass
class Waited:
    """What waiting for confirmation came to: the rows confirmed (with the reason) and those due a revert."""

    confirmed: list[tuple[Pending, str]]
    due: list[tuple[Pending, str]]
    waiting: list[tuple[Pending, str]] = field(default_factory=list)
    """Left pending by :func:`sweep`, with why."""


def wait(state: Path, push: str, check: Callable[[list[Pending]], Report], *,
         on_confirmed: Callable[[Pending, str], None] = lambda change, reason: None,
         interval: float = 2.0, clock: Callable[[], datetime] = now,
         sleep: Callable[[float], None] = time.sleep) -> Waited:
    """Verify ``push``'s open changes (``check`` reads the sites) until each is confirmed or its deadline passes.

    A change is confirmed once verify has judged it good for :func:`settle_s` without a bad check between,
    counting from no earlier than its commit (``on_confirmed`` is called, after the row is closed). A row closed
    meanwhile by someone else (``net confirm`` in another shell) is left alone; a check that raises confirms nothing.
    Returns what was confirmed here and what is due a revert (the deadline passed), with the last verdict.
    """
    waited = Waited([], [])
    good_since: dict[int, datetime] = {}
    last: dict[int, str] = {}
    while True:
        moment = clock()
        changes = open_changes(state, push=push)
        for change in [c for c in changes if c.overdue(moment)]:
            waited.due.append((change, last.get(change.id, "not confirmed in time")))
        changes = [c for c in changes if not c.overdue(moment)]
        if not changes:
            return waited
        try:
            report: Report | None = check(changes)
        except Exception as error:  # a verify that cannot run confirms nothing; the deadline still holds
            report, failure = None, f"verify failed: {getattr(error, 'message', error)}"
        moment = clock()
        for change in changes:
            if report is None:
                ok, reason = False, failure
            else:
                ok, reason = judge(change, report) if change.committed is not None else (False, "not committed")
            last[change.id] = reason
            if not ok:
                good_since.pop(change.id, None)
                continue
            assert change.committed is not None
            since = good_since.setdefault(change.id, moment)
            if (moment - max(since, change.committed)).total_seconds() >= settle_s(change.within_s) and \
                    close(state, change.id, "confirmed", reason):
                waited.confirmed.append((change, reason))
                on_confirmed(change, reason)
        remaining = [c for c in changes if c.id not in {done.id for done, _ in waited.confirmed}]
        if not remaining:
            return waited
        until = min(c.deadline for c in remaining)
        sleep(max(0.0, min(interval, (until - clock()).total_seconds())))


def sweep(changes: Sequence[Pending], report: Report | None, moment: datetime) -> Waited:
    """One look at open changes (``net revert-due``): overdue ones are due a revert; the others are confirmed when
    ``report`` judges them good at least :func:`settle_s` after their commit (left pending otherwise)."""
    waited = Waited([], [])
    for change in changes:
        if change.overdue(moment):
            waited.due.append((change, f"not confirmed by {change.deadline.isoformat(timespec='seconds')}"))
            continue
        if report is None or change.committed is None:
            waited.waiting.append((change, "not committed (interrupted): reverted when overdue"
                                   if change.committed is None else "not verified"))
            continue
        ok, reason = judge(change, report)
        settle = settle_s(change.within_s)
        if ok and (moment - change.committed).total_seconds() >= settle:
            waited.confirmed.append((change, reason))
        else:
            waited.waiting.append((change, reason if not ok else f"{reason}, but less than {settle:.0f} s after "
                                                                  "the commit"))
    return waited


# -- reverting ---------------------------------------------------------------------------------------

def revert(changes: Sequence[tuple[Pending, str]], targets: Mapping[str, Target], options: SessionOptions,
           state: Path, *, audit: AuditLog | None = None, workers: int = 20,
           hooks: Sequence[Hook] = ()) -> RunResult[Pending]:
    """Bring each change's device back to its configuration before the change (see the module docstring).

    Each one that succeeds is closed ``reverted``, its configuration after the revert archived and its
    ``pushed.cfg`` restored; one that fails stays open (retried by the next ``net revert-due``) and its device is
    noted as needing attention. One ``net revert`` audit record per device, with the reason.
    """
    reasons = {change.id: reason for change, reason in changes}

    def task(change: Pending) -> Outcome:
        target = targets.get(change.device)
        try:
            if target is None:
                raise InputError(f"{change.device} is not a device of the estate",
                                 f"load the estate {change.estate!r} it was pushed from (--estate)")
            with driver(target, options) as session:
                session.revert_to(change.before_config)
                after = session.get_config("running")
        except Exception as error:
            message = str(getattr(error, "message", error))
            note(state, change.id, f"revert failed: {message}")
            attention.note(state, change.device, "net revert", None, f"revert to the configuration before push "
                           f"{change.push} failed: {message}")
            raise
        archive = Archive(change.archive, state)
        version, _ = archive.add(change.device, after)
        archive.restore_made(change.device, change.made_before)
        close(state, change.id, "reverted", reasons[change.id])
        return Outcome(True, {"version": version.version})

    secrets = sorted({secret for target in targets.values() for secret in target.credentials.secrets})
    audit_hooks: list[Hook] = [_RevertAudit(audit, reasons, secrets)] if audit is not None else []
    return run(task, [change for change, _ in changes], name="revert", key=lambda change: change.device,
               workers=workers, hooks=[*audit_hooks, *hooks])


class _RevertAudit(AuditHook):
    """One ``net revert`` record per device: the push, the deadline missed, the reason, the version gone back to."""

    def __init__(self, audit_log: AuditLog, reasons: Mapping[int, str], secrets: list[str]) -> None:
        super().__init__(audit_log, "net revert")
        self.reasons = reasons
        self.secrets = secrets

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        change = result.target
        assert isinstance(change, Pending)
        details: dict[str, Any] = {"push": change.push, "reason": self.reasons.get(change.id, ""),
                                   "deadline": change.deadline.isoformat(timespec="seconds"),
                                   "before_version": change.before_version, "status": result.status.value}
        if result.error is not None:
            details["error"] = result.error
        if isinstance(result.data, dict):
            details["archived_version"] = result.data.get("version")
        self.audit_log.append(self.command, result.name, self._result(result), details, secrets=self.secrets)


def audit_confirmed(audit: AuditLog, change: Pending, by: str, reason: str) -> None:
    """The ``net confirm`` record of a change confirmed by ``by`` (``verify`` or ``operator``)."""
    audit.append("net confirm", change.device, "changed",
                 {"push": change.push, "by": by, "reason": reason,
                  "deadline": change.deadline.isoformat(timespec="seconds"), "sites": list(change.sites)})
