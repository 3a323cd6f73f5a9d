"""``nxgov apply``: the combined plan's parts, stage by stage (:data:`~nxgov.region.parts.STAGES`).

Each stage's parts run together through their group's own code (which writes its own audit records, one per
change, device, host or volume). A part whose needed part failed or was skipped is skipped with the reason, and
everything else goes on. Every part's result gets one more audit record (``apply``), and the run one at the end.
Re-running converges: a part that was done is no longer planned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nxgov.region import backupparts, cloudparts, migrateparts, netparts
from nxgov.region.context import Region
from nxgov.region.group import PartResult
from nxgov.region.parts import STAGES, Part
from nxgov.region.plan import Planning

AUDIT_COMMAND = "apply"


@dataclass
class ApplyReport:
    results: list[PartResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.results)

    def counts(self) -> dict[str, int]:
        counts = {"changed": 0, "ok": 0, "failed": 0, "skipped": 0}
        for result in self.results:
            counts[result.result] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts(), "seconds": round(self.seconds, 1),
                "parts": [r.to_dict() for r in self.results]}


def _runner(region: Region, planning: Planning, stage: str) -> Callable[[list[Part]], list[PartResult]]:
    if stage == "cloud":
        return lambda parts: cloudparts.run(region, planning.carry["cloud"], parts)
    if stage in migrateparts.VERBS:
        return lambda parts: migrateparts.run_verb(region, stage, parts)
    runners: dict[str, Callable[[Region, list[Part]], list[PartResult]]] = {
        "ipv6": netparts.run_ipv6, "push": netparts.run_push, "verify": netparts.run_verify,
        "assess": migrateparts.run_assess, "sync": backupparts.run_sync, "drill": backupparts.run_drill}
    return lambda parts: runners[stage](region, parts)


def apply(region: Region, planning: Planning, on_result: Callable[[PartResult], None] = lambda _r: None,
          on_stage: Callable[[str, list[Part]], None] = lambda _s, _p: None) -> ApplyReport:
    """Run every part of ``planning`` in stage order; never raises for a part that fails (see the report)."""
    region.audit_log.preflight()
    report = ApplyReport()
    started = time.monotonic()
    done: dict[str, PartResult] = {}
    for stage in STAGES:
        parts = [p for p in planning.plan.parts if p.stage == stage]
        runnable = []
        for part in parts:
            blocker = next((done[k] for k in part.needs if k in done and done[k].failed), None)
            if blocker is None:
                runnable.append(part)
                continue
            why = "failed" if blocker.result == "failed" else "was skipped"
            _finish(region, part, PartResult(part.key, "skipped", f"it needs {blocker.key}, which {why}"), done,
                    report, on_result)
        if not runnable:
            continue
        on_stage(stage, runnable)
        begun = time.monotonic()
        try:
            results = {r.key: r for r in _runner(region, planning, stage)(runnable)}
        except Exception as error:  # a group that could not even start fails its parts, never the whole apply
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            results = {p.key: PartResult(p.key, "failed", message) for p in runnable}
        seconds = (time.monotonic() - begun) / len(runnable)
        for part in runnable:
            result = results.get(part.key) or PartResult(part.key, "failed", "no result from its group")
            _finish(region, part, PartResult(result.key, result.result, result.detail, seconds, result.data), done,
                    report, on_result)
    report.seconds = time.monotonic() - started
    region.audit_log.append(AUDIT_COMMAND, f"region/{planning.plan.estate}", "changed" if report.ok else "failed",
                            {"counts": report.counts(), "read": planning.plan.read,
                             "seconds": round(report.seconds, 1)})
    return report


def _finish(region: Region, part: Part, result: PartResult, done: dict[str, PartResult], report: ApplyReport,
            on_result: Callable[[PartResult], None]) -> None:
    done[part.key] = result
    report.results.append(result)
    outcome = {"changed": "changed", "ok": "ok"}.get(result.result, "failed")
    region.audit_log.append(AUDIT_COMMAND, part.key, outcome, {"group": part.group, "summary": part.summary,
                                                                "result": result.result, "detail": result.detail})
    on_result(result)
