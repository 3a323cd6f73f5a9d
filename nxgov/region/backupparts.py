"""The backup cloud's share of the combined plan: a sync per protected system that is due, then a drill per system
whose drill is due, each as ``nxgov backup sync`` / ``backup drill`` does it.

A sync is due when a volume has no good copy, a copy was interrupted, an image differs at the backup cloud, the
system is cut over in this plan, or its newest recovery point is older than half its RPO (so a sync each half
RPO keeps it met). A system still to migrate (it has a legacy host and is not cut over) is backed up once it is
on the cloud: before that its volumes hold nothing of it. A drill is due when the system was never drilled or
its drill period has passed.
"""

from __future__ import annotations

from typing import Any

from nxgov.backup.status import SystemStatus
from nxgov.errors import NxgovError
from nxgov.migrate.lifecycle import State
from nxgov.migrate.status import ON_CLOUD
from nxgov.region.context import Region
from nxgov.region.group import GroupPlan, PartResult
from nxgov.region.parts import Deferred, Part, fingerprint
from nxgov.runner import AuditHook, Status
from nxgov.state import StateStore


def plan(region: Region, planned: set[str]) -> GroupPlan:
    """``planned``: the keys of the parts planned so far (cloud, cutovers), which the syncs wait for."""
    from nxgov.backup import catalog
    from nxgov.backup.policy import protected_systems
    from nxgov.backup.status import backup_status
    from nxgov.backup.sync import plan_sync
    from nxgov.migrate.lifecycle import current_states

    estate = region.loaded.estate
    systems = protected_systems(estate)
    group = GroupPlan()
    if not systems:
        return group
    with StateStore.open(region.state) as store:
        status = {s.system: s for s in backup_status(estate, store, region.now)}
        states = current_states(store)
        read: dict[str, list[Any]] = {s.code: [[c.id, c.state] for c in catalog.copies(store, s.code)][-20:]
                                      + [[d.id, d.result] for d in catalog.drills(store, s.code)][-5:]
                                      for s in systems}
    ctx = region.backup()
    for system in systems:
        code = system.code
        current = states.get(code)
        cutover = f"cutover:{code}"
        if current is not None and current.state is State.RETIRED:
            continue
        if system.source is not None and cutover not in planned and (current is None
                                                                     or current.state.value not in ON_CLOUD):
            group.deferred.append(Deferred(key=f"sync:{code}", reason="not on the cloud yet: its backups start "
                                           "after its cutover"))
            continue
        needs = [k for k in (f"cloud:{system.department}", cutover) if k in planned]
        sync = plan_sync(ctx, [code], region.now)
        why = _sync_due(status[code], sync, bool(needs))
        read[code].append([[v.action, v.volume_id] for v in sync.volumes] + [[i.name, i.action] for i in sync.images])
        if why is not None:
            volumes = [v.to_dict() for v in sync.volumes]
            group.parts.append(Part(key=f"sync:{code}", stage="sync", needs=needs, summary=why, detail={
                "volumes": volumes, "images": [{"node": i.node, "image": i.name, "action": i.action}
                                               for i in sync.images]}))
            needs = [f"sync:{code}"]
        row = status[code]
        if row.drill_overdue:
            when = "never drilled" if row.last_drill is None else f"due since {row.drill_due}"
            group.parts.append(Part(key=f"drill:{code}", stage="drill", needs=needs, summary=f"restore drill ({when})",
                                    detail={"backup_node": row.backup_node}))
    group.read["backup"] = fingerprint(read)
    return group


def _sync_due(status: SystemStatus, sync: object, after_change: bool) -> str | None:
    from nxgov.backup.sync import SyncPlan

    assert isinstance(sync, SyncPlan)
    if after_change:
        return "copy after this plan's changes to the system"
    if any(v.action == "resume" for v in sync.volumes):
        return "finish an interrupted copy"
    if any(i.action == "copy" for i in sync.images):
        return "mirror an image that differs at the backup cloud"
    if status.volumes and status.age_s is None:
        return "first copy"
    if status.age_s is not None and status.age_s > status.rpo_s / 2:
        return f"newest copy is {status.age_s / 3600:.1f} h old (RPO {status.rpo_s / 3600:g} h)"
    return None


def run_sync(region: Region, parts: list[Part]) -> list[PartResult]:
    from nxgov.backup.sync import plan_sync
    from nxgov.backup.sync import run_sync as sync_all
    from nxgov.rates import parse_timetable

    ctx = region.backup()
    out = []
    for part in parts:
        done = sync_all(ctx, plan_sync(ctx, [part.subject]), parse_timetable("0"), workers=region.workers,
                        hooks=[AuditHook(region.audit_log, "backup sync")])
        failed = [f"{r.name}: {r.error}" for r in done if r.status is Status.failed]
        skipped = [f"{r.name}: {r.data}" for r in done if r.status is Status.skipped]
        if failed or skipped:
            out.append(PartResult(part.key, "failed", "; ".join([*failed, *skipped])))
        else:
            images = sum(1 for r in done if r.name.startswith("image:"))
            out.append(PartResult(part.key, "changed", f"{len(done) - images} volume(s) copied, {images} image(s) "
                                  "mirrored"))
    return out


def run_drill(region: Region, parts: list[Part]) -> list[PartResult]:
    from nxgov.backup.drill import plan_drill
    from nxgov.backup.drill import run_drill as drill

    ctx = region.backup()
    region.audit_log.preflight()
    out = []
    for part in parts:
        try:
            record = drill(ctx, plan_drill(ctx, part.subject))
        except NxgovError as error:
            out.append(PartResult(part.key, "failed", error.message))
            continue
        region.audit_log.append("backup drill", part.subject, "ok" if record.result == "passed" else "failed",
                                record.to_dict())
        if record.result == "passed":
            out.append(PartResult(part.key, "changed", f"passed, RTO {record.rto_s} s", data={"drill": record.id}))
        else:
            out.append(PartResult(part.key, "failed", record.detail or "failed", data={"drill": record.id}))
    return out
