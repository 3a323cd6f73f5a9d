"""``python -m nxgov.lab.netsim --spec devices.json --state-dir DIR``: serve the devices until SIGTERM.

Each device with a data plane has it configured as its running configuration, checked five times a second.
When every port listens it writes the ready file (default ``<state dir>/ready.json``: pid and
each device's port) and prints ``netsim ready``; the file is removed on a clean stop.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from nxgov.errors import LabError
from nxgov.lab.netsim.dataplane import Dataplane
from nxgov.lab.netsim.device import Device
from nxgov.lab.netsim.hostkey import load_or_create
from nxgov.lab.netsim.server import CLIS, Server
from nxgov.lab.netsim.spec import load_spec
from nxgov.lab.netsim.store import HOST_KEY, READY

SYNC_S = 0.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nxgov.lab.netsim", description=__doc__)
    parser.add_argument("--spec", type=Path, required=True, help="device spec JSON (mode 0600)")
    parser.add_argument("--state-dir", type=Path, required=True, help="host key, configurations, ready file")
    parser.add_argument("--ready-file", type=Path, help=f"default: <state dir>/{READY}")
    parser.add_argument("--verbose", action="store_true", help="log every session")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    ready: Path = args.ready_file or args.state_dir / READY
    try:
        serve(args.spec, args.state_dir, ready)
    except LabError as exc:
        print(f"netsim: {exc}", file=sys.stderr)
        return 1
    return 0


def serve(spec_path: Path, state_dir: Path, ready: Path) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    spec = load_spec(spec_path)
    state_dir.mkdir(parents=True, exist_ok=True)
    host_key = load_or_create(spec.host_key or state_dir / HOST_KEY)
    devices = []
    for d in spec.devices:
        dialect = CLIS[d.platform].dialect
        dataplane = Dataplane(d.dataplane, dialect.ipv6_switches, dialect.bfd_view) if d.dataplane else None
        devices.append(Device(d, dialect.profile, state_dir, dataplane))
    server = Server(devices, host_key)
    server.listen()
    threading.Thread(target=_follow, args=(devices, stop), name="netsim-dataplane", daemon=True).start()
    try:
        tmp = ready.with_name(f".{ready.name}.tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "devices": {d.spec.name: d.spec.port for d in devices}}))
        os.replace(tmp, ready)
        print(f"netsim ready: {len(devices)} devices (pid {os.getpid()})", flush=True)
        stop.wait()
    finally:
        ready.unlink(missing_ok=True)
        server.close()


def _follow(devices: list[Device], stop: threading.Event) -> None:
    """Keep every data plane configured as its device: a change applied a moment later (a burst of lines at
    once), FRR started again (the extranet rebuilt) configured again."""
    while not stop.wait(SYNC_S):
        for device in devices:
            device.sync()


if __name__ == "__main__":
    sys.exit(main())
