"""The peer tools' virtual environment, bench/.venv-peers, shared by the benchmarks that compare nxgov with a peer
installed from PyPI (kept out of nxgov's own environment)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PEERS = Path(__file__).resolve().parent / ".venv-peers"


def ensure_peers(imports: str, packages: list[str]) -> Path:
    """bench/.venv-peers made if missing, ``packages`` installed into it unless ``import <imports>`` works there
    already; its python."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    probe = subprocess.run([str(python), "-c", f"import {imports}"], capture_output=True, check=False)
    if probe.returncode != 0:
        subprocess.run([str(PEERS / "bin" / "pip"), "install", "--quiet", *packages], check=True)
    return python


def run_nornir(script: str, hosts: dict[str, dict[str, Any]], root: Path, workers: int,
               commands: object) -> dict[str, Any]:
    """``script`` in the peers' python with Nornir's hosts file (written under ``root``), the workers and the
    commands (JSON) as its arguments; the JSON report it prints last."""
    inventory = root / "hosts.yaml"
    inventory.write_text(json.dumps(hosts))  # JSON is YAML
    proc = subprocess.run([str(PEERS / "bin" / "python"), "-c", script, str(inventory), str(workers),
                           json.dumps(commands)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the Nornir run failed:\n{proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report
