"""Preflight: what can be known to fail before anything is changed.

Errors (the plan is refused, exit 2): a flavor or image a node does not have, named with the
department, system, node and the names the node does offer; a quota set below what the department's
servers that stay will use (Nova refuses it); a quota above what the node has in all (cores, RAM,
volume gigabytes: :mod:`nxgov.cloud.capacity`), which the node could never grant.
Warnings (shown with the plan): a department whose servers on a node need more than its quota there; a keypair
replaced under servers that keep its old key.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from nxgov.cloud.actual import NodeFacts
from nxgov.cloud.capacity import PLACEMENT_CLASSES, VOLUME_FIELDS, Capacity
from nxgov.cloud.plan import Change
from nxgov.cloud.resources import Resource
from nxgov.errors import InputError


def unknown_names(desired: list[Resource], facts: dict[str, NodeFacts]) -> list[str]:
    """One message per (node, flavor or image) a server asks for and the node does not have."""
    problems: dict[tuple[str, str, str], str] = {}
    for r in desired:
        if r.kind != "server" or r.node not in facts:
            continue
        node = facts[r.node]
        for what, offered in (("flavor", node.flavors), ("image", node.images)):
            name = r.attrs[what]
            if name not in offered and (r.node, what, name) not in problems:
                problems[(r.node, what, name)] = (
                    f"system {r.system} (department {r.department}) asks for {what} {name!r}, which node {r.node} "
                    f"does not have; fix the estate (servers[].{what}) or add it to the node. "
                    f"Node {r.node} offers: {', '.join(sorted(offered)) or 'none'}")
    return list(problems.values())


def raise_unknown(desired: list[Resource], facts: dict[str, NodeFacts]) -> None:
    problems = unknown_names(desired, facts)
    if problems:
        raise InputError(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} before any change: "
                         + "; ".join(problems), "nothing was changed")


def quota_warnings(desired: list[Resource], facts: dict[str, NodeFacts]) -> list[str]:
    """Departments whose declared servers and volumes on a node need more than their quota there."""
    need: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    quotas: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in desired:
        where = (r.department, r.node)
        if r.kind == "server":
            vcpus, ram, _ = facts[r.node].flavors.get(r.attrs["flavor"], (0, 0, 0))
            need[where]["cores"] += vcpus
            need[where]["ram"] += ram
            need[where]["instances"] += 1
        elif r.kind == "volume":
            need[where]["gigabytes"] += int(r.attrs["size"])
            need[where]["volumes"] += 1
        elif r.kind in ("quota_compute", "quota_volume"):
            quotas[where].update(r.attrs)
    warnings = []
    for (dept, node), wanted in sorted(need.items()):
        for field, amount in sorted(wanted.items()):
            limit = quotas[(dept, node)].get(field)
            if limit is not None and limit >= 0 and amount > limit:
                warnings.append(f"department {dept} on node {node}: its servers need {field} {amount} but its quota "
                                f"is {limit}; creating them will fail: raise quotas.{_estate_field(field)} or move "
                                "servers to the other node")
    return warnings


def keypair_warnings(changes: list[Change], actual: list[Resource]) -> list[str]:
    """Keypairs the plan replaces (a new public key) while servers made with the old key stay: Nova copied the key
    into each server when it was made, so they keep accepting the old key only."""
    leaving = {c.actual.key for c in changes if c.action in ("delete", "replace") and c.actual is not None}
    warnings = []
    for c in changes:
        r = c.desired
        if r is None or r.kind != "keypair" or c.action != "replace":
            continue
        kept = sorted(s.name for s in actual if s.kind == "server" and s.node == r.node and s.key not in leaving
                      and s.attrs.get("key_name") == r.name)
        if kept:
            warnings.append(f"keypair {r.name} on node {r.node} gets a new public key, but {len(kept)} server(s) made "
                            f"with the old one keep it ({', '.join(kept[:5])}{' ...' if len(kept) > 5 else ''}): "
                            "nxgov logs in to them with the old key only; put the new key in their "
                            "authorized_keys, or recreate them")
    return warnings


def quotas_below_usage(changes: list[Change], actual: list[Resource], facts: dict[str, NodeFacts]) -> list[str]:
    """Quota changes below what the servers that survive the plan's deletions already use."""
    leaving = {c.actual.key for c in changes if c.action in ("delete", "replace") and c.actual is not None}
    used: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in actual:
        if r.kind == "server" and r.key not in leaving:
            vcpus, ram, _ = facts[r.node].flavors.get(r.attrs["flavor"], (0, 0, 0))
            used[(r.department, r.node)]["cores"] += vcpus
            used[(r.department, r.node)]["ram"] += ram
            used[(r.department, r.node)]["instances"] += 1
    problems = []
    for c in changes:
        if c.desired is None or c.desired.kind != "quota_compute":
            continue
        r = c.desired
        for field, limit in r.attrs.items():
            in_use = used[(r.department, r.node)].get(field, 0)
            if 0 <= limit < in_use:
                problems.append(f"department {r.department} on node {r.node}: quota {field} {limit} is below what "
                                f"its servers use now ({in_use}); node {r.node} cannot grant it: raise "
                                f"quotas.{_estate_field(field)}, or remove servers first (--prune)")
    return problems


class Ask(NamedTuple):
    """A capacity-bound quota value a plan sets: department, node, quota field, amount (RAM in MiB)."""

    department: str
    node: str
    field: str
    amount: int


def capacity_asks(changes: list[Change]) -> list[Ask]:
    """The cores, RAM and gigabytes the plan's quota changes set (every field on create, the changed ones on
    update); unlimited (-1) and 0 ask for nothing."""
    bound = PLACEMENT_CLASSES.keys() | VOLUME_FIELDS
    asks = []
    for c in changes:
        r = c.desired
        if r is None or r.kind not in ("quota_compute", "quota_volume") or c.action not in ("create", "update"):
            continue
        for field in sorted(bound & (r.attrs.keys() if c.action == "create" else c.fields.keys())):
            if r.attrs[field] > 0:
                asks.append(Ask(r.department, r.node, field, r.attrs[field]))
    return asks


def quotas_over_capacity(asks: list[Ask], capacity: dict[str, Capacity]) -> list[str]:
    """Quotas above what their node has in all: one message per (department, node, field)."""
    problems = []
    for ask in asks:
        room = capacity.get(ask.node, {}).get(ask.field)
        if room is None or ask.amount <= room.amount:
            continue
        estate_field = f"quotas.{_estate_field(ask.field)}"
        asked = _gib(ask.amount) if ask.field == "ram" else str(ask.amount)
        problems.append(f"department {ask.department} on node {ask.node}: {estate_field} {asked} is more than the node "
                        f"has in all ({_room(ask.field, room.amount)} = {room.how}); lower {estate_field} for "
                        f"department {ask.department}, or add capacity on node {ask.node}")
    return problems


def _room(field: str, amount: int) -> str:
    """A node's capacity in the estate's unit: GiB for RAM (and the MiB the node counts) and volumes."""
    if field == "ram":
        return f"{_gib(amount)} GiB = {amount} MiB"
    return f"{amount} GiB" if field == "gigabytes" else str(amount)


def _gib(mib: int) -> str:
    return str(mib // 1024) if mib % 1024 == 0 else f"{mib / 1024:.2f}"


def _estate_field(field: str) -> str:
    return {"ram": "ram_gb", "gigabytes": "volumes_gb"}.get(field, field)
