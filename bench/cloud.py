"""Benchmark of ``nxgov cloud`` against the rehearsal lab: apply from empty and a no-op re-plan, with the API
calls each makes, for the lab-shaped estate scaled to N departments.

    .venv/bin/python bench/cloud.py --departments 50 [--keep]
    .venv/bin/python bench/cloud.py --departments 1 --peers    # about 5 minutes on 2 cores (2: about 12)
    .venv/bin/python bench/cloud.py --departments 2 --peers --servers    # about 9 minutes

Each department gets one network (IPv4 + IPv6), a router, a baseline security group and quotas on both
nodes (an active-active system); ``--servers`` adds one m1.tiny server per department. The estate has its
own name, so the lab estate and tests are never touched; without ``--keep`` everything is pruned at the end.
The no-op re-plan is timed first with a new Keystone token (a fresh CI container) and then ``--replans`` times
with a cached one (an operator's next run; see nxgov/cloud/tokens.py).

``--peers`` does the same work (with ``--servers``, the same server groups and servers) twice, from empty and
again as a no-op, with Ansible's openstack.cloud collection (bench/peers/openstack_cloud.yml) and with a
python-openstackclient script (bench/peers/openstackclient.sh), both from bench/.venv-peers (``pip install
ansible python-openstackclient`` there), in departments of their own. Everyone, nxgov included, then talks to
the lab through the counting proxy of tests/cloud/proxy.py (no faults), which gives the API calls of each.
At the end, even after a failure, nxgov prunes its estate and every project named with the run's prefix is
deleted with what is in it (the peers' work, and whatever a failed prune left).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def lab_cpu_seconds() -> float:
    """CPU seconds used so far by the lab's processes (those in its ledger) and all their descendants."""
    from nxgov.lab.ledger import Ledger, process_tree
    from nxgov.lab.openstack.install import default_lab_dir

    roots = {e.pid for e in Ledger(default_lab_dir()).entries() if e.kind == "process" and e.pid}
    return sum(process_tree(roots).values()) / os.sysconf("SC_CLK_TCK")


def _calls(clients: dict[str, Any]) -> int:
    return sum(c.stats.calls for c in clients.values())


def peer_departments(prefix: str, count: int) -> list[dict[str, str]]:
    return [{"code": f"{prefix}{i:03d}", "ipv4": f"10.{64 + i // 256}.{i % 256}.0/24",
             "ipv6": f"fd00:{i:x}:1::/64"} for i in range(count)]


def server_entry(servers: bool) -> str:
    """The clouds.yaml entry where a peer puts each department's server ("" without servers): nxgov's
    active-active rule puts server i of a system on node (i - 1) mod 2, and each system has one server."""
    return next(iter(ENTRIES)) if servers else ""


def run_ansible(clouds: Path, departments: list[dict[str, str]], work: Path, server_cloud: str) -> None:
    variables = work / "ansible-vars.json"
    variables.write_text(json.dumps({"clouds": list(ENTRIES), "identity": next(iter(ENTRIES)), "admin": "admin",
                                     "departments": departments, "server_cloud": server_cloud}))
    _run_peer([str(PEERS_BIN / "ansible-playbook"), "-i", "localhost,", "-e", f"@{variables}",
               str(ROOT / "bench" / "peers" / "openstack_cloud.yml")],
              {**_peer_env(clouds), "ANSIBLE_PYTHON_INTERPRETER": str(PEERS_BIN / "python"),
               "PYTHONPATH": str(ROOT / "bench" / "peers" / "sdkcompat")})


def run_openstackclient(clouds: Path, departments: list[dict[str, str]], server_cloud: str) -> None:
    codes = " ".join(f"{d['code']},{d['ipv4']},{d['ipv6']}" for d in departments)
    _run_peer(["bash", str(ROOT / "bench" / "peers" / "openstackclient.sh"), next(iter(ENTRIES)),
               " ".join(ENTRIES), "admin", codes, server_cloud], _peer_env(clouds))


def _run_peer(command: list[str], env: dict[str, str]) -> None:
    """Run a peer quietly; when it fails, show the end of what it printed."""
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        print((done.stdout + done.stderr)[-4000:], file=sys.stderr)
        done.check_returncode()


def _peer_env(clouds: Path) -> dict[str, str]:
    return {**os.environ, "OS_CLIENT_CONFIG_FILE": str(clouds), "PATH": f"{PEERS_BIN}:{os.environ['PATH']}"}


def _connections(clouds: Path) -> list[Any]:
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    return [Connection(config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
        cloud=entry, region_name=region)) for entry, region in ENTRIES.items()]


def project_ids(clouds: Path, prefix: str, into: set[str]) -> str:
    """Add to ``into`` the ids of the projects whose names start with ``prefix``."""
    conn = _connections(clouds)[0]
    into.update(p.id for p in conn.identity.projects() if p.name.startswith(prefix))
    conn.close()
    return f"{len(into)} projects"


