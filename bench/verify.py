"""Verify benchmark: ``nxgov net verify`` across N routed simulated vendor devices, side by side with the same reads
through Nornir + netmiko + ntc-templates (printed, never asserted). Needs root (network namespaces).

Setup, not timed: an estate of the region's shape made of vendor CEs only (the region, cities and counties below
them, each site a plane-A Huawei VRP and a plane-B H3C Comware CE: N devices, N - 2 plane links), every device a
simulated one routing with FRR in its own namespace (the lab's extranet machinery, in a scratch lab directory),
configured with what nxgov renders (``nxgov.network.push``, 20 workers), every BGP session Established.

1. ``nxgov net verify --workers W``: the real CLI in a fresh process (start-up included), each device's IPv6 BGP
   peers and interface brief read and parsed with nxgov's TextFSM templates (and the region's IPv6 routes), every
   site judged; run twice (the second with warm page caches).
2. Nornir (threaded runner, W workers) with ``nornir-netmiko``'s ``netmiko_send_command(..., use_textfsm=True)``
   and stock netmiko ``huawei`` / ``hp_comware``: the same three commands per device. ntc-templates parse what they
   have a template for; the output says how many answers came back parsed. Installed into bench/.venv-peers only
   (as bench/push.py does), run there as a subprocess.

Memory per simulated device: the PSS (shared pages counted once) of its FRR daemons (zebra, staticd, bgpd, bfdd)
and its share of the simulator process.

Run: ``sudo .venv/bin/python bench/verify.py [--devices 100] [--workers 20] [--skip-nornir]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peers_venv import ensure_peers, run_nornir  # noqa: E402

from nxgov.audit import AuditLog  # noqa: E402
from nxgov.estate import load_estate  # noqa: E402
from nxgov.estate.model import Estate  # noqa: E402
from nxgov.lab.frr import Extranet, cabled  # noqa: E402
from nxgov.lab.ledger import Ledger  # noqa: E402
from nxgov.lab.netns import PREFIX  # noqa: E402
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, write_spec  # noqa: E402
from nxgov.lab.netsim.spec import DataplaneSpec  # noqa: E402
from nxgov.network import inventory  # noqa: E402
from nxgov.network.drivers import SessionOptions  # noqa: E402
from nxgov.network.drivers.hostkeys import KnownHosts  # noqa: E402
from nxgov.network.intent import DeviceIntent, build_intents, interface_name  # noqa: E402
from nxgov.network.planstore import plan_ipv6  # noqa: E402
from nxgov.network.push import push  # noqa: E402
from nxgov.network.render import render  # noqa: E402
from nxgov.network.render.frr import port_name  # noqa: E402
from nxgov.state import StateStore  # noqa: E402

USER, PASSWORD = "bench", "Bench-pass-1"
CITIES = 7
COMMANDS = {"huawei": ["display bgp ipv6 peer", "display interface brief", "display ipv6 routing-table verbose"],
            "hp_comware": ["display bgp peer ipv6", "display interface brief", "display ipv6 routing-table"]}
"""What nxgov's getters send (the routing table only at the region); the peers send all three everywhere."""

NORNIR_SCRIPT = """
import json, sys, time
from nornir import InitNornir
from nornir_netmiko.tasks import netmiko_send_command

hosts_file, workers, commands = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])

def read(task):
    for command in commands[task.host.platform]:
        task.run(netmiko_send_command, command_string=command, use_textfsm=True)

start = time.perf_counter()
nr = InitNornir(runner={"plugin": "threaded", "options": {"num_workers": workers}}, logging={"enabled": False},
                inventory={"plugin": "SimpleInventory", "options": {"host_file": hosts_file}})
result = nr.run(task=read)
nr.close_connections()
seconds = time.perf_counter() - start
parsed = {}
for host, multi in result.items():
    for sub in multi[1:]:
        parsed.setdefault(sub.host.platform, [0, 0])
        parsed[sub.host.platform][0] += isinstance(sub.result, list)
        parsed[sub.host.platform][1] += 1
print(json.dumps({"seconds": seconds, "failed": len(result.failed_hosts), "parsed": parsed}))
"""


