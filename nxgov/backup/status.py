"""Where each protected system stands: last good copy against its RPO, last verify, last drill and when the next
one is due. One SDK call (:func:`backup_status`) for ``nxgov backup status`` and the exporter; it reads only the
estate and the catalog (no node is contacted), so it is cheap to call at every scrape.

A system's recovery point is the oldest of its volumes' last good copies (a restore brings every volume back to
its own copy; the system is only as recent as its oldest one), taken at the snapshot's time. A system with a
policy but no data volume has nothing to lose beyond its images: no RPO applies to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from nxgov.backup import catalog
from nxgov.backup.policy import DRILL_PERIOD, protected_systems, protected_volumes
from nxgov.estate.model import Estate
from nxgov.state import StateStore


@dataclass(frozen=True)
class SystemStatus:
    system: str
    department: str
    backup_node: str
    volumes: int
    rpo_s: float
    retain_s: float
    last_good: str | None
    """The recovery point: snapshot time of the oldest of the volumes' last good copies (None: a volume has none)."""
    age_s: float | None
    rpo_met: bool | None
    """None when the system has no data volume (nothing to copy)."""
    breached_by_s: float | None
    last_verify: str | None
    last_verify_result: str | None
    last_drill: str | None
    last_drill_result: str | None
    drill_due: str
    drill_overdue: bool

    @property
    def attention(self) -> bool:
        return self.rpo_met is False or self.drill_overdue or self.last_verify_result == "corrupt"

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "attention": self.attention}


def backup_status(estate: Estate, store: StateStore, when: datetime | None = None) -> list[SystemStatus]:
    """Per protected system, in estate order."""
    moment = when or datetime.now(UTC)
    systems = protected_systems(estate)
    volumes = protected_volumes(estate, systems)
    out = []
    for system in systems:
        policy = system.backup
        assert policy is not None
        mine = [v for v in volumes if v.system == system.code]
        goods = [catalog.last_good(store, v.system, v.node, v.volume) for v in mine]
        point = None if not mine or any(g is None for g in goods) else min(g.started for g in goods if g)
        age = (moment - catalog.parse_time(point)).total_seconds() if point else None
        met: bool | None = None if not mine else (age is not None and age <= policy.rpo.total_seconds())
        breached = None if age is None or met else age - policy.rpo.total_seconds()
        checks = catalog.verifies(store, system.code)
        drills = catalog.drills(store, system.code)
        passed = [d for d in drills if d.result == "passed" and d.ended]
        due = catalog.parse_time(passed[-1].ended) + DRILL_PERIOD[policy.drill] if passed and passed[-1].ended \
            else None
        finished = [d for d in drills if d.result != "running"]
        out.append(SystemStatus(
            system.code, system.department, policy.to, len(mine), policy.rpo.total_seconds(),
            policy.retain.total_seconds(), point, age, met, breached,
            checks[-1].checked if checks else None, checks[-1].result if checks else None,
            finished[-1].started if finished else None, finished[-1].result if finished else None,
            (due or moment).isoformat(timespec="seconds"), due is None or due <= moment))
    return out