def delete_peer_work(clouds: Path, prefix: str, known: set[str]) -> int:
    """Delete the projects whose names start with ``prefix`` and, on both nodes, everything in them or in the
    projects ``known`` (already deleted ones included, in case nxgov's prune stopped half-way): servers first,
    then their groups, then the networks they were on; how many resources."""
    deleted = 0
    conns = _connections(clouds)
    projects = {p.id for p in conns[0].identity.projects() if p.name.startswith(prefix)}
    for conn in conns:
        deleted += _delete_servers(conn, known | projects) + _delete_network_work(conn, known | projects)
        for pid in projects:
            conn.network.delete_quota(pid)
            conn.compute.revert_quota_set(pid)
            conn.block_storage.revert_quota_set(pid)
    for pid in projects:
        conns[0].identity.delete_project(pid)
    for conn in conns:
        conn.close()
    return deleted + len(projects)


def _delete_network_work(conn: Any, ids: set[str]) -> int:
    """Delete the routers, security groups and networks of the projects ``ids`` on one node (default security
    groups are not counted)."""
    deleted = 0
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
    return deleted


def _delete_servers(conn: Any, ids: set[str]) -> int:
    """Delete the servers and server groups of the projects ``ids`` on one node, waiting for the servers to go."""
    servers = [s for s in conn.compute.servers(all_projects=True) if s.project_id in ids]
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, interval=1, wait=300)
    groups = [g for g in conn.compute.server_groups(all_projects=True) if g.project_id in ids]
    for group in groups:
        conn.compute.delete_server_group(group)
    return len(servers) + len(groups)


def timed(label: str, action: Any, proxy: Any, rows: list[tuple[str, float, int]]) -> None:
    before, started = proxy.calls, time.monotonic()
    action()
    rows.append((label, time.monotonic() - started, proxy.calls - before))
    print(f"{label}: {rows[-1][1]:.1f} s, {rows[-1][2]} API calls", flush=True)


def cleanup(steps: dict[str, Callable[[], str]]) -> None:
    """Run every clean-up step, each even when an earlier one failed, and say what each did."""
    for label, step in steps.items():
        try:
            print(f"clean-up, {label}: {step()}", flush=True)
        except Exception as error:  # the next steps still have resources to delete
            print(f"clean-up of {label} FAILED: {error!r}", file=sys.stderr, flush=True)


def compare_peers(name: str, departments: int, workers: int, servers: bool) -> None:
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
    path.write_text(yaml.safe_dump(scaled_estate(name, departments, servers)))
    rows: list[tuple[str, float, int]] = []

    def nxgov_apply() -> None:
        estate, clients = _clients(path)
        planned = make_plan(estate, clients)
        assert apply(planned.plan, clients, planned.actual, per_node=workers).ok

    def nxgov_replan() -> None:
        estate, clients = _clients(path)
        assert make_plan(estate, clients).plan.empty

    def nxgov_prune() -> str:
        path.write_text(yaml.safe_dump(scaled_estate(name, 0, False)))
        estate, clients = _clients(path)
        pruned = make_plan(estate, clients, prune=True)
        result = apply(pruned.plan, clients, pruned.actual, per_node=workers)
        return f"{len(pruned.plan.changes)} changes, ok={result.ok}"

    ansible = peer_departments(f"{name}a", departments)
    osc = peer_departments(f"{name}o", departments)
    server_cloud = server_entry(servers)
    try:
        timed("nxgov apply from empty", nxgov_apply, proxy, rows)
        timed("nxgov no-op re-plan", nxgov_replan, proxy, rows)
        timed("openstack.cloud from empty", lambda: run_ansible(clouds, ansible, work, server_cloud), proxy, rows)
        timed("openstack.cloud no-op re-run", lambda: run_ansible(clouds, ansible, work, server_cloud), proxy, rows)
        timed("openstackclient script from empty", lambda: run_openstackclient(clouds, osc, server_cloud), proxy,
              rows)
        timed("openstackclient script no-op re-run", lambda: run_openstackclient(clouds, osc, server_cloud), proxy,
              rows)
    finally:
        ids: set[str] = set()
        cleanup({f"listing projects {name}*": lambda: project_ids(direct, name, ids),
                 "nxgov prune": nxgov_prune,
                 f"deleting projects {name}* and what is in them":
                     lambda: f"{delete_peer_work(direct, name, ids)} resources deleted",
                 "proxy and work folder": lambda: _close(proxy, work)})
    print(f"\n{departments} departments on 2 nodes ({'one server each' if servers else 'no servers'}), "
          "all through the counting proxy:")
    print(f"{'':40} {'wall s':>8} {'API calls':>10}")
    for label, seconds, calls in rows:
        print(f"{label:40} {seconds:8.1f} {calls:10d}")


def _close(proxy: Any, work: Path) -> str:
    proxy.close()
    shutil.rmtree(work)
    return f"{work} removed"


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
    print(f"estate {name}: every project of this run is named {name}...", flush=True)
    if args.peers:
        compare_peers(name, args.departments, args.workers, args.servers)
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
        started, own, lab = time.monotonic(), time.process_time(), lab_cpu_seconds()
        replan = make_plan(estate, clients)
        seconds.append(time.monotonic() - started)
        print(f"nxgov no-op re-plan #{attempt + 1} ({'cached' if attempt else 'new'} token): "
              f"{len(replan.plan.changes)} changes, {seconds[-1]:.2f} s, {_calls(clients)} API calls "
              f"({', '.join(f'{n}: {c.stats.calls}' for n, c in clients.items())}); CPU: nxgov "
              f"{time.process_time() - own:.2f} s, the lab's services {lab_cpu_seconds() - lab:.2f} s "
              f"({os.cpu_count()} cores)")
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
