"""What the estate protects: every data volume of every system with a ``backup`` policy, on each node it runs on.

Volumes are found by the names the cloud module gives them (:mod:`nxgov.cloud.naming`: ``<server>-data<k>``), on
each node :func:`nxgov.cloud.desired.placements` puts the server (an active-standby system's standby copies too:
each node's volumes are copied on their own). A system with a policy but no data volume is protected by its images
alone (kept identical at the backup cloud) and has no RPO to meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from nxgov.cloud import desired, naming
from nxgov.errors import InputError
from nxgov.estate.errors import suggest
from nxgov.estate.model import Estate, System

DRILL_PERIOD = {"weekly": timedelta(days=7), "monthly": timedelta(days=31), "quarterly": timedelta(days=92)}
"""How long after a passed drill the next one is due, per the estate's ``backup.drill``."""


@dataclass(frozen=True)
class Protected:
    """One data volume of a protected system on one node."""

    system: str
    department: str
    node: str
    server: str
    volume: str
    size_gb: int
    backup_node: str
    image: str

    @property
    def key(self) -> str:
        return f"{self.system}/{self.node}/{self.volume}"


def protected_systems(estate: Estate, codes: list[str] | None = None) -> list[System]:
    """The systems with a backup policy (those of ``codes`` when given: InputError for an unknown code or one
    without a policy)."""
    with_policy = [s for s in estate.systems if s.backup is not None]
    if not codes:
        return with_policy
    known = {s.code: s for s in estate.systems}
    chosen = []
    for code in dict.fromkeys(codes):
        system = known.get(code)
        if system is None:
            raise InputError(f"estate {estate.estate} declares no system {code!r}",
                             suggest(code, known) or f"systems: {', '.join(list(known)[:8]) or 'none'}")
        if system.backup is None:
            raise InputError(f"system {code} has no backup policy, so nxgov does not back it up",
                             f"add backup: {{rpo: 4h, retain: 14d, drill: monthly}} to system {code} in the estate")
        chosen.append(system)
    return chosen


def protected_volumes(estate: Estate, systems: list[System]) -> list[Protected]:
    """Every data volume of ``systems``, in estate order; InputError when a policy names a node that is not a
    backup node."""
    codes = {s.code for s in systems}
    out = []
    for system in systems:
        assert system.backup is not None
        target = system.backup.to
        node = estate.clouds.get(target)
        if node is None or node.role != "backup":
            backups = [n for n, c in estate.clouds.items() if c.role == "backup"]
            raise InputError(f"system {system.code}: backup.to {target!r} is not a backup node of the estate",
                             f"use one of: {', '.join(backups) or 'none (add a cloud with role: backup)'}")
    for placed in desired.placements(estate):
        if placed.system.code not in codes:
            continue
        assert placed.system.backup is not None
        for k, size in enumerate(placed.server.volumes_gb, start=1):
            out.append(Protected(placed.system.code, placed.system.department, placed.node, placed.name,
                                 naming.volume(placed.name, k), size, placed.system.backup.to, placed.server.image))
    return out


def images(estate: Estate, systems: list[System]) -> list[tuple[str, str, str]]:
    """``(node, image, backup node)`` for every image the systems' servers boot from: once per image and backup
    node (the backup cloud holds one image of a name), taken from the first node that uses it."""
    codes = {s.code for s in systems}
    found: dict[tuple[str, str], str] = {}
    for p in desired.placements(estate):
        if p.system.code in codes and p.system.backup is not None:
            found.setdefault((p.server.image, p.system.backup.to), p.node)
    return [(node, image, to) for (image, to), node in found.items()]
