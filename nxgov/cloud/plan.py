"""A plan: the typed changes that take the nodes from what they are to what the estate declares.

Each :class:`Change` is create, update (in place), replace (delete then create; ``reason`` names the
field that forces it and why) or delete (only with ``prune``, only resources carrying nxgov's
marker). A plan records the fingerprint of the actual state it was computed from; applying a saved
plan re-reads the nodes and refuses when that fingerprint has changed. Plans round-trip through JSON
(schema ``nxgov.cloud.plan/1``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nxgov.cloud.resources import CREATE_ORDER, NEVER_DELETED, REPLACE_FIELDS, Resource

SCHEMA = "nxgov.cloud.plan/1"
Action = Literal["create", "update", "replace", "delete"]
_WAVE = {kind: i for i, kinds in enumerate(CREATE_ORDER) for kind in kinds}


class Change(BaseModel):
    """One change to one resource. ``fields`` maps each differing field to [actual, desired]."""

    model_config = ConfigDict(frozen=True)

    action: Action
    reason: str
    fields: dict[str, list[Any]] = {}
    desired: Resource | None = None
    actual: Resource | None = None

    @property
    def resource(self) -> Resource:
        found = self.desired or self.actual
        if found is None:
            raise ValueError("a change needs a desired or an actual resource")
        return found

    @property
    def key(self) -> str:
        return self.resource.key

    @property
    def wave(self) -> int:
        return _WAVE[self.resource.kind]


class Plan(BaseModel):
    """What ``nxgov cloud apply`` will do, and what it was based on."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_: str = Field(SCHEMA, alias="schema")
    estate: str
    created: str
    fingerprint: str = Field(pattern="^[0-9a-f]{64}$")
    """SHA-256 (hex) of the actual state the plan was computed from."""
    prune: bool
    nodes: list[str]
    changes: list[Change]
    warnings: list[str] = []
    unpruned: int = 0
    """Resources nxgov marked that the estate no longer declares, left alone because prune is off."""

    @property
    def empty(self) -> bool:
        return not self.changes

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "update", "replace", "delete"), 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json", by_alias=True), "summary": self.counts()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls.model_validate({k: v for k, v in data.items() if k != "summary"})


def diff(desired: list[Resource], actual: list[Resource], *, prune: bool,
         can_resize: dict[str, bool]) -> tuple[list[Change], int]:
    """The changes from ``actual`` to ``desired``, in apply order, and how many deletions prune would add.

    ``can_resize`` says per node whether Nova can resize a server in place (more than one compute
    host); where it cannot, a flavor change replaces the server.
    """
    have = {r.key: r for r in actual}
    changes: list[Change] = []
    replaced: set[str] = set()
    for want in desired:
        got = have.get(want.key)
        if got is None:
            changes.append(Change(action="create", reason="not found on the node", desired=want))
            continue
        change = _compare(want, got, can_resize.get(want.node, False))
        if change is not None:
            changes.append(change)
            if change.action == "replace":
                replaced.add(want.key)
    changes = _cascade(changes, replaced, desired, have)
    wanted = {r.key for r in desired}
    unpruned = 0
    for got in actual:
        if got.key in wanted or got.kind in NEVER_DELETED or not _marked(got):
            continue
        if prune:
            changes.append(Change(action="delete", reason="not in the estate (--prune)", actual=got))
        else:
            unpruned += 1
    changes.sort(key=lambda c: (c.wave, c.resource.node, c.resource.department, c.resource.kind, c.resource.name))
    return changes, unpruned


def _marked(resource: Resource) -> bool:
    """Resources nxgov created (marked), or that only exist inside an nxgov project (no marker possible)."""
    return bool(resource.attrs.get("tagged", True))


def _compare(want: Resource, got: Resource, can_resize: bool) -> Change | None:
    fields = {k: [got.attrs.get(k), v] for k, v in want.attrs.items() if got.attrs.get(k) != v}
    if not fields:
        return None
    forcing = REPLACE_FIELDS.get(want.kind, {})
    for name in fields:
        if name in forcing:
            return Change(action="replace", reason=f"{name}: {forcing[name]}", fields=fields, desired=want,
                          actual=got)
    if want.kind == "server" and "flavor" in fields and not can_resize:
        return Change(action="replace", reason="flavor: this node has one compute host, so Nova cannot resize "
                      "in place; the server is created again with the new flavor", fields=fields, desired=want,
                      actual=got)
    if want.kind == "volume" and "size" in fields and (got.attrs.get("size") or 0) > want.attrs["size"]:
        return Change(action="replace", reason="size: a volume cannot shrink; it is created again empty",
                      fields=fields, desired=want, actual=got)
    return Change(action="update", reason=", ".join(_describe(k, v) for k, v in fields.items()), fields=fields,
                  desired=want, actual=got)


def _describe(name: str, values: list[Any]) -> str:
    old, new = values
    if isinstance(new, list) and isinstance(old, list):
        added = [x for x in new if x not in old]
        removed = [x for x in old if x not in new]
        parts = [f"+{x}" for x in added] + [f"-{x}" for x in removed]
        return f"{name}: {'; '.join(parts)}"
    if name == "tagged":
        return "mark as managed by nxgov (tag)"
    return f"{name}: {old} → {new}"


def _cascade(changes: list[Change], replaced: set[str], desired: list[Resource],
             have: dict[str, Resource]) -> list[Change]:
    """Dependents of a replaced resource go with it: attachments of a replaced server or volume, servers of
    a replaced server group, router interfaces of a replaced subnet."""
    by_key = {c.key: c for c in changes}
    grew = True
    while grew:
        grew = False
        for want in desired:
            if want.key not in have or want.key in replaced:
                continue
            parents = [f"{want.node}/{kind}/{want.attrs.get(field)}" for kind, field in _PARENTS]
            cause = next((p for p in parents if p in replaced), None)
            if cause is not None:
                by_key[want.key] = Change(action="replace", desired=want, actual=have[want.key],
                                          reason=f"depends on {cause.split('/', 1)[1]}, which is replaced")
                replaced.add(want.key)
                grew = True
    return list(by_key.values())


_PARENTS = (("server", "server"), ("volume", "volume"), ("server_group", "server_group"), ("subnet", "subnet"))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
