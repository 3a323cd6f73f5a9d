"""``backup prune``: copies older than the policy's ``retain`` removed, at the backup cloud and at the node.

Never the last good copy of a volume, and never a copy a kept copy builds on (an incremental copy needs its whole
chain back to its full copy): whole chains go once nothing kept depends on them, which is why a sync starts a new
full copy once the chain's full copy is older than ``retain``. Children are deleted before their parents (Cinder
refuses otherwise). The catalog keeps the pruned rows (state ``pruned``) as history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from nxgov.backup import catalog
from nxgov.backup.context import Backup
from nxgov.backup.policy import protected_systems, protected_volumes
from nxgov.estate.model import Estate
from nxgov.runner import Outcome
from nxgov.state import StateStore


@dataclass(frozen=True)
class Expired:
    copy: catalog.Copy
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"copy": self.copy.id, "system": self.copy.system, "node": self.copy.node,
                "volume": self.copy.volume, "backup_id": self.copy.backup_id, "started": self.copy.started,
                "kind": self.copy.kind, "reason": self.reason}


def expired(estate: Estate, store: StateStore, codes: list[str] | None = None,
            when: datetime | None = None) -> list[Expired]:
    """The copies prune would remove, newest first within each volume (the order they are deleted in)."""
    moment = when or datetime.now(UTC)
    systems = protected_systems(estate, codes)
    retain = {s.code: s.backup.retain for s in systems if s.backup}
    out = []
    for volume in protected_volumes(estate, systems):
        goods = [c for c in catalog.copies(store, volume.system, ("good",))
                 if c.node == volume.node and c.volume == volume.volume]
        if not goods:
            continue
        keep = {goods[-1].id}
        for copy in goods:
            if moment - catalog.parse_time(copy.started) <= retain[volume.system]:
                keep.add(copy.id)
        needed = {c.id for kept in goods if kept.id in keep for c in catalog.chain(store, kept)}
        for copy in reversed(goods):
            if copy.id not in needed:
                out.append(Expired(copy, f"older than retain ({retain[volume.system]}) and no kept copy builds on it"))
    return out


def prune_copy(ctx: Backup, item: Expired) -> Outcome:
    """Delete one copy at the backup cloud, then at the node; mark it pruned."""
    copy = item.copy
    assert copy.backup_id is not None
    for node in (copy.backup_node, copy.node):
        cinder = ctx.cinder(node)
        if cinder.backup(copy.backup_id) is not None:
            cinder.delete("backups", copy.backup_id, force=True)
    with StateStore.open(ctx.state) as store:
        catalog.update(store, copy.id, state="pruned", detail=f"pruned {catalog.now()}: {item.reason}")
    return Outcome(True, item.to_dict())
