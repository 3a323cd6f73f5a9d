"""Push benchmark: the same small configuration to N simulated VRP routers, printed side by side (never asserted).

1. ``nxgov push``: the fast ``huawei`` driver, 20 workers, with everything a real push does (read the
   running configuration, diff, type line by line checking each reply, save, read back to confirm,
   session log per device, one audit record per device).
2. Nornir (threaded runner, same number of workers) with ``nornir-netmiko`` and stock netmiko
   ``huawei``: ``netmiko_send_config`` then ``netmiko_save_config``. Installed into bench/.venv-peers
   only (``pip install nornir nornir-netmiko``), run there as a subprocess.
3. A plain netmiko loop, stock ``huawei``, one device after another: capped (``--serial-cap``, default
   20 devices) and extrapolated to N, as it is said in the output.

Each tool gets a fresh simulator (one process hosting every device) whose routers start from the
factory configuration. Goal: at least 20 devices/s for nxgov and more than 5x Nornir.

Run: ``.venv/bin/python bench/push.py [--devices 500] [--workers 20] [--serial-cap 20] [--skip-nornir]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netmiko import ConnectHandler  # noqa: E402
from peers_venv import ensure_peers, run_nornir  # noqa: E402

from nxgov.audit import AuditLog  # noqa: E402
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, write_spec  # noqa: E402
from nxgov.network.drivers import SessionOptions, Target  # noqa: E402
from nxgov.network.drivers.credentials import Credentials  # noqa: E402
from nxgov.network.drivers.hostkeys import KnownHosts  # noqa: E402
from nxgov.network.push import push  # noqa: E402

USER, PASSWORD = "bench", "Bench-pass-1"
CANDIDATE = """#
interface GigabitEthernet0/0/1
 description to-plane-a
 ipv6 enable
 ipv6 address 2001:DB8:64::1/127
#
bgp 65101
 peer 2001:DB8:64:: as-number 65100
 #
 ipv6-family unicast
  peer 2001:DB8:64:: enable
#
return
"""
COMMANDS = ["interface GigabitEthernet0/0/1", "description to-plane-a", "ipv6 enable",
            "ipv6 address 2001:DB8:64::1/127", "quit", "bgp 65101", "peer 2001:DB8:64:: as-number 65100",
            "ipv6-family unicast", "peer 2001:DB8:64:: enable", "quit", "quit"]
"""What nxgov types for CANDIDATE on a factory router; the peers send exactly these lines."""

NORNIR_SCRIPT = """
import json, sys, time
from nornir import InitNornir
from nornir_netmiko.tasks import netmiko_save_config, netmiko_send_config

hosts_file, workers, commands = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])

def configure(task):
    task.run(netmiko_send_config, config_commands=commands)
    task.run(netmiko_save_config, confirm=True, confirm_response="y")

start = time.perf_counter()
nr = InitNornir(runner={"plugin": "threaded", "options": {"num_workers": workers}}, logging={"enabled": False},
                inventory={"plugin": "SimpleInventory", "options": {"host_file": hosts_file}})
result = nr.run(task=configure)
nr.close_connections()
print(json.dumps({"seconds": time.perf_counter() - start, "failed": len(result.failed_hosts)}))
"""



def with_simulator(count: int, work: Callable[[list[DeviceSpec], Path], tuple[float, int]]) -> tuple[float, int]:
    """Run ``work(devices, scratch dir)`` against ``count`` fresh VRP routers; returns (seconds, failures)."""
    with tempfile.TemporaryDirectory(prefix="nxgov-bench-") as scratch:
        root = Path(scratch)
        devices = [DeviceSpec(f"ce-{i:04d}", "huawei_vrp", port, USER, PASSWORD)
                   for i, port in enumerate(free_loopback_ports(count))]
        write_spec(root / "devices.json", SimSpec(tuple(devices)))
        sim = NetsimProcess.start(root / "devices.json", root / "state", root / "netsim.log", timeout=120)
        try:
            return work(devices, root)
        finally:
            sim.stop()


def nxgov_push(devices: list[DeviceSpec], root: Path, workers: int) -> tuple[float, int]:
    targets = [Target(d.name, d.platform, d.host, d.port, Credentials(USER, PASSWORD)) for d in devices]
    options = SessionOptions(KnownHosts(root / "known_hosts"), session_logs=root / "sessions")
    start = time.perf_counter()
    result = push(targets, dict.fromkeys((d.name for d in devices), CANDIDATE), options, workers=workers,
                  audit=AuditLog(root / "audit.jsonl"))
    return time.perf_counter() - start, len(result.failed)


def nornir_push(devices: list[DeviceSpec], root: Path, workers: int) -> tuple[float, int]:
    hosts = {d.name: {"hostname": d.host, "port": d.port, "username": USER, "password": PASSWORD,
                      "platform": "huawei"} for d in devices}
    report = run_nornir(NORNIR_SCRIPT, hosts, root, workers, COMMANDS)
    return float(report["seconds"]), int(report["failed"])


def netmiko_loop(devices: list[DeviceSpec], root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    for d in devices:
        conn = ConnectHandler(device_type="huawei", host=d.host, port=d.port, username=USER, password=PASSWORD)
        conn.send_config_set(COMMANDS)
        conn.save_config()
        conn.disconnect()
    return time.perf_counter() - start, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=500, help="simulated VRP routers (default 500)")
    parser.add_argument("--workers", type=int, default=20, help="concurrent devices for nxgov and Nornir")
    parser.add_argument("--serial-cap", type=int, default=20, help="devices the plain netmiko loop really does")
    parser.add_argument("--skip-nornir", action="store_true", help="leave out Nornir (it is the slow part)")
    args = parser.parse_args()
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # sessions closing under load; failures are counted
    n, workers = args.devices, args.workers
    rows: list[tuple[str, int, float, int, str]] = []

    seconds, failed = with_simulator(n, lambda d, r: nxgov_push(d, r, workers))
    rows.append((f"nxgov push, fast huawei driver, {workers} workers", n, seconds, failed, ""))
    if not args.skip_nornir:
        ensure_peers("nornir, nornir_netmiko", ["nornir", "nornir-netmiko"])
        seconds, failed = with_simulator(n, lambda d, r: nornir_push(d, r, workers))
        rows.append((f"Nornir + nornir-netmiko, stock huawei, {workers} workers", n, seconds, failed, ""))
    cap = min(args.serial_cap, n)
    seconds, failed = with_simulator(cap, netmiko_loop)
    rows.append(("plain netmiko loop, stock huawei, serial", n, seconds * n / cap, failed,
                 f"ran {cap} devices in {seconds:.1f} s, extrapolated to {n}"))

    print(f"\npush of the same {len(COMMANDS)}-line configuration (plus save) to {n} simulated VRP routers\n")
    print(f"{'tool':<58}{'devices':>8}{'seconds':>10}{'dev/s':>8}{'dev/min':>9}{'failed':>8}  note")
    for name, count, secs, fails, note in rows:
        print(f"{name:<58}{count:>8}{secs:>10.1f}{count / secs:>8.1f}{60 * count / secs:>9.0f}{fails:>8}  {note}")
    nxgov_rate = rows[0][1] / rows[0][2]
    for name, count, secs, _, _ in rows[1:]:
        print(f"nxgov is {nxgov_rate / (count / secs):.1f}x {name.split(',')[0]}")
    print("goal: nxgov >= 20 devices/s and > 5x Nornir with stock netmiko")


if __name__ == "__main__":
    main()
