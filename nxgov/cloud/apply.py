"""Apply a plan: deletions first (newest dependents first), then creations and updates in waves.

Each wave runs through :func:`nxgov.runner.run` with a bounded number of changes in flight per node.
A change whose delete half (of a replace) or whose parent failed is skipped, with the reason; every
other change still runs. Every change gets one audit record (:class:`ChangeAudit`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nxgov.audit import AuditLog
from nxgov.cloud.actual import Actual
from nxgov.cloud.connect import NodeClient, explain
from nxgov.cloud.plan import Change, Plan
from nxgov.cloud.provider import Provider
from nxgov.cloud.resources import CREATE_ORDER
from nxgov.runner import AuditHook, Hook, Outcome, SkipTarget, Status, TargetResult, run

_PARENT_FIELDS = {"network": "network", "subnet": "subnet", "router": "router", "server": "server",
                  "volume": "volume", "server_group": "server_group", "key_name": "keypair"}


@dataclass
class ApplyResult:
    """What happened: keys of the changes done, and of those that failed or were skipped, with the cause."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "done": len(self.done), "failed": self.failed, "skipped": self.skipped}


class ChangeAudit(AuditHook):
    """One audit record per change: the action, kind, node, reason and the fields it changed."""

    def __init__(self, audit_log: AuditLog, changes: Sequence[Change]) -> None:
        super().__init__(audit_log, "cloud apply")
        self._changes = {_target(c): c for c in changes}

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        change = self._changes.get(result.name.split(" ", 1)[1])
        details: dict[str, Any] = {"phase": name, "status": result.status.value, "duration_s": result.duration_s}
        if change is not None:
            details.update(action=change.action, reason=change.reason, fields=change.fields)
        if result.error is not None:
            details["error"] = result.error
        if result.status is Status.skipped:
            details["skipped"] = result.data
        outcome = "failed" if result.status in (Status.failed, Status.skipped) else "changed"
        self.audit_log.append(self.command, result.name.split(" ", 1)[1], outcome, details)


def apply(plan: Plan, clients: dict[str, NodeClient], actual: Actual, *, audit_log: AuditLog | None = None,
          hooks: Sequence[Hook] = (), per_node: int = 4, wait: float = 300.0) -> ApplyResult:
    """Carry out ``plan`` (computed against ``actual``). Never raises for a failed change: see the result."""
    provider = Provider(clients, actual, plan.estate, wait)
    result = ApplyResult()
    limits = {node: threading.Semaphore(per_node) for node in clients}
    all_hooks = [*hooks, *([ChangeAudit(audit_log, plan.changes)] if audit_log is not None else [])]
    workers = max(1, per_node * len(clients))
    waves = len(CREATE_ORDER)
    deletes = [c for c in plan.changes if c.action in ("delete", "replace")]
    for wave in reversed(range(waves)):
        batch = [c for c in deletes if c.wave == wave]
        if batch:
            _run_wave(f"delete wave {waves - wave}", batch, "delete", provider, limits, result, all_hooks, workers)
    ups = [c for c in plan.changes if c.action in ("create", "update", "replace")]
    for wave in range(waves):
        batch = [c for c in ups if c.wave == wave]
        if batch:
            _run_wave(f"apply wave {wave + 1}", batch, "create", provider, limits, result, all_hooks, workers)
    return result


def _run_wave(name: str, batch: list[Change], phase: str, provider: Provider, limits: dict[str, threading.Semaphore],
              result: ApplyResult, hooks: Sequence[Hook], workers: int) -> None:
    def task(change: Change) -> Outcome:
        blocker = _blocked(change, phase, result)
        if blocker is not None:
            raise SkipTarget(blocker)
        resource = change.resource
        with limits[resource.node]:
            try:
                if phase == "delete" and change.actual is not None:
                    provider.delete(change.actual)
                elif change.action == "update" and change.desired is not None:
                    provider.update(change.desired, change.fields)
                elif change.desired is not None:
                    provider.create(change.desired)
            except Exception as error:
                client = provider.clients[resource.node]
                raise explain(error, client.node, client.entry) from error
        return Outcome(changed=True, data=change.action)

    verb = "delete" if phase == "delete" else None
    outcome = run(task, batch, name=name, key=lambda c: f"{verb or c.action} {_target(c)}", workers=workers,
                  hooks=hooks)
    for item in outcome.results:
        key = item.target.key
        if item.status is Status.failed:
            result.failed[f"{phase}:{key}"] = item.error or "failed"
        elif item.status is Status.skipped:
            result.skipped[f"{phase}:{key}"] = str(item.data)
        elif phase == "create" or item.target.action == "delete":
            result.done.append(key)


def _blocked(change: Change, phase: str, result: ApplyResult) -> str | None:
    """Why a change cannot run now: its own delete half failed, or a resource it needs failed."""
    key = change.key
    if phase == "create" and change.action == "replace" and f"delete:{key}" in {*result.failed, *result.skipped}:
        return f"not created again: deleting the old {change.resource.kind} failed"
    resource = change.resource
    if phase == "create":
        parents = [f"{resource.node}/{kind}/{resource.attrs.get(attr)}" for attr, kind in _PARENT_FIELDS.items()
                   if resource.attrs.get(attr)]
        for parent in parents:
            if f"create:{parent}" in result.failed or f"create:{parent}" in result.skipped:
                return f"skipped: it needs {parent.split('/', 1)[1]}, whose change failed"
    return None


def _target(change: Change) -> str:
    return f"cloud/{change.key}"
