"""Drift: how the nodes differ from the estate, seen from the operator's side rather than as a plan.

- orphans: resources inside nxgov's projects that the estate does not declare (servers, volumes,
  networks, ...: candidates for zombie-system clean-up), whether nxgov made them (marked) or someone
  made them by hand (unmarked; ``--prune`` never deletes those);
- changed: declared resources that differ from the estate, quotas changed by hand among them;
- missing: declared resources that are not there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from nxgov.cloud import desired
from nxgov.cloud.actual import Actual
from nxgov.cloud.plan import diff
from nxgov.cloud.resources import NEVER_DELETED
from nxgov.estate.model import Estate

SCHEMA = "nxgov.cloud.drift/1"


class DriftItem(BaseModel):
    kind: str
    node: str
    department: str
    name: str
    marked: bool = True
    detail: str = ""


class Drift(BaseModel):
    orphans: list[DriftItem] = []
    changed: list[DriftItem] = []
    missing: list[DriftItem] = []

    @property
    def found(self) -> bool:
        return bool(self.orphans or self.changed or self.missing)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "drift": self.found, **self.model_dump(mode="json")}


def find(estate: Estate, actual: Actual) -> Drift:
    wanted = desired.build(estate, actual.context).resources
    wanted_keys = {r.key for r in wanted}
    drift = Drift()
    for r in actual.resources:
        if r.key not in wanted_keys and r.kind not in NEVER_DELETED:
            marked = bool(r.attrs.get("tagged", True))
            drift.orphans.append(DriftItem(kind=r.kind, node=r.node, department=r.department, name=r.name,
                                           marked=marked, detail="made by nxgov, no longer declared" if marked
                                           else "not made by nxgov (by hand?)"))
    changes, _ = diff(wanted, actual.resources, prune=False, can_resize=actual.can_resize())
    for c in changes:
        if c.action == "replace" and not c.fields:
            continue
        r = c.resource
        item = DriftItem(kind=r.kind, node=r.node, department=r.department, name=r.name, detail=c.reason)
        if c.action == "create":
            drift.missing.append(item)
        else:
            if r.kind.startswith("quota_"):
                item.detail = "quota changed by hand: " + ", ".join(f"{k} {v[0]} (estate: {v[1]})"
                                                                    for k, v in c.fields.items())
            drift.changed.append(item)
    return drift
