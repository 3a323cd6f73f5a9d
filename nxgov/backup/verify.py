"""``backup verify``: read the copies at the backup cloud's store and check them against their manifests.

For each protected volume its latest good copy is checked with every copy it builds on (an incremental copy is only
restorable with its parents): each data object is decompressed and checked against its MD5 and against the SHA-256
of every block in the manifest recorded at sync; the manifest itself must be the one recorded. ``sample`` < 1 reads
that fraction of the data objects (chosen at random each time, so repeated samples cover everything), the
manifests always. The result of each check is written to the catalog (the exporter and ``backup status`` show it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from nxgov.backup import catalog
from nxgov.backup.context import Backup
from nxgov.backup.policy import protected_systems, protected_volumes
from nxgov.backup.store import check_chain
from nxgov.state import StateStore


@dataclass(frozen=True)
class VerifyResult:
    system: str
    node: str
    volume: str
    copy: int | None
    backup_id: str | None
    result: str
    """``ok``, ``corrupt`` or ``missing`` (no good copy to check)."""
    problems: list[str]

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def verify(ctx: Backup, codes: list[str] | None = None, sample: float = 1.0) -> list[VerifyResult]:
    estate = ctx.loaded.estate
    systems = protected_systems(estate, codes)
    pick = random.SystemRandom()
    out = []
    with StateStore.open(ctx.state) as store:
        for volume in protected_volumes(estate, systems):
            last = catalog.last_good(store, volume.system, volume.node, volume.volume)
            if last is None:
                out.append(VerifyResult(volume.system, volume.node, volume.volume, None, None, "missing",
                                        ["no good copy yet: run nxgov backup sync"]))
                continue
            chain = [(c.backup_id or "", c.manifest_sha256 or "") for c in catalog.chain(store, last)]
            damage = check_chain(ctx.store(last.backup_node), chain, sample, lambda _i: pick.random() < sample)
            problems = [f"copy of backup {d.backup_id}: {d.what}" for d in damage]
            result = "corrupt" if damage else "ok"
            catalog.record_verify(store, last, result, sample, "; ".join(problems))
            out.append(VerifyResult(volume.system, volume.node, volume.volume, last.id, last.backup_id, result,
                                    problems))
    return out
