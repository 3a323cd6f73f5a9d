"""``backup sync``: every protected volume copied to the backup cloud, incremental, resumable; images kept identical.

The engine is OpenStack's own, with rsync for the long haul:

1. at the node, a Cinder snapshot of the volume (a consistent point in time, taken while it is in use);
2. a Cinder backup of that snapshot by the node's cinder-backup (POSIX driver) into the node's own backup store:
   incremental after the first (only the 32 KiB blocks whose SHA-256 changed since the parent backup are written),
   full again once the chain's full copy is older than the policy's ``retain`` (so whole old chains can be pruned);
   the snapshot is deleted once the backup is made;
3. the backup's container copied from the node's store to the backup cloud's store with rsync
   (:func:`nxgov.backup.store.transfer`: resumable mid-file, rate-limited, bytes counted);
4. the backup's record exported at the node and imported at the backup cloud (same backup id), whose cinder-backup
   can then restore it there: the copy is ``good`` once imported, with its checksum manifest in the catalog.

Each step is written to the catalog (:mod:`nxgov.backup.catalog`) as it finishes, so a re-run resumes a copy at the
step it was in: a snapshot or backup the node was still making is waited for, a half-copied container is finished.
:func:`plan_sync` says what a run would do, reading the nodes without changing them; :func:`sync_volume` does one
volume (a runner task).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nxgov.backup import catalog
from nxgov.backup.cinder import Cinder, project_id
from nxgov.backup.context import Backup
from nxgov.backup.images import ImageState, compare, mirror
from nxgov.backup.policy import Protected, images, protected_systems, protected_volumes
from nxgov.backup.store import read_manifest, stored_bytes, transfer
from nxgov.errors import NxgovError, OperationError
from nxgov.rates import rate_at
from nxgov.runner import Hook, Outcome, SkipTarget, TargetResult, run
from nxgov.state import StateStore

GIB = 1 << 30


@dataclass(frozen=True)
class VolumeStep:
    """What a sync would do for one protected volume."""

    volume: Protected
    volume_id: str | None
    action: str
    """``full``, ``incremental``, ``resume`` (a killed run's copy is finished) or ``missing`` (no such volume)."""
    reason: str
    resume: catalog.Copy | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.volume.system, "node": self.volume.node, "volume": self.volume.volume,
                "volume_id": self.volume_id, "size_gb": self.volume.size_gb, "to": self.volume.backup_node,
                "action": self.action, "reason": self.reason,
                "resume_from": self.resume.state if self.resume else None}


@dataclass(frozen=True)
class SyncPlan:
    images: list[ImageState]
    volumes: list[VolumeStep]

    @property
    def changes(self) -> bool:
        return any(i.action == "copy" for i in self.images) or any(v.action != "missing" for v in self.volumes)


def plan_sync(ctx: Backup, codes: list[str] | None = None, when: datetime | None = None) -> SyncPlan:
    """What ``backup sync`` would do: read the nodes and the catalog, change nothing."""
    estate = ctx.loaded.estate
    systems = protected_systems(estate, codes)
    volumes = protected_volumes(estate, systems)
    for node in {p.node for p in volumes} | {s.backup.to for s in systems if s.backup}:
        ctx.store(node)
    found = _volume_ids(ctx, volumes)
    steps = []
    with StateStore.open(ctx.state) as store:
        for volume in volumes:
            steps.append(_step(store, volume, found.get(volume.key), when or datetime.now(UTC), ctx))
    mirrored = [compare(ctx.clients[node], ctx.clients[to], name) for node, name, to in images(estate, systems)]
    return SyncPlan(mirrored, steps)


