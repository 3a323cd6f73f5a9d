"""The cloud group's share of the combined plan: one part per department, from ``nxgov cloud plan``'s own planner,
carried out by ``nxgov cloud apply``'s own apply (one call for every department, in its waves)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from nxgov.region.context import Region
from nxgov.region.group import GroupPlan, PartResult
from nxgov.region.parts import Part

SHARED = "shared"
"""The part of the changes no department owns (the server-access keypair on each node)."""


def plan(region: Region) -> GroupPlan:
    from nxgov.cloud.planner import make_plan, managed_nodes

    estate = region.loaded.estate
    clients = {node: region.clients[node] for node in managed_nodes(estate)}
    planned = make_plan(estate, clients)
    by_department: dict[str, list[Any]] = defaultdict(list)
    for change in planned.plan.changes:
        by_department[change.resource.department or SHARED].append(change)
    parts = []
    for department, changes in by_department.items():
        counts = Counter(c.action for c in changes)
        kinds = Counter(c.resource.kind for c in changes)
        summary = ", ".join(f"{action} {n}" for action, n in counts.items()) + " (" + ", ".join(
            f"{n} {kind}" for kind, n in kinds.items()) + ")"
        parts.append(Part(key=f"cloud:{department}", stage="cloud", summary=summary, detail={"changes": [
            {"action": c.action, "resource": c.key, "reason": c.reason, "fields": c.fields} for c in changes]}))
    return GroupPlan(parts, warnings=list(planned.plan.warnings), read={"cloud": planned.plan.fingerprint},
                     carry=planned)


def run(region: Region, carry: Any, parts: list[Part]) -> list[PartResult]:
    """Apply the whole cloud plan once; each department's part failed when one of its changes failed."""
    from nxgov.cloud.apply import apply
    from nxgov.cloud.planner import managed_nodes

    estate = region.loaded.estate
    clients = {node: region.clients[node] for node in managed_nodes(estate)}
    result = apply(carry.plan, clients, carry.actual, audit_log=region.audit_log, per_node=region.workers)
    problems = {**result.failed, **result.skipped}
    out = []
    for part in parts:
        mine = {c["resource"] for c in part.detail["changes"]}
        bad = {key: why for key, why in problems.items() if key.split(":", 1)[1] in mine}
        if bad:
            out.append(PartResult(part.key, "failed", "; ".join(f"{k.split(':', 1)[1]}: {why}"
                                                                for k, why in sorted(bad.items()))))
        else:
            out.append(PartResult(part.key, "changed", f"{len(mine)} change(s) made"))
    return out
