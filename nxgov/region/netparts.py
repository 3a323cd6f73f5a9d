"""The extranet's share of the combined plan: the IPv6 plan's new allocations, one push per device whose
configuration differs from what the estate renders (its diff read from the device, as ``net push --dry-run``
reads it), and a verify after the pushes that waits for both planes to come up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nxgov.network.ipv6plan import PlanOutcome
from nxgov.region.context import Region
from nxgov.region.group import GroupPlan, PartResult
from nxgov.region.parts import Deferred, Part, fingerprint
from nxgov.runner import Status
from nxgov.state import StateStore

SETTLE_S = 120.0
"""How long the verify after a push waits for every site to be up on both planes (BGP converging)."""
SETTLE_POLL_S = 5.0


def _outcome(region: Region, dry_run: bool, on_change: Callable[[PlanOutcome], None] | None = None) -> PlanOutcome:
    from nxgov.network.planstore import plan_ipv6

    with StateStore.open(region.state) as store:
        return plan_ipv6(store, region.loaded.estate, dry_run, on_change=on_change)


def _push(region: Region, outcome: PlanOutcome, names: list[str] | None, dry_run: bool) -> list[Any]:
    """Push every device (or those ``names``) its configuration rendered from ``outcome`` (dry: read each diff);
    the runner's results, one per device."""
    from nxgov.network import inventory
    from nxgov.network.push import push
    from nxgov.network.render import candidates

    estate = region.loaded.estate
    devices = inventory.select(estate, names or ())
    texts = candidates(outcome, [d.name for d in devices])
    result = push(inventory.targets(estate, devices), texts, region.session, dry_run=dry_run, workers=20,
                  audit=None if dry_run else region.audit_log, state=None if dry_run else region.state,
                  archive=region.archive())
    return list(result.results)


def plan(region: Region) -> GroupPlan:
    from nxgov.network.planstore import load_allocations
    from nxgov.network.push import DeviceChange

    estate = region.loaded.estate
    if estate.extranet is None:
        return GroupPlan()
    with StateStore.open(region.state) as store:
        stored = load_allocations(store, estate.estate)
    outcome = _outcome(region, dry_run=True)
    group = GroupPlan(read={"ipv6": fingerprint([a.as_dict() for a in stored])})
    if outcome.changed:
        counts = {k: n for k, n in outcome.counts().items() if n}
        summary = "allocate " + ", ".join(f"{n} {kind}" for kind, n in counts.items())
        group.parts.append(Part(key="ipv6", stage="ipv6", summary=summary, detail={
            "counts": counts, "prefix": str(outcome.layout.prefix), "new": [a.key for a in outcome.new]}))
    results = _push(region, outcome, None, dry_run=True)
    diffs: dict[str, str] = {}
    for item in results:
        change = item.data if isinstance(item.data, DeviceChange) else None
        if item.status is Status.failed or change is None:
            group.deferred.append(Deferred(key=f"push:{item.name}", reason=f"could not be read: {item.error}"))
            diffs[item.name] = f"unread: {item.error}"
            continue
        diffs[item.name] = change.diff
        if change.diff or change.commands:
            group.parts.append(Part(key=f"push:{item.name}", stage="push", needs=["ipv6"] if outcome.changed else [],
                                    summary=f"{len(change.commands)} line(s)", detail={"diff": change.diff,
                                                                                      "lines": len(change.commands)}))
    group.read["devices"] = fingerprint(diffs)
    pushes = [p.key for p in group.parts if p.stage == "push"]
    if pushes:
        group.parts.append(Part(key="verify", stage="verify", needs=pushes, changes=False,
                                summary="every site up on both planes (waits for BGP)"))
    return group


def run_ipv6(region: Region, parts: list[Part]) -> list[PartResult]:
    def audit(outcome: PlanOutcome) -> None:
        region.audit_log.append("net ipv6 plan", region.loaded.estate.estate, "changed",
                                {"prefix": str(outcome.layout.prefix), **outcome.counts(), "by": "apply"})

    outcome = _outcome(region, dry_run=False, on_change=audit)
    counts = ", ".join(f"{n} {k}" for k, n in outcome.counts().items() if n)
    return [PartResult(part.key, "changed" if outcome.changed else "ok", counts) for part in parts]


def run_push(region: Region, parts: list[Part]) -> list[PartResult]:
    """Push every device of ``parts`` (the others are left alone) with the configuration rendered now."""
    from nxgov.network.planstore import stored_plan
    from nxgov.network.push import DeviceChange

    with StateStore.open(region.state) as store:
        outcome = stored_plan(store, region.loaded.estate)
    results = _push(region, outcome, [p.subject for p in parts], dry_run=False)
    out = []
    for item in results:
        change = item.data if isinstance(item.data, DeviceChange) else None
        if item.status is Status.failed:
            out.append(PartResult(f"push:{item.name}", "failed", item.error or "failed"))
        else:
            lines = len(change.commands) if change else 0
            out.append(PartResult(f"push:{item.name}", "changed" if item.status is Status.changed else "ok",
                                  f"{lines} line(s) committed and saved" if lines else "already as rendered"))
    return out


def run_verify(region: Region, parts: list[Part], settle_s: float = SETTLE_S) -> list[PartResult]:
    """Verify every site until all are up on both planes or ``settle_s`` has passed; the last report is kept."""
    from nxgov.network.planstore import stored_plan
    from nxgov.network.verify import save, verify

    estate = region.loaded.estate
    with StateStore.open(region.state) as store:
        outcome = stored_plan(store, estate)
    deadline = time.monotonic() + settle_s
    while True:
        report = verify(estate, outcome, region.session)
        behind = [s for s in report.sites if s.state != "both-up"]
        if not behind or time.monotonic() >= deadline:
            break
        time.sleep(SETTLE_POLL_S)
    with StateStore.open(region.state) as store:
        save(store, report)
    counts = ", ".join(f"{n} {state}" for state, n in report.counts().items() if n)
    if behind:
        names = "; ".join(f"{s.code} {s.state}" + (f" (plane {', '.join(s.down_planes)} down)" if s.down_planes
                                                    else "") for s in behind)
        return [PartResult(p.key, "failed", f"after {settle_s:.0f} s: {names}", data=report.counts())
                for p in parts]
    return [PartResult(p.key, "ok", counts, data=report.counts()) for p in parts]