def _volume_ids(ctx: Backup, volumes: list[Protected]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for node, department in dict.fromkeys((v.node, v.department) for v in volumes):
        project = project_id(ctx.clients[node], department)
        listed = ctx.cinder(node).volumes(project) if project else []
        by_name = {v["name"]: v for v in listed}
        for volume in volumes:
            if volume.node == node and volume.department == department and volume.volume in by_name:
                out[volume.key] = by_name[volume.volume]
    return out


def _step(store: StateStore, volume: Protected, found: dict[str, Any] | None, when: datetime,
          ctx: Backup) -> VolumeStep:
    if found is None:
        return VolumeStep(volume, None, "missing", f"node {volume.node} has no volume {volume.volume} in project "
                          f"{volume.department} (nxgov cloud apply makes it)")
    flying = catalog.in_flight(store, volume.system, volume.node, volume.volume)
    if flying is not None:
        return VolumeStep(volume, flying.volume_id, "resume", f"copy {flying.id} was interrupted while "
                          f"{flying.state}: finished from there", flying)
    last = catalog.last_good(store, volume.system, volume.node, volume.volume)
    if last is None:
        return VolumeStep(volume, found["id"], "full", "first copy of this volume")
    if last.volume_id != found["id"]:
        return VolumeStep(volume, found["id"], "full", "the volume was replaced since the last copy")
    if int(found["size"]) * GIB > last.size_bytes:
        return VolumeStep(volume, found["id"], "full", "the volume grew since the last copy")
    head = catalog.chain(store, last)[0]
    system = next(s for s in ctx.loaded.estate.systems if s.code == volume.system)
    assert system.backup is not None
    if when - catalog.parse_time(head.started) > system.backup.retain:
        return VolumeStep(volume, found["id"], "full", "the chain's full copy is older than retain "
                          f"({system.backup.retain}): a new chain lets the old one be pruned")
    return VolumeStep(volume, found["id"], "incremental", f"changes since copy {last.id} ({last.started})")


def run_sync(ctx: Backup, plan: SyncPlan, timetable: list[tuple[int, str]], *, workers: int = 4,
             hooks: Sequence[Hook] = (), note: Callable[[str], None] = lambda _m: None) -> list[TargetResult[Any]]:
    """Carry out ``plan``: the images that differ mirrored (two at once), then every volume copied (``workers`` at
    once); one result per image (``image:<node>/<name>``) and per volume (its key), never raising for one."""
    mirrored = run(lambda i: Outcome(True, {"image": i.name, "hash": mirror(ctx.clients[i.node],
                                                                          ctx.clients[i.backup_node], i.name)
                                            .source_hash}),
                   [i for i in plan.images if i.action != "same"], name="backup images",
                   key=lambda i: f"image:{i.node}/{i.name}", workers=2, hooks=hooks)
    copied = run(lambda step: sync_volume(ctx, step, timetable, note), plan.volumes, name="backup sync",
                 key=lambda step: step.volume.key, workers=workers, hooks=hooks)
    return [*mirrored.results, *copied.results]


def sync_volume(ctx: Backup, step: VolumeStep, timetable: list[tuple[int, str]],
                note: Callable[[str], None] = lambda _m: None) -> Outcome:
    """Make (or finish) one copy of ``step``'s volume; Outcome data is the copy as the catalog has it."""
    volume = step.volume
    if step.action == "missing" or step.volume_id is None:
        raise SkipTarget(step.reason)
    node, backup = ctx.cinder(volume.node), ctx.cinder(volume.backup_node)
    with StateStore.open(ctx.state) as store:
        copy = step.resume or catalog.open_copy(store, volume.system, volume.node, volume.volume, step.volume_id,
                                                volume.backup_node, step.action)
        try:
            copy = _advance(store, copy, ctx, node, backup, timetable, note)
        except Exception as error:
            with contextlib.suppress(NxgovError):
                _fail_if_errored(store, catalog.copy_by_id(store, copy.id) or copy, node, error)
            raise
    return Outcome(True, copy.to_dict())


def _advance(store: StateStore, copy: catalog.Copy, ctx: Backup, node: Cinder, backup: Cinder,
             timetable: list[tuple[int, str]], note: Callable[[str], None]) -> catalog.Copy:
    if copy.state == "snapshotting":
        snapshot = copy.snapshot_id
        if snapshot is None:
            snapshot = node.create_snapshot(copy.volume_id, f"nxgov-backup-{copy.id}")
            copy = catalog.update(store, copy.id, snapshot_id=snapshot)
        node.wait("snapshots", snapshot, "available", ("creating",))
        copy = catalog.update(store, copy.id, state="backing-up")
        note(f"{copy.key}: snapshot {snapshot} taken")
    if copy.state == "backing-up":
        backup_id = copy.backup_id
        if backup_id is None:
            assert copy.snapshot_id is not None
            backup_id = node.create_backup(copy.volume_id, copy.snapshot_id, f"nxgov-{copy.system}-{copy.volume}",
                                           incremental=copy.kind == "incremental")
            copy = catalog.update(store, copy.id, backup_id=backup_id)
        made = node.wait("backups", backup_id, "available", ("creating",))
        if copy.snapshot_id:
            node.delete("snapshots", copy.snapshot_id)
        manifest = read_manifest(ctx.store(copy.node), backup_id)
        copy = catalog.update(store, copy.id, state="copying", container=made.get("container"),
                              parent_id=manifest.parent_id, size_bytes=int(made["size"]) * GIB)
        note(f"{copy.key}: {copy.kind} backup {backup_id} made at {copy.node}")
    if copy.state == "copying":
        assert copy.backup_id is not None
        rate = rate_at(timetable, datetime.now(UTC))
        sent = transfer(ctx.store(copy.node), ctx.store(copy.backup_node), copy.backup_id, rate)
        copy = catalog.update(store, copy.id, state="importing", bytes_sent=copy.bytes_sent + sent)
        note(f"{copy.key}: {sent} bytes sent to {copy.backup_node}")
    if copy.state == "importing":
        assert copy.backup_id is not None
        if backup.backup(copy.backup_id) is None:
            backup.import_record(node.export_record(copy.backup_id))
        backup.wait("backups", copy.backup_id, "available", ("creating",))
        there = ctx.store(copy.backup_node)
        manifest = read_manifest(there, copy.backup_id)
        here = read_manifest(ctx.store(copy.node), copy.backup_id)
        if manifest.sha256file_digest != here.sha256file_digest:
            raise OperationError(f"{copy.key}: the manifest of backup {copy.backup_id} at {copy.backup_node} differs "
                                 f"from the one at {copy.node}", "run backup sync again: the copy is re-checked")
        copy = catalog.update(store, copy.id, state="good", finished=catalog.now(),
                              manifest={"chunk_size": manifest.chunk_size, "sha256s": manifest.blocks},
                              manifest_sha256=manifest.sha256file_digest,
                              stored_bytes=stored_bytes(there, copy.backup_id))
    return copy


def _fail_if_errored(store: StateStore, copy: catalog.Copy, node: Cinder, error: Exception) -> None:
    """A snapshot or backup the node left in ``error`` cannot be resumed: the copy is failed (with the node's
    reason) and what it made is deleted, so the next run starts this volume's copy afresh. Anything else (the
    backup cloud unreachable, a copy cut off) keeps the copy in flight, to be resumed."""
    kind, rid = {"snapshotting": ("snapshots", copy.snapshot_id), "backing-up": ("backups", copy.backup_id)}.get(
        copy.state, ("", None))
    if rid is None:
        return
    found = node.snapshot(rid) if kind == "snapshots" else node.backup(rid)
    if found is None or found.get("status") != "error":
        return
    catalog.update(store, copy.id, state="failed", finished=catalog.now(),
                   detail=str(found.get("fail_reason") or error))
    for leftover_kind, leftover in (("backups", copy.backup_id), ("snapshots", copy.snapshot_id)):
        if leftover:
            node.delete(leftover_kind, leftover)
