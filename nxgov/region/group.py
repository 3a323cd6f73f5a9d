"""What each group's planner gives the combined plan, and what each stage's runner gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nxgov.region.parts import Deferred, Part

Result = Literal["ok", "changed", "failed", "skipped"]


@dataclass
class GroupPlan:
    """One group's parts, what it leaves for later, its warnings, and the fingerprints of what it read."""

    parts: list[Part] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read: dict[str, str] = field(default_factory=dict)
    carry: Any = None
    """What the group's runner needs from planning, kept in memory (the cloud plan's actual state)."""


@dataclass(frozen=True)
class PartResult:
    key: str
    result: Result
    detail: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.result in ("failed", "skipped")

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.key, "result": self.result, "detail": self.detail, "seconds": round(self.seconds, 1),
                **({"data": self.data} if self.data else {})}
