"""Run one task against many targets in parallel, in the spirit of Nornir's runner and processors.

A task is a plain function of one target that returns an :class:`Outcome` or raises. The runner never
lets one target's failure stop the others: every exception becomes a failed :class:`TargetResult`.
Cross-cutting concerns (progress bars, the audit log, metrics) are :class:`Hook` objects, so tasks stay
free of them.

Hooks are called from the worker threads, but the runner serialises every hook call with one lock, so
a hook needs no locking of its own and sees calls one at a time (``target_finished`` of one target may
come before ``target_started`` of another). A hook that raises aborts the run: targets not yet started
are cancelled, the ones in flight finish, and the exception propagates from :func:`run`.

A Rich progress bar is a few lines::

    class ProgressHook(BaseHook):
        def __init__(self, progress: Progress) -> None:
            self.progress = progress
        def task_started(self, name: str, targets_count: int) -> None:
            self.task = self.progress.add_task(name, total=targets_count)
        def target_finished(self, name: str, result: TargetResult[Any]) -> None:
            self.progress.advance(self.task)
"""

from __future__ import annotations

import enum
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from nxgov.audit import AuditLog
from nxgov.errors import NxgovError

T = TypeVar("T")


class Status(enum.StrEnum):
    ok = "ok"
    changed = "changed"
    failed = "failed"
    skipped = "skipped"


@dataclass(frozen=True)
class Outcome:
    """What a task returns: whether it changed the target, and anything worth reporting."""

    changed: bool
    data: Any = None


class SkipTarget(Exception):
    """Raise from a task when the target does not apply (e.g. a service it does not run).

    The target is reported as skipped, with the reason as its ``data``.
    """


@dataclass(frozen=True)
class TargetResult(Generic[T]):
    """How the task went for one target. ``error`` is set only when ``status`` is failed."""

    name: str
    target: T
    status: Status
    data: Any = None
    error: str | None = None
    duration_s: float = 0.0


@dataclass(frozen=True)
class RunResult(Generic[T]):
    """Every target's result, in the order the targets were given."""

    name: str
    results: list[TargetResult[T]] = field(default_factory=list)

    @property
    def failed(self) -> list[TargetResult[T]]:
        return [result for result in self.results if result.status is Status.failed]

    @property
    def changed(self) -> list[TargetResult[T]]:
        return [result for result in self.results if result.status is Status.changed]

    @property
    def ok(self) -> bool:
        """True when no target failed (changed and skipped targets are fine)."""
        return not self.failed

    @property
    def by_name(self) -> dict[str, TargetResult[T]]:
        return {result.name: result for result in self.results}


class Hook(Protocol):
    """Observes a run. Called from worker threads, one call at a time (see the module docstring)."""

    def task_started(self, name: str, targets_count: int) -> None: ...

    def target_started(self, name: str, target_key: str) -> None: ...

    def target_finished(self, name: str, result: TargetResult[Any]) -> None: ...

    def task_finished(self, name: str, run_result: RunResult[Any]) -> None: ...


class BaseHook:
    """A hook that does nothing: subclass it and override only what you need."""

    def task_started(self, name: str, targets_count: int) -> None:
        """Called once, before any target starts."""

    def target_started(self, name: str, target_key: str) -> None:
        """Called just before the task runs for a target."""

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        """Called as soon as a target's result is known."""

    def task_finished(self, name: str, run_result: RunResult[Any]) -> None:
        """Called once, after every target has finished."""


class AuditHook(BaseHook):
    """Writes one audit record per finished target.

    ``task_started`` runs :meth:`AuditLog.preflight` (the log can be written and its chain verifies), so an
    unwritable or damaged log stops the run before any target is touched. With ``dry_run`` the records of
    targets that did not fail say "dry-run" (and whether the target would have changed) instead of "ok"/"changed".
    """

    def __init__(self, audit_log: AuditLog, command: str, *, dry_run: bool = False) -> None:
        self.audit_log = audit_log
        self.command = command
        self.dry_run = dry_run

    def task_started(self, name: str, targets_count: int) -> None:
        self.audit_log.preflight()

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        details: dict[str, Any] = {"task": name, "status": result.status.value, "duration_s": result.duration_s}
        if result.error is not None:
            details["error"] = result.error
        if result.status is Status.skipped:
            details["skipped"] = result.data
        self.audit_log.append(self.command, result.name, self._result(result), details)

    def _result(self, result: TargetResult[Any]) -> str:
        if result.status is Status.failed:
            return "failed"
        if self.dry_run:
            return "dry-run"
        return "changed" if result.status is Status.changed else "ok"


def run(
    task: Callable[[T], Outcome],
    targets: Sequence[T],
    *,
    name: str,
    key: Callable[[T], str] = str,
    workers: int = 8,
    hooks: Sequence[Hook] = (),
) -> RunResult[T]:
    """Run ``task`` once per target on at most ``workers`` threads; results come back in input order.

    ``key`` names a target (in results, hooks and the audit log); names must be unique.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    names = [key(target) for target in targets]
    duplicates = sorted(target_name for target_name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise ValueError(f"target names must be unique; repeated: {', '.join(duplicates)}")
    notify = _Dispatcher(hooks)
    notify.task_started(name, len(targets))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"nxgov-{name}")
    try:
        futures = [
            pool.submit(_run_one, task, target, target_name, name, notify)
            for target, target_name in zip(targets, names, strict=True)
        ]
        results = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    run_result = RunResult(name, results)
    notify.task_finished(name, run_result)
    return run_result


def _run_one(
    task: Callable[[T], Outcome], target: T, target_name: str, name: str, notify: _Dispatcher
) -> TargetResult[T]:
    notify.target_started(name, target_name)
    started = time.monotonic()
    status, data, error = _call(task, target)
    result = TargetResult(target_name, target, status, data, error, round(time.monotonic() - started, 6))
    notify.target_finished(name, result)
    return result


def _call(task: Callable[[T], Outcome], target: T) -> tuple[Status, Any, str | None]:
    """Run the task, turning every exception into a failed status (the pool must never see one)."""
    try:
        outcome = task(target)
    except SkipTarget as skip:
        return Status.skipped, str(skip), None
    except NxgovError as error:
        return Status.failed, None, str(error)
    except Exception as error:
        return Status.failed, None, f"{type(error).__name__}: {error}"
    if not isinstance(outcome, Outcome):
        return Status.failed, None, f"TypeError: the task returned {type(outcome).__name__}, not an Outcome"
    return (Status.changed if outcome.changed else Status.ok), outcome.data, None


class _Dispatcher:
    """Fans each event out to every hook, one event at a time across all worker threads."""

    def __init__(self, hooks: Sequence[Hook]) -> None:
        self._hooks = tuple(hooks)
        self._lock = threading.Lock()

    def task_started(self, name: str, targets_count: int) -> None:
        with self._lock:
            for hook in self._hooks:
                hook.task_started(name, targets_count)

    def target_started(self, name: str, target_key: str) -> None:
        with self._lock:
            for hook in self._hooks:
                hook.target_started(name, target_key)

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        with self._lock:
            for hook in self._hooks:
                hook.target_finished(name, result)

    def task_finished(self, name: str, run_result: RunResult[Any]) -> None:
        with self._lock:
            for hook in self._hooks:
                hook.task_finished(name, run_result)
