"""Benchmark of the exporter (``nxgov monitor serve``), side by side with Debian's prometheus-openstack-exporter.

    .venv/bin/python bench/monitor.py --servers 200 [--scrapes 200] [--keep] [--no-peer] [--no-lab]

On the lab (``--servers`` m1.tiny servers, half on Yinchuan and half on Zhongwei, in two departments of an estate of
its own, applied with ``nxgov cloud apply`` and booted with openstacksdk): the cloud family's background read per
node (seconds and API calls, three rounds: the first gets tokens), the scrape latency of a running
``nxgov monitor serve`` answering from its cache, and its memory. Then the same lab read by
prometheus-openstack-exporter 0.1.4 (Debian 12's package, installed here through apt, run with the compatibility
aliases of bench/peers/openstack_exporter_py3.py, which says why they are needed): its cache refresh time, its API
calls (both exporters talk to the lab through the counting proxy of tests/cloud/proxy.py), its scrape work and
memory.

At the full-scale estate's size (``nxgov estate generate --scale full``: 100 departments, 1,000 systems, 2,932
sites, 5,864 devices), with the cloud figures synthesised (three nodes, each department's quotas on both primary
nodes) and the state store filled with a verify result per site and an archived configuration per device: the
scrape latency and size of the same exporter, served in-process. Nothing here is asserted; figures go in the
README.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LAB_CLOUDS = Path("/var/lib/nxgov/lab/clouds.yaml")
ENTRIES = {"nxlab-yinchuan": "yinchuan", "nxlab-zhongwei": "zhongwei"}
PEER = ROOT / "bench" / "peers" / "openstack_exporter_py3.py"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    median = statistics.median(ordered)
    return f"median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def scrape_times(url: str, count: int) -> tuple[list[float], int]:
    """Seconds per scrape, asking for gzip as Prometheus does; the size of the (compressed) answer."""
    times = []
    size = 0
    for _ in range(count):
        begin = time.perf_counter()
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            size = len(response.read())
        times.append(time.perf_counter() - begin)
    return times, size


def rss(pid: int) -> str:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return f"RSS {fields['VmRSS'].strip()}, peak {fields['VmHWM'].strip()}"


# -- the lab --------------------------------------------------------------------------------------------------
def lab_estate(name: str, servers: int) -> dict[str, Any]:
    per = servers // 4 + 5
    doc: dict[str, Any] = {
        "estate": name,
        "clouds": {"yinchuan": {"cloud": "nxlab-yinchuan", "role": "primary", "region": "yinchuan"},
                   "zhongwei": {"cloud": "nxlab-zhongwei", "role": "primary", "region": "zhongwei"},
                   "backup": {"cloud": "nxlab-backup", "role": "backup", "region": "backup"}},
        "cloud_ipv6": "2001:db8:6500::/40", "operations": ["2001:db8:ffff:1::/64"], "departments": [], "systems": []}
    for i in range(2):
        code = f"{name}{i}"
        doc["departments"].append({"code": code, "name": f"bench {i}",
                                   "quotas": {"cores": per, "ram_gb": per, "instances": per, "volumes_gb": 10},
                                   "networks": [{"name": "app", "ipv4": f"10.64.{i}.0/24"}]})
        doc["systems"].append({"code": f"{code}-web", "department": code, "level": 2,
                               "placement": {"mode": "active-active"}, "servers": []})
    return doc


def nxgov(estate: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "-e", str(estate), *args],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env})
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr)
    return done


def connection(node: str, project: str | None = None) -> Any:
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    region = OpenStackConfig(config_files=[str(LAB_CLOUDS)], load_envvars=False).get_one(
        cloud=f"nxlab-{node}", region_name=node)
    conn = Connection(config=region)
    return conn.connect_as_project(project) if project else conn


def boot(name: str, servers: int, made: list[tuple[str, str]]) -> None:
    """``servers`` m1.tiny servers without a network, half per primary node, spread over the two departments,
    each added to ``made`` as (node, server id) once asked for (so a failure part way still cleans up); waits until
    none is building."""
    connections: dict[tuple[str, str], Any] = {}
    for n in range(servers):
        node, project = ("yinchuan", "zhongwei")[n % 2], f"{name}{(n // 2) % 2}"
        conn = connections.get((node, project))
        if conn is None:
            conn = connections[(node, project)] = connection(node, project)
        flavor, image = conn.compute.find_flavor("m1.tiny"), conn.image.find_image("cirros-lab")
        server = conn.compute.create_server(name=f"{project}-bench-{n}", flavor_id=flavor.id, image_id=image.id,
                                            networks="none")
        made.append((node, server.id))
    for node in ("yinchuan", "zhongwei"):
        admin = connection(node)
        deadline = time.monotonic() + 1800
        statuses: Counter[str] = Counter()
        while time.monotonic() < deadline:
            statuses = Counter(s.status for s in admin.compute.servers(all_projects=True, limit=50)
                               if s.name.startswith(name))
            if not statuses["BUILD"]:
                break
            time.sleep(2)
        print(f"  {node}: {dict(statuses)}")


def delete(made: list[tuple[str, str]]) -> None:
    """Delete the servers and wait until they are gone."""
    for node in ("yinchuan", "zhongwei"):
        admin = connection(node)
        mine = {server_id for server_node, server_id in made if server_node == node}
        for server_id in mine:
            admin.compute.delete_server(server_id, ignore_missing=True)
        deadline = time.monotonic() + 1800
        while mine & {s.id for s in admin.compute.servers(all_projects=True, limit=50)} \
                and time.monotonic() < deadline:
            time.sleep(2)


def nxgov_refresh(estate_path: Path, clouds: Path) -> list[dict[str, tuple[float, int]]]:
    from nxgov.estate import load_estate
    from nxgov.monitor.families import make_sources
    from nxgov.monitor.refresh import Refresher
    from nxgov.monitor.source import MonitorConfig

    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    estate = load_estate(estate_path).estate
    config = MonitorConfig(estate, estate_path.parent, estate_path.parent / "state.db",
                           estate_path.parent / "audit.jsonl")
    refreshers = [Refresher(s, 60) for s in make_sources(config, ["cloud"])]
    rounds = []
    for _ in range(3):
        found = {}
        for r in refreshers:
            attempt = r.refresh()
            if attempt.error:
                raise SystemExit(f"{r.source.key}: {attempt.error}")
            found[r.source.node] = (attempt.seconds, attempt.api_calls)
        rounds.append(found)
    return rounds


def serve_and_scrape(estate_path: Path, env: dict[str, str], scrapes: int) -> tuple[list[float], int, str]:
    from tests.monitor.helpers import serve

    served = serve(estate_path.parent, "-e", str(estate_path), "monitor", "serve", "--listen", "127.0.0.1:0",
                   "--refresh", "60", "--only", "cloud", env=env)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            _, health = served.get("/healthz")
            if all(v is not None for v in json.loads(health)["sources"].values()):
                break
            time.sleep(0.5)
        times, size = scrape_times(f"http://{served.address}/metrics", scrapes)
        return times, size, rss(served.process.pid)
    finally:
        served.stop()


def peer(work: Path, proxy_auth: str, scrapes: int) -> dict[str, Any] | str:
    from openstack.config import OpenStackConfig

    from nxgov.lab.apt import ensure_packages

    ensure_packages(("prometheus-openstack-exporter",), print)
    auth = OpenStackConfig(config_files=[str(LAB_CLOUDS)], load_envvars=False).get_one(
        cloud="nxlab-yinchuan", region_name="yinchuan").config["auth"]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OS_")}, "OS_IDENTITY_API_VERSION": "3",
           "OS_AUTH_URL": proxy_auth, "OS_USERNAME": auth["username"], "OS_PASSWORD": auth["password"],
           "OS_PROJECT_NAME": auth["project_name"], "OS_USER_DOMAIN_NAME": "Default",
           "OS_PROJECT_DOMAIN_NAME": "Default"}
    done = subprocess.run(["/usr/bin/python3", str(PEER), str(work), str(scrapes)], capture_output=True, text=True,
                          env=env, timeout=3600)
    if done.returncode:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def lab(servers: int, scrapes: int, keep: bool, with_peer: bool, peer_servers: int) -> None:
    from tests.cloud.proxy import FaultProxy, proxied_clouds

    name = "bm" + secrets.token_hex(2)
    work = Path(tempfile.mkdtemp(prefix="nxgov-bench-monitor-"))
    estate = work / "estate.yaml"
    estate.write_text(yaml.safe_dump(lab_estate(name, servers), sort_keys=False), encoding="utf-8")
    env = {"NXGOV_STATE": str(work / "state.db"), "NXGOV_AUDIT_LOG": str(work / "audit.jsonl"),
           "OS_CLIENT_CONFIG_FILE": str(LAB_CLOUDS)}
    made: list[tuple[str, str]] = []
    try:
        print(f"lab: estate {name}, applying, then booting {servers} servers")
        if nxgov(estate, env, "cloud", "apply", "--yes").returncode:
            raise SystemExit("apply failed")
        boot(name, servers, made)
        proxy = FaultProxy(fault_rate=0.0)
        clouds = proxied_clouds(LAB_CLOUDS, proxy, work / "proxied.yaml", {**ENTRIES, "nxlab-backup": "backup"})
        before = proxy.calls
        rounds = nxgov_refresh(estate, clouds)
        total_calls = proxy.calls - before
        times, size, memory = serve_and_scrape(estate, env, scrapes)
        print("\nnxgov monitor serve (cloud family), per node: seconds / API calls of one background read")
        for n, found in enumerate(rounds, 1):
            print(f"  round {n}: " + ", ".join(f"{node} {s:.2f} s / {c} calls" for node, (s, c) in found.items()))
        print(f"  calls seen by the proxy over the three rounds: {total_calls}")
        print(f"  scrape from cache ({scrapes} scrapes, {size:,} bytes gzipped): {percentiles(times)}")
        print(f"  exporter memory after the scrapes: {memory}")
        if with_peer:
            if peer_servers < servers:
                print(f"\nthe peer pages Nova's servers 100 at a time, which a Nova whose Neutron limits request "
                      f"lines to 4 KiB answers with 500 (nxgov/monitor/cloudread.py SERVER_PAGE): both exporters "
                      f"again with {peer_servers} servers")
                delete(made[peer_servers:])
                del made[peer_servers:]
                again = nxgov_refresh(estate, clouds)[-1]
                print("  nxgov, one background read: " + ", ".join(f"{node} {s:.2f} s / {c} calls"
                                                                  for node, (s, c) in again.items()))
            before = proxy.calls
            peered = peer(work, str(yaml.safe_load(clouds.read_text())["clouds"]["nxlab-yinchuan"]["auth"]["auth_url"]),
                         scrapes)
            print("\nprometheus-openstack-exporter 0.1.4 (Debian 12), one region (the catalog's first):")
            if isinstance(peered, str):
                print(f"  {peered}")
            else:
                print(f"  cache refresh: {peered['refresh_seconds']:.2f} s, {proxy.calls - before} API calls")
                print(f"  scrape work from cache ({scrapes} scrapes, {peered['bytes']:,} bytes, {peered['series']} "
                      f"series): {percentiles(peered['scrape_seconds'])}")
                print(f"  peak memory: {peered['max_rss_bytes'] / 2**20:.0f} MiB")
        proxy.close()
    finally:
        if not keep:
            delete(made)
            doc = yaml.safe_load(estate.read_text(encoding="utf-8"))
            doc["departments"], doc["systems"] = [], []
            estate.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            nxgov(estate, env, "cloud", "apply", "--prune", "--yes")


# -- full scale, synthesised ----------------------------------------------------------------------------------
def full_scale(scrapes: int) -> None:
    from prometheus_client.registry import CollectorRegistry

    from nxgov.audit import AuditLog
    from nxgov.estate import load_estate
    from nxgov.estate.generate import generate, write
    from nxgov.monitor.cloud import CloudSnapshot
    from nxgov.monitor.cloudread import GIB, NodeReading, QuotaUse, ResourceUse
    from nxgov.monitor.collector import MonitorCollector
    from nxgov.monitor.families import make_sources
    from nxgov.monitor.refresh import Refresher
    from nxgov.monitor.server import Listen, app, bind
    from nxgov.monitor.source import MonitorConfig, Snapshot, Source
    from nxgov.network.verify import PlaneResult, Report, SiteResult, save
    from nxgov.state import StateStore

    work = Path(tempfile.mkdtemp(prefix="nxgov-bench-monitor-full-"))
    write(generate("full", "bench"), work / "estate")
    estate = load_estate(work / "estate").estate
    assert estate.extranet is not None
    state = work / "state.db"
    with StateStore.open(state) as store:
        save(store, Report(estate.estate, "2026-11-27T10:00:00+00:00", tuple(
            SiteResult(s.code, s.name, s.level, "2001:db8::/48", "both-up",
                       (PlaneResult("A", "up", ""), PlaneResult("B", "up", "")), None, ())
            for s in estate.extranet.sites), ()))
    with sqlite3.connect(state) as db:
        db.executemany("INSERT INTO config_versions (device, version, taken, sha256, path, bytes) VALUES "
                       "(?, 1, '2026-11-27T10:00:00.000000+00:00', ?, ?, 100)",
                       [(d.name, "0" * 64, f"{d.name}/x.cfg") for d in estate.extranet.devices])
    log = AuditLog(work / "audit.jsonl", operator="bench")
    for n in range(1000):
        log.append("bench", f"t{n}", "ok")

    class Synthetic(Source):
        family = "cloud"

        def __init__(self, node: str) -> None:
            self.node = node

        def read(self) -> Snapshot:
            departments = [d.code for d in estate.departments] if self.node != "backup" else []
            return CloudSnapshot(NodeReading(
                self.node, {"vcpus": ResourceUse(2000, 1500, 32000), "memory": ResourceUse(8e12, 6e12, 12e12),
                            "disk": ResourceUse(4e14, 1e14, 4e14)},
                Counter({"ACTIVE": 1400, "SHUTOFF": 80, "ERROR": 3}), Counter({"in-use": 2000, "available": 40}),
                2040 * 100 * GIB,
                tuple(QuotaUse(d, r, 100, 60) for d in departments for r in ("cores", "memory", "instances",
                                                                              "volume")),
                dict.fromkeys(departments, 0)))

    config = MonitorConfig(estate, work / "estate", state, work / "audit.jsonl")
    sources = [Synthetic(node) for node in estate.clouds] + make_sources(config, ["migration", "extranet", "audit"])
    refreshers = [Refresher(s, 60) for s in sources]
    reads = {}
    for r in refreshers:
        attempt = r.refresh()
        reads[r.source.key] = attempt.seconds
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(refreshers, 60))
    server = bind(Listen("127.0.0.1", 0), app(registry, refreshers))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        times, size = scrape_times(f"http://127.0.0.1:{server.server_port}/metrics", scrapes)
    finally:
        server.shutdown()
        server.server_close()
    print(f"\nfull scale ({len(estate.departments)} departments, {len(estate.systems)} systems, "
          f"{len(estate.extranet.sites)} sites, {len(estate.extranet.devices)} devices; cloud figures synthesised)")
    print("  background reads: " + ", ".join(f"{k} {v:.3f} s" for k, v in reads.items() if not k.startswith("cloud")))
    print(f"  scrape from cache ({scrapes} scrapes, {size:,} bytes gzipped): {percentiles(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="leave the servers and the estate's projects")
    parser.add_argument("--no-peer", action="store_true", help="skip prometheus-openstack-exporter")
    parser.add_argument("--peer-servers", type=int, default=60,
                        help="servers left for the side-by-side run (the peer fails with 100 per node on the lab)")
    parser.add_argument("--no-lab", action="store_true", help="only the full-scale figures (no lab needed)")
    args = parser.parse_args()
    if not args.no_lab:
        lab(args.servers, args.scrapes, args.keep, not args.no_peer, args.peer_servers)
    full_scale(args.scrapes)


if __name__ == "__main__":
    main()
