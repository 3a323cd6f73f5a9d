"""The peer tools' virtual environment, bench/.venv-peers, shared by the benchmarks that compare nxgov with a peer
installed from PyPI (kept out of nxgov's own environment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