def site_codes(devices: int) -> list[tuple[str, str, str | None]]:
    """(code, level, parent) of ``devices // 2`` sites: the region, up to CITIES cities, counties below them."""
    pairs = devices // 2
    cities = [f"64{i:02d}00" for i in range(1, min(CITIES, pairs - 1) + 1)]
    out: list[tuple[str, str, str | None]] = [("640000", "region", None)]
    out += [(code, "city", "640000") for code in cities]
    for i in range(pairs - len(out)):
        parent = cities[i % len(cities)]
        out.append((f"{parent[:4]}{i // len(cities) + 1:02d}", "county", parent))
    return out


def write_estate(directory: Path, devices: int, ports: list[int]) -> Estate:
    """The lab estate with its extranet replaced by the benchmark's vendor CEs (credentials in a 0600 file)."""
    shutil.copytree(ROOT / "inventories" / "lab", directory)
    credentials = directory.parent / "bench-credentials.yaml"
    credentials.touch(mode=0o600)
    credentials.write_text(yaml.safe_dump({"username": USER, "password": PASSWORD}))
    data = yaml.safe_load((directory / "estate.yaml").read_text())
    data["credentials"]["bench"] = {"file": str(credentials)}
    sites, devs = [], []
    for code, level, parent in site_codes(devices):
        sites.append({"code": code, "name": f"site {code}", "level": level, **({"parent": parent} if parent else {})})
        for plane, platform, kind in (("A", "huawei_vrp", "v"), ("B", "h3c_comware", "c")):
            devs.append({"name": f"b{kind}{code}", "site": code, "plane": plane, "platform": platform,
                         "host": "127.0.0.1", "port": ports.pop(), "credentials": "bench"})
    data["extranet"] = {**data["extranet"], "sites": sites, "devices": devs}
    (directory / "estate.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return load_estate(directory).estate


def dataplane(intent: DeviceIntent, extranet: Extranet) -> DataplaneSpec:
    links = tuple((interface_name(intent, i), port_name(i.port)) for i in intent.interfaces)
    return DataplaneSpec(f"{PREFIX}{intent.name}", str(extranet.vty_dir(intent.name)), links)


def pss_kib(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)


def memory(lab_dir: Path, simulator: int) -> tuple[float, float]:
    """MiB per simulated device: its FRR daemons' PSS, and its share of the simulator process."""
    routers: dict[str, int] = {}
    for entry in Ledger(lab_dir).entries("extranet"):
        if entry.kind == "process" and entry.pid is not None:
            router = str(entry.info.get("router"))
            routers[router] = routers.get(router, 0) + pss_kib(entry.pid)
    return sum(routers.values()) / len(routers) / 1024, pss_kib(simulator) / len(routers) / 1024


def nxgov_verify(estate_dir: Path, env: dict[str, str], workers: int) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "-e", str(estate_dir),
                           "-o", "json", "net", "verify", "--workers", str(workers)],
                          capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"nxgov net verify failed:\n{proc.stderr[-2000:]}")
    return seconds, json.loads(proc.stdout)


