"""Benchmark of ``nxgov cloud`` against the rehearsal lab: apply from empty and a no-op re-plan, with the API
calls each makes, for the lab-shaped estate scaled to N departments.

    .venv/bin/python bench/cloud.py --departments 50 [--keep]

Each department gets one network (IPv4 + IPv6), a router, a baseline security group and quotas on both
nodes (an active-active system); ``--servers`` adds one m1.tiny server per department. The estate has its
own name, so the lab estate and tests are never touched; without ``--keep`` everything is pruned at the end.

Not done yet: the same work through Ansible's openstack.cloud collection and a python-openstackclient
script (bench/.venv-peers); see the report of issue 4.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

LAB_CLOUDS = "/var/lib/nxgov/lab/clouds.yaml"


def scaled_estate(name: str, departments: int, servers: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "estate": name,
        "clouds": {"yinchuan": {"cloud": "nxlab-yinchuan", "role": "primary", "region": "yinchuan"},
                   "zhongwei": {"cloud": "nxlab-zhongwei", "role": "primary", "region": "zhongwei"},
                   "backup": {"cloud": "nxlab-backup", "role": "backup", "region": "backup"}},
        "cloud_ipv6": "2001:db8:6500::/40", "operations": ["2001:db8:ffff:1::/64"],
        "departments": [], "systems": []}
    for i in range(departments):
        code = f"{name}{i:03d}"
        doc["departments"].append({"code": code, "name": f"bench {i}",
                                   "quotas": {"cores": 4, "ram_gb": 8, "instances": 4, "volumes_gb": 10},
                                   "networks": [{"name": "app", "ipv4": f"10.{64 + i // 256}.{i % 256}.0/24"}]})
        doc["systems"].append({"code": f"{code}-web", "department": code, "level": 2,
                               "placement": {"mode": "active-active"},
                               "servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-lab"}]
                               if servers else []})
    return doc


def _clients(path: Path) -> tuple[Any, Any]:
    from nxgov.cloud.connect import node_clients
    from nxgov.cloud.planner import managed_nodes
    from nxgov.estate import load_estate

    estate = load_estate(path).estate
    return estate, node_clients({n: estate.clouds[n] for n in managed_nodes(estate)}, path.parent)


def _calls(clients: dict[str, Any]) -> int:
    return sum(c.stats.calls for c in clients.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--servers", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", LAB_CLOUDS)
    from nxgov.cloud.apply import apply
    from nxgov.cloud.planner import make_plan

    name = "b" + secrets.token_hex(2)
    path = Path(tempfile.mkdtemp()) / "estate.yaml"
    path.write_text(yaml.safe_dump(scaled_estate(name, args.departments, args.servers)))
    estate, clients = _clients(path)
    started = time.monotonic()
    planned = make_plan(estate, clients)
    result = apply(planned.plan, clients, planned.actual, per_node=args.workers)
    print(f"nxgov apply from empty: {len(planned.plan.changes)} changes, {time.monotonic() - started:.1f} s, "
          f"{_calls(clients)} API calls, ok={result.ok}")
    for attempt in (1, 2):
        estate, clients = _clients(path)
        started = time.monotonic()
        replan = make_plan(estate, clients)
        print(f"nxgov no-op re-plan #{attempt}: {len(replan.plan.changes)} changes, "
              f"{time.monotonic() - started:.2f} s, {_calls(clients)} API calls "
              f"({', '.join(f'{n}: {c.stats.calls}' for n, c in clients.items())})")
    if not args.keep:
        doc = scaled_estate(name, 0, False)
        path.write_text(yaml.safe_dump(doc))
        estate, clients = _clients(path)
        pruned = make_plan(estate, clients, prune=True)
        apply(pruned.plan, clients, pruned.actual, per_node=args.workers)
        print(f"pruned {len(pruned.plan.changes)} resources")


if __name__ == "__main__":
    main()
