"""Benchmark of ``nxgov cloud`` against the rehearsal lab: apply from empty and a no-op re-plan, with the API
calls each makes, for the lab-shaped estate scaled to N departments.

    .venv/bin/python bench/cloud.py --departments 50 [--keep]
    .venv/bin/python bench/cloud.py --departments 1 --peers    # about 5 minutes on 2 cores (2: about 12)

Each department gets one network (IPv4 + IPv6), a router, a baseline security group and quotas on both
nodes (an active-active system); ``--servers`` adds one m1.tiny server per department. The estate has its
own name, so the lab estate and tests are never touched; without ``--keep`` everything is pruned at the end.
The no-op re-plan is timed first with a new Keystone token (a fresh CI container) and then ``--replans`` times
with a cached one (an operator's next run; see nxgov/cloud/tokens.py).

``--peers`` does the same work (without servers) twice, from empty and again as a no-op, with Ansible's
openstack.cloud collection (bench/peers/openstack_cloud.yml) and with a python-openstackclient script
(bench/peers/openstackclient.sh), both from bench/.venv-peers (``pip install ansible python-openstackclient``
there), in departments of their own. Everyone, nxgov included, then talks to the lab through the counting
proxy of tests/cloud/proxy.py (no faults), which gives the API calls of each; what the peers made is deleted
at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

LAB_CLOUDS = "/var/lib/nxgov/lab/clouds.yaml"
ROOT = Path(__file__).resolve().parent.parent
PEERS_BIN = ROOT / "bench" / ".venv-peers" / "bin"
ENTRIES = {"nxlab-yinchuan": "yinchuan", "nxlab-zhongwei": "zhongwei"}


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


def _clients(path: Path, tokens: Path | None = None) -> tuple[Any, Any]:
    """The estate and its node clients; ``tokens`` is the token cache (None: a new token every run)."""
    from nxgov.cloud.connect import node_clients
    from nxgov.cloud.planner import managed_nodes
    from nxgov.cloud.tokens import Tokens
    from nxgov.estate import load_estate

    estate = load_estate(path).estate
    return estate, node_clients({n: estate.clouds[n] for n in managed_nodes(estate)}, path.parent,
                                tokens=Tokens(tokens))


def _calls(clients: dict[str, Any]) -> int:
    return sum(c.stats.calls for c in clients.values())


def peer_departments(prefix: str, count: int) -> list[dict[str, str]]:
    return [{"code": f"{prefix}{i:03d}", "ipv4": f"10.{64 + i // 256}.{i % 256}.0/24",
             "ipv6": f"fd00:{i:x}:1::/64"} for i in range(count)]


def run_ansible(clouds: Path, departments: list[dict[str, str]], work: Path) -> None:
    variables = work / "ansible-vars.json"
    variables.write_text(json.dumps({"clouds": list(ENTRIES), "identity": next(iter(ENTRIES)), "admin": "admin",
                                     "departments": departments}))
    subprocess.run([str(PEERS_BIN / "ansible-playbook"), "-i", "localhost,", "-e", f"@{variables}",
                    str(ROOT / "bench" / "peers" / "openstack_cloud.yml")], check=True, stdout=subprocess.DEVNULL,
                   env={**_peer_env(clouds), "ANSIBLE_PYTHON_INTERPRETER": str(PEERS_BIN / "python"),
                        "PYTHONPATH": str(ROOT / "bench" / "peers" / "sdkcompat")})


def run_openstackclient(clouds: Path, departments: list[dict[str, str]]) -> None:
    codes = " ".join(f"{d['code']},{d['ipv4']},{d['ipv6']}" for d in departments)
    subprocess.run(["bash", str(ROOT / "bench" / "peers" / "openstackclient.sh"), next(iter(ENTRIES)),
                    " ".join(ENTRIES), "admin", codes], check=True, stdout=subprocess.DEVNULL, env=_peer_env(clouds))


def _peer_env(clouds: Path) -> dict[str, str]:
    return {**os.environ, "OS_CLIENT_CONFIG_FILE": str(clouds), "PATH": f"{PEERS_BIN}:{os.environ['PATH']}"}


def delete_peer_work(clouds: Path, codes: set[str]) -> int:
    """Delete the projects named ``codes`` and everything a peer made in them on both nodes; how many resources."""
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    deleted = 0
    conns: list[Any] = [Connection(config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
        cloud=entry, region_name=region)) for entry, region in ENTRIES.items()]
    ids = {p.id for p in conns[0].identity.projects() if p.name in codes}
    for conn in conns:
        net = conn.network
        for router in [r for r in net.routers() if r.project_id in ids]:
            for port in net.ports(device_id=router.id, device_owner="network:router_interface"):
                net.remove_interface_from_router(router, port_id=port.id)
            net.delete_router(router)
            deleted += 1
        for group in [g for g in net.security_groups() if g.project_id in ids]:
            if group.name != "default":
                deleted += 1
            net.delete_security_group(group)
        for network in [n for n in net.networks() if n.project_id in ids]:
            deleted += 1 + len(network.subnet_ids or [])
            net.delete_network(network)
        for pid in ids:
            net.delete_quota(pid)
            conn.compute.revert_quota_set(pid)
            conn.block_storage.revert_quota_set(pid)
    for pid in ids:
        conns[0].identity.delete_project(pid)
        deleted += 1
    for conn in conns:
        conn.close()
    return deleted


def timed(label: str, action: Any, proxy: Any, rows: list[tuple[str, float, int]]) -> None:
    before, started = proxy.calls, time.monotonic()
    action()
    rows.append((label, time.monotonic() - started, proxy.calls - before))
    print(f"{label}: {rows[-1][1]:.1f} s, {rows[-1][2]} API calls", flush=True)


def compare_peers(name: str, departments: int, workers: int) -> None:
    """nxgov, openstack.cloud and an openstackclient script, side by side through the counting proxy."""
    sys.path.insert(0, str(ROOT))
    from nxgov.cloud.apply import apply
    from nxgov.cloud.planner import make_plan
    from tests.cloud.proxy import FaultProxy, proxied_clouds

    work = Path(tempfile.mkdtemp())
    proxy = FaultProxy(fault_rate=0.0)
    direct = Path(os.environ["OS_CLIENT_CONFIG_FILE"])
    clouds = proxied_clouds(direct, proxy, work / "clouds.yaml", ENTRIES)
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    path = work / "estate.yaml"
    path.write_text(yaml.safe_dump(scaled_estate(name, departments, False)))
    rows: list[tuple[str, float, int]] = []

    def nxgov_apply() -> None:
        estate, clients = _clients(path)
        planned = make_plan(estate, clients)
        assert apply(planned.plan, clients, planned.actual, per_node=workers).ok

    def nxgov_replan() -> None:
        estate, clients = _clients(path)
        assert make_plan(estate, clients).plan.empty

    ansible = peer_departments(f"{name}a", departments)
    osc = peer_departments(f"{name}o", departments)
    try:
        timed("nxgov apply from empty", nxgov_apply, proxy, rows)
        timed("nxgov no-op re-plan", nxgov_replan, proxy, rows)
        timed("openstack.cloud from empty", lambda: run_ansible(clouds, ansible, work), proxy, rows)
        timed("openstack.cloud no-op re-run", lambda: run_ansible(clouds, ansible, work), proxy, rows)
        timed("openstackclient script from empty", lambda: run_openstackclient(clouds, osc), proxy, rows)
        timed("openstackclient script no-op re-run", lambda: run_openstackclient(clouds, osc), proxy, rows)
    finally:
        path.write_text(yaml.safe_dump(scaled_estate(name, 0, False)))
        estate, clients = _clients(path)
        pruned = make_plan(estate, clients, prune=True)
        apply(pruned.plan, clients, pruned.actual, per_node=workers)
        gone = delete_peer_work(direct, {d["code"] for d in ansible + osc})
        proxy.close()
        print(f"cleaned up: nxgov pruned {len(pruned.plan.changes)}, peers' {gone} resources deleted")
    print(f"\n{departments} departments on 2 nodes (no servers), all through the counting proxy:")
    print(f"{'':40} {'wall s':>8} {'API calls':>10}")
    for label, seconds, calls in rows:
        print(f"{label:40} {seconds:8.1f} {calls:10d}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--servers", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--replans", type=int, default=5, help="no-op re-plans with a cached token")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--peers", action="store_true", help="compare with openstack.cloud and openstackclient")
    args = parser.parse_args()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", LAB_CLOUDS)
    name = "b" + secrets.token_hex(2)
    if args.peers:
        compare_peers(name, args.departments, args.workers)
        return
    from nxgov.cloud.apply import apply
    from nxgov.cloud.planner import make_plan

    path = Path(tempfile.mkdtemp()) / "estate.yaml"
    path.write_text(yaml.safe_dump(scaled_estate(name, args.departments, args.servers)))
    estate, clients = _clients(path)
    started = time.monotonic()
    planned = make_plan(estate, clients)
    result = apply(planned.plan, clients, planned.actual, per_node=args.workers)
    print(f"nxgov apply from empty: {len(planned.plan.changes)} changes, {time.monotonic() - started:.1f} s, "
          f"{_calls(clients)} API calls, ok={result.ok}")
    cache = path.parent / "tokens"
    seconds = []
    for attempt in range(args.replans + 1):
        estate, clients = _clients(path, cache if attempt else None)
        started = time.monotonic()
        replan = make_plan(estate, clients)
        seconds.append(time.monotonic() - started)
        print(f"nxgov no-op re-plan #{attempt + 1} ({'cached' if attempt else 'new'} token): "
              f"{len(replan.plan.changes)} changes, {seconds[-1]:.2f} s, {_calls(clients)} API calls "
              f"({', '.join(f'{n}: {c.stats.calls}' for n, c in clients.items())})")
    warm = sorted(seconds[2:]) or seconds[1:]
    print(f"no-op re-plan: new token {seconds[0]:.2f} s; cached token median {warm[len(warm) // 2]:.2f} s "
          f"(min {warm[0]:.2f}, max {warm[-1]:.2f}, {len(warm)} runs)")
    if not args.keep:
        doc = scaled_estate(name, 0, False)
        path.write_text(yaml.safe_dump(doc))
        estate, clients = _clients(path)
        pruned = make_plan(estate, clients, prune=True)
        apply(pruned.plan, clients, pruned.actual, per_node=args.workers)
        print(f"pruned {len(pruned.plan.changes)} resources")


if __name__ == "__main__":
    main()
