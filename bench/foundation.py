"""Foundation benchmarks, printed side by side (never asserted in tests).

1. ``nxgov --help`` wall time against ``openstack --help`` (python-openstackclient, installed into
   bench/.venv-peers only for this benchmark). Goal: under 0.3 s and more than 10x faster.
2. Loading and validating the full-scale generated estate (~3,000 sites, ~6,000 devices, 1,000
   systems), through the CLI and in-process. Goal: under 2 s.

Run: ``.venv/bin/python bench/foundation.py`` (after scripts/setup.sh).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peers_venv import ensure_peers

ROOT = Path(__file__).resolve().parent.parent
NXGOV = ROOT / ".venv" / "bin" / "nxgov"


def wall(argv: list[str], runs: int) -> float:
    """Median wall time of ``argv`` over ``runs`` runs (one warm-up run first)."""
    subprocess.run(argv, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    nx_help = wall([str(NXGOV), "--help"], 10)
    osc = ensure_peers("openstackclient", ["python-openstackclient"]).parent / "openstack"
    osc_help = wall([str(osc), "--help"], 3)
    rows.append(("CLI start-up: --help", f"{nx_help:.3f} s", f"{osc_help:.3f} s (openstack)",
                 f"{osc_help / nx_help:.1f}x faster"))

    with tempfile.TemporaryDirectory() as tmp:
        estate = Path(tmp) / "full"
        subprocess.run([str(NXGOV), "--audit-log", f"{tmp}/audit.jsonl", "estate", "generate", "--scale", "full",
                        "--out", str(estate)], check=True, capture_output=True)
        cli = wall([str(NXGOV), "estate", "validate", str(estate)], 3)
        sys.path.insert(0, str(ROOT))
        from nxgov.estate import load_estate

        start = time.perf_counter()
        loaded = load_estate(estate)
        in_process = time.perf_counter() - start
        ext = loaded.estate.extranet
        size = f"{len(ext.sites) if ext else 0} sites, {len(ext.devices) if ext else 0} devices, " \
               f"{len(loaded.estate.systems)} systems"
    rows.append(("validate full-scale estate (CLI)", f"{cli:.3f} s", "-", f"goal < 2 s ({size})"))
    rows.append(("load full-scale estate (in-process)", f"{in_process:.3f} s", "-", "goal < 2 s"))

    widths = [max(len(r[i]) for r in [("benchmark", "nxgov", "peer", "note"), *rows]) for i in range(4)]
    for row in [("benchmark", "nxgov", "peer", "note"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
