"""The combined plan as data: its parts, the stages they run in, and the ``nxgov.plan/1`` document.

A part is one thing one group will do (provision a department, allocate the IPv6 plan, push one device, migrate
one system one lifecycle step, sync or drill one system), with the parts it needs. Parts run stage by stage in
:data:`STAGES` order, which is the dependency order: projects and networks before migrations onto them, the IPv6
plan before the pushes, the pushes before the verify, cutovers before the backups of what they moved.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field

SCHEMA = "nxgov.plan/1"
Group = Literal["cloud", "net", "migrate", "backup"]
Stage = Literal["cloud", "ipv6", "push", "verify", "assess", "replicate", "test", "cutover", "sync", "drill"]
STAGES: tuple[Stage, ...] = get_args(Stage)
"""The order parts run in; a part only ever needs parts of earlier stages."""
GROUP_OF: dict[Stage, Group] = {"cloud": "cloud", "ipv6": "net", "push": "net", "verify": "net", "assess": "migrate",
                              "replicate": "migrate", "test": "migrate", "cutover": "migrate", "sync": "backup",
                              "drill": "backup"}


class Part(BaseModel):
    """One step of the plan. ``key`` is ``<stage>:<subject>`` (``cloud:labdrc``, ``push:frr-640000``)."""

    model_config = ConfigDict(frozen=True)

    key: str
    stage: Stage
    summary: str
    """One line for people: what will change."""
    needs: list[str] = []
    """Keys of the parts that must succeed first (in this plan)."""
    detail: dict[str, Any] = {}
    """What the group will do, in its own words (cloud changes, a device's diff, volumes to copy)."""
    changes: bool = True
    """False for a check (the verify after the pushes): it runs, but changes nothing."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def group(self) -> Group:
        """The group that makes it: cloud, net, migrate or backup."""
        return GROUP_OF[self.stage]

    @property
    def subject(self) -> str:
        return self.key.split(":", 1)[1] if ":" in self.key else self.key


class Deferred(BaseModel):
    """Something due that this plan leaves for later, and why (a wave's window closed, a system not cut over)."""

    model_config = ConfigDict(frozen=True)

    key: str
    reason: str


class RegionPlan(BaseModel):
    """Every group's part of the change, in stage order, and what the plan was made from."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_: str = Field(SCHEMA, alias="schema")
    estate: str
    created: str
    options: dict[str, Any]
    """What the plan was asked for (``migrate``, ``prune``): applying it uses the same."""
    parts: list[Part]
    deferred: list[Deferred] = []
    warnings: list[str] = []
    read: dict[str, str]
    """What each group read, as fingerprints: the nodes' state, the stored IPv6 plan, the devices, the lifecycle
    and backup catalog rows. A saved plan is refused when any of them differs at apply time."""

    @property
    def empty(self) -> bool:
        return not any(p.changes for p in self.parts)

    def counts(self) -> dict[str, int]:
        counts = {stage: 0 for stage in STAGES}
        for part in self.parts:
            counts[part.stage] += 1
        return {stage: n for stage, n in counts.items() if n}

    def to_json(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json", by_alias=True), "summary": self.counts(), "empty": self.empty}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegionPlan:
        return cls.model_validate({k: v for k, v in data.items() if k not in ("summary", "empty")})


def fingerprint(value: Any) -> str:
    """SHA-256 (hex) of ``value`` as canonical JSON."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def differences(saved: RegionPlan, fresh: RegionPlan) -> list[str]:
    """What differs between a saved plan and the one made now, for the refusal: the fingerprints, then the parts."""
    out = [f"{name} (read {saved.read.get(name, '-')[:12]}, now {fresh.read.get(name, '-')[:12]})"
           for name in sorted(set(saved.read) | set(fresh.read)) if saved.read.get(name) != fresh.read.get(name)]
    before = {p.key: p for p in saved.parts}
    after = {p.key: p for p in fresh.parts}
    out += [f"part {key} no longer planned" for key in before if key not in after]
    out += [f"part {key} newly due" for key in after if key not in before]
    out += [f"part {key} changed" for key in before if key in after and before[key] != after[key]]
    return out
