"""The plan for other tools: NetBox prefix import CSV, the whole plan as JSON, each pool's use."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from nxgov.network.ipv6layout import PREFIX_KINDS, Layout
from nxgov.network.ipv6plan import Allocation


def export_csv(allocations: Iterable[Allocation], layout: Layout) -> str:
    """NetBox prefix import CSV (``prefix,status,description``): the pools as containers, then every prefix.

    Status is NetBox's: ``container`` for pools, ``active``, or ``reserved`` for a removed owner's block.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["prefix", "status", "description"])
    for pool in layout.pools.values():
        if pool.length and pool.name != "region":  # the region's block lies in the city pool's slice
            writer.writerow([pool.span, "container", f"nxgov {pool.name} pool ({pool.unit})"])
    for allocation in allocations:
        if allocation.kind in PREFIX_KINDS:
            writer.writerow([allocation.value, allocation.state, allocation.description])
    return out.getvalue()


def export_json(estate: str, layout: Layout, allocations: Sequence[Allocation]) -> dict[str, Any]:
    """The whole plan: pools (with their use) and allocations."""
    return {"estate": estate, "prefix": str(layout.prefix), "pools": pool_usage(layout, allocations),
            "allocations": [a.as_dict() for a in allocations]}


def pool_usage(layout: Layout, allocations: Iterable[Allocation]) -> list[dict[str, Any]]:
    """Each pool with its span, block size, capacity and how many slots are active or reserved."""
    active: dict[str, int] = {}
    reserved: dict[str, int] = {}
    for allocation in allocations:
        counter = active if allocation.state == "active" else reserved
        counter[allocation.pool] = counter.get(allocation.pool, 0) + 1
    return [{"pool": p.name, "kind": p.kind, "span": p.span, "block": f"/{p.length}" if p.length else "",
             "capacity": p.capacity, "active": active.get(p.name, 0), "reserved": reserved.get(p.name, 0)}
            for p in layout.pools.values()]
