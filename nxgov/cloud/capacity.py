"""What a node has in all, for the quota fields capacity bounds: cores, RAM (MiB) and volume gigabytes.

- cores and RAM come from Placement: for every resource provider with a ``VCPU`` or ``MEMORY_MB``
  inventory, ``(total - reserved) * allocation_ratio``, summed over the providers (what Nova can
  schedule onto the node at most);
- gigabytes come from the Cinder scheduler's pools: ``total_capacity_gb * (1 - reserved_percentage/100)``,
  times ``max_over_subscription_ratio`` on a thin-provisioned pool, summed over the pools. A pool that
  reports its capacity as ``infinite`` or ``unknown`` (or an ``auto`` over-subscription ratio) leaves
  the node's gigabytes unbounded, and so does a scheduler that reports no pool yet (it learns them
  from the volume services' periodic reports). A node with no ``VCPU`` or ``MEMORY_MB`` inventory has
  room 0 for it: it has no compute host.

Only what a plan needs is read: Placement for a node where the plan sets cores or RAM, Cinder for a
node where it sets gigabytes; nodes are read in parallel. A field the node does not bound is absent
from its :data:`Capacity`.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from nxgov.cloud.connect import NodeClient, explain

PLACEMENT_CLASSES = {"cores": "VCPU", "ram": "MEMORY_MB"}
"""Quota field → the Placement resource class that bounds it."""
VOLUME_FIELDS = frozenset({"gigabytes"})
READ_WORKERS = 8


@dataclass(frozen=True)
class Room:
    """How much of one quota field a node has in all (in the quota's unit), and how that was computed."""

    amount: int
    how: str


Capacity = dict[str, Room]
"""Quota field (cores, ram, gigabytes) → the node's room for it; absent when the node does not bound it."""


def read(clients: dict[str, NodeClient], needed: Iterable[tuple[str, str]]) -> dict[str, Capacity]:
    """The capacity of each node named in ``needed`` ((node, quota field) pairs), for those fields only."""
    fields: dict[str, set[str]] = {}
    for node, name in needed:
        fields.setdefault(node, set()).add(name)
    if not fields:
        return {}
    with ThreadPoolExecutor(max_workers=len(fields)) as pool:
        futures = {node: pool.submit(_read_node, clients[node], wanted) for node, wanted in fields.items()}
    return {node: future.result() for node, future in futures.items()}


def _read_node(client: NodeClient, fields: set[str]) -> Capacity:
    try:
        found: Capacity = {}
        if fields & PLACEMENT_CLASSES.keys():
            found.update(from_inventories(_inventories(client.conn)))
        if fields & VOLUME_FIELDS:
            found.update(from_pools([dict(p.capabilities or {}) for p in client.conn.block_storage.backend_pools()]))
        return {name: room for name, room in found.items() if name in fields}
    except Exception as error:
        raise explain(error, client.node, client.entry) from error


def _inventories(conn: Any) -> list[dict[str, dict[str, Any]]]:
    """Each resource provider's inventories, as ``{resource class: {total, reserved, allocation_ratio}}``."""
    providers = list(conn.placement.resource_providers())
    if not providers:
        return []
    with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(providers))) as pool:
        listed = pool.map(lambda rp: list(conn.placement.resource_provider_inventories(rp)), providers)
        return [{inv.resource_class: {"total": inv.total, "reserved": inv.reserved,
                                      "allocation_ratio": inv.allocation_ratio} for inv in inventories}
                for inventories in listed]


def from_inventories(providers: list[dict[str, dict[str, Any]]]) -> Capacity:
    """Cores and RAM from the providers' inventories: ``(total - reserved) * allocation_ratio``, summed."""
    capacity: Capacity = {}
    for field, resource_class in PLACEMENT_CLASSES.items():
        rows = [p[resource_class] for p in providers if resource_class in p]
        if not rows:
            capacity[field] = Room(0, f"no resource provider in Placement has {resource_class} inventory")
            continue
        amount = sum(int((r["total"] - (r.get("reserved") or 0)) * _ratio(r)) for r in rows)
        total = sum(r["total"] for r in rows)
        reserved = sum(r.get("reserved") or 0 for r in rows)
        ratios = ", ".join(f"{x:g}" for x in sorted({_ratio(r) for r in rows}))
        capacity[field] = Room(amount, f"Placement {resource_class} over {_count(len(rows), 'resource provider')}: "
                                       f"({total} total - {reserved} reserved) x allocation ratio {ratios}")
    return capacity


def from_pools(pools: list[dict[str, Any]]) -> Capacity:
    """Gigabytes from the Cinder pools' capabilities; unbounded when a pool cannot say how big it is."""
    if not pools:
        return {}
    amount = 0.0
    parts = []
    for caps in pools:
        total = _number(caps.get("total_capacity_gb"))
        reserved = float(caps.get("reserved_percentage") or 0)
        thin = bool(caps.get("thin_provisioning_support"))
        over = _number(caps.get("max_over_subscription_ratio") or 1) if thin else 1.0
        if total is None or over is None:
            return {}
        amount += total * (1 - reserved / 100) * over
        parts.append(f"{total:g} GiB - {reserved:g}% reserved" + (f", x {over:g} over-subscription" if thin else ""))
    return {"gigabytes": Room(int(amount), f"Cinder total_capacity_gb over {_count(len(pools), 'volume pool')}: "
                                           + " + ".join(f"({part})" for part in parts))}


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _ratio(row: dict[str, Any]) -> float:
    value = row.get("allocation_ratio")
    return 1.0 if value is None else float(value)


def _number(value: Any) -> float | None:
    """A capability as a number; None for Cinder's ``infinite``, ``unknown`` and ``auto``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
