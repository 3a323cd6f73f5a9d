"""``nxgov plan``: one plan across the groups, in dependency order, each part saying which group makes it.

Each group plans with its own planner (the cloud's, the IPv6 plan's, ``net push --dry-run``'s diffs, the
migration's waves and lifecycle, the backup catalog's RPO and drill dates); nothing is changed. The plan records
fingerprints of everything it read, so a saved plan is applied exactly or refused (:func:`refuse_changed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nxgov.errors import InputError
from nxgov.region import backupparts, cloudparts, migrateparts, netparts
from nxgov.region.context import Region
from nxgov.region.group import GroupPlan
from nxgov.region.parts import SCHEMA, STAGES, RegionPlan, differences
from nxgov.state import StateStore


@dataclass
class Planning:
    """The plan and what its runners need from planning (kept in memory, never saved)."""

    plan: RegionPlan
    carry: dict[str, Any]


def make_plan(region: Region, *, migrate: Sequence[str] = ()) -> Planning:
    """The region's plan now. ``migrate``: systems to migrate now whatever their wave's window (default: the
    systems whose wave's window is open)."""
    with StateStore.open(region.state):  # a damaged store is bad input, said before any node or device is read
        pass
    groups: dict[str, GroupPlan] = {"cloud": cloudparts.plan(region), "net": netparts.plan(region)}
    cloud_keys = {p.key for p in groups["cloud"].parts}
    groups["migrate"] = migrateparts.plan(region, migrate, cloud_keys)
    groups["backup"] = backupparts.plan(region, cloud_keys | {p.key for p in groups["migrate"].parts})
    parts = sorted((p for g in groups.values() for p in g.parts), key=lambda p: STAGES.index(p.stage))
    plan = RegionPlan(estate=region.loaded.estate.estate, created=region.now.isoformat(timespec="seconds"),
                      options={"migrate": sorted(migrate)}, parts=parts,
                      deferred=[d for g in groups.values() for d in g.deferred],
                      warnings=[w for g in groups.values() for w in g.warnings],
                      read={k: v for g in groups.values() for k, v in g.read.items()})
    return Planning(plan, {"cloud": groups["cloud"].carry})


def check_estate(saved: RegionPlan, estate: str, path: Path) -> None:
    """InputError unless ``saved`` (read from ``path``) was made for ``estate``: before anything is read."""
    if saved.estate != estate:
        raise InputError(f"{path} was made for the estate {saved.estate!r}, not {estate!r}; nothing was changed",
                         "apply it with its own estate (--estate), or make a plan for this one: nxgov plan --out PLAN")


def refuse_changed(saved: RegionPlan, fresh: RegionPlan, path: Path) -> None:
    """InputError (nothing changed) unless ``fresh``, made now, is what ``saved`` at ``path`` says."""
    check_estate(saved, fresh.estate, path)
    changed = differences(saved, fresh)
    if changed:
        raise InputError(f"the region changed since {path} was made ({saved.created}): {'; '.join(changed[:8])}"
                         + (f"; and {len(changed) - 8} more" if len(changed) > 8 else "") + "; nothing was changed",
                         "run `nxgov plan --out PLAN` again, review it, and apply that")


def read_plan(path: Path) -> RegionPlan:
    """A plan saved by ``nxgov plan --out``; InputError naming the file and what is wrong with it."""
    from nxgov.savedplans import read_saved

    return read_saved(path, SCHEMA, RegionPlan, "an nxgov region plan (a `nxgov cloud plan --out` file is applied by "
                      "`nxgov cloud apply`)", "nxgov plan --out")