def nornir_read(specs: list[DeviceSpec], root: Path, workers: int) -> tuple[float, int, dict[str, list[int]]]:
    hosts = {d.name: {"hostname": d.host, "port": d.port, "username": USER, "password": PASSWORD,
                      "platform": "huawei" if d.platform == "huawei_vrp" else "hp_comware"} for d in specs}
    report = run_nornir(NORNIR_SCRIPT, hosts, root, workers, COMMANDS)
    return float(report["seconds"]), int(report["failed"]), report["parsed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100, help="simulated vendor devices, even (default 100)")
    parser.add_argument("--workers", type=int, default=20, help="concurrent devices for nxgov and Nornir")
    parser.add_argument("--skip-nornir", action="store_true", help="leave out Nornir")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the benchmark builds network namespaces: run it as root")
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    n, workers = args.devices - args.devices % 2, args.workers
    scratch = Path(tempfile.mkdtemp(prefix="nxb-", dir="/tmp"))
    scratch.chmod(0o755)  # FRR drops to user frr: its sockets' directories must be searchable
    extranet, sim = Extranet(scratch / "lab"), None
    try:
        estate = write_estate(scratch / "estate", n, free_loopback_ports(n))
        with StateStore.open(scratch / "state.db") as store:
            intents = build_intents(plan_ipv6(store, estate))
        names = [i.name for i in intents]
        started = time.perf_counter()
        extranet.up(cabled(intents, dict.fromkeys(names, "127.0.0.1"), set(names)))
        assert estate.extranet is not None
        ports = {d.name: d.port for d in estate.extranet.devices}
        specs = [DeviceSpec(i.name, i.platform, ports[i.name], USER, PASSWORD,  # type: ignore[arg-type]
                            ports=tuple(interface_name(i, p) for p in i.interfaces), dataplane=dataplane(i, extranet))
                 for i in intents]
        write_spec(scratch / "devices.json", SimSpec(tuple(specs)))
        sim = NetsimProcess.start(scratch / "devices.json", scratch / "state", scratch / "netsim.log", timeout=300)
        print(f"{n} simulated devices and their FRR up in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        options = SessionOptions(KnownHosts(scratch / "known_hosts"))
        pushed = push(inventory.targets(estate, estate.extranet.devices), {i.name: render(i) for i in intents}, options,
                      workers=workers, audit=AuditLog(scratch / "audit.jsonl"))
        converged = extranet.wait_converged(timeout=600)
        print(f"pushed in {time.perf_counter() - started - converged:.0f} s ({len(pushed.failed)} failed); "
              f"every session Established {converged:.0f} s later")
        frr_mib, sim_mib = memory(scratch / "lab", sim.pid)

        env = {**os.environ, "PYTHONPATH": str(ROOT), "NXGOV_STATE": str(scratch / "state.db"),
               "NXGOV_AUDIT_LOG": str(scratch / "audit.jsonl"), "NXGOV_KNOWN_HOSTS": str(scratch / "known_hosts")}
        rows = []
        for run in ("first", "second"):
            seconds, document = nxgov_verify(scratch / "estate", env, workers)
            read = sum(1 for d in document["devices"] if d["read"] == "read")
            rows.append((f"nxgov net verify ({run} run), {workers} workers", n, seconds, n - read,
                         f"sites {document['counts']}"))
        if not args.skip_nornir:
            ensure_peers("nornir, nornir_netmiko", ["nornir", "nornir-netmiko"])
            seconds, failed, parsed = nornir_read(specs, scratch, workers)
            note = "; ".join(f"{platform}: {ok} of {total} answers parsed by ntc-templates"
                             for platform, (ok, total) in sorted(parsed.items()))
            rows.append((f"Nornir + netmiko + ntc-templates, {workers} workers", n, seconds, failed, note))
    finally:
        if sim is not None:
            sim.stop()
        extranet.down()
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\nreading IPv6 BGP peers, interfaces (and routes) of {n} routed simulated VRP/Comware devices\n")
    print(f"{'tool':<52}{'devices':>8}{'seconds':>9}{'dev/s':>8}{'failed':>8}  note")
    for name, count, secs, fails, note in rows:
        print(f"{name:<52}{count:>8}{secs:>9.1f}{count / secs:>8.1f}{fails:>8}  {note}")
    print(f"memory per simulated device: {frr_mib:.1f} MiB PSS of FRR (zebra, staticd, bgpd, bfdd) + {sim_mib:.1f} MiB "
          "of the simulator process")


if __name__ == "__main__":
    main()
