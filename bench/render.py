"""Render benchmark: plan and render the full-scale estate (2,932 sites, 5,864 devices), printed (never asserted).

Steps timed in-process: a fresh IPv6 plan (in memory), storing it in a new state store, re-planning
against the store (nothing changes), building every device's intent, rendering every configuration;
then ``nxgov net render`` end to end (a new process: load the estate, check the stored plan, render,
write 5,864 files). Goal: rendering well under a few seconds, so it can run on every plan.

Run: ``.venv/bin/python bench/render.py`` (after scripts/setup.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nxgov.estate import load_estate  # noqa: E402
from nxgov.estate.generate import generate, write  # noqa: E402
from nxgov.network.intent import build_intents  # noqa: E402
from nxgov.network.ipv6plan import compute_plan  # noqa: E402
from nxgov.network.planstore import plan_ipv6  # noqa: E402
from nxgov.network.render import render  # noqa: E402
from nxgov.state import StateStore  # noqa: E402

T = TypeVar("T")
CLI = """
from nxgov.cli import net
from nxgov.cli.main import app, run
if not any(group.name == "net" for group in app.registered_groups):
    app.add_typer(net.app, name="net")
run()
"""


def timed(rows: list[tuple[str, str, str]], label: str, step: Callable[[], T], count: int, unit: str) -> T:
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    rows.append((label, f"{seconds:.3f} s", f"{count / seconds:,.0f} {unit}/s" if count else ""))
    return result


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        estate_dir = Path(tmp) / "full"
        write(generate("full"), estate_dir)
        estate = timed(rows, "load + validate the estate", lambda: load_estate(estate_dir).estate, 0, "")
        devices = len(estate.extranet.devices) if estate.extranet else 0
        fresh = timed(rows, "IPv6 plan, in memory (fresh)", lambda: compute_plan(estate), 0, "")
        numbers = len(fresh.allocations)
        with StateStore.open(Path(tmp) / "state.db") as store:
            timed(rows, f"IPv6 plan, stored ({numbers:,} allocations)", lambda: plan_ipv6(store, estate), numbers,
                  "allocations")
            outcome = timed(rows, "re-plan against the store (no change)", lambda: plan_ipv6(store, estate), 0, "")
        intents = timed(rows, "intents", lambda: build_intents(outcome), devices, "devices")
        texts = timed(rows, "render every configuration", lambda: [render(i) for i in intents], devices, "devices")
        lines = sum(t.count("\n") for t in texts)
        env = {**os.environ, "NXGOV_STATE": str(Path(tmp) / "state.db"), "NXGOV_AUDIT_LOG": str(Path(tmp) / "a.jsonl")}
        timed(rows, "nxgov net render (process, 5,864 files)", lambda: subprocess.run(
            [sys.executable, "-c", CLI, "-e", str(estate_dir), "net", "render", "--out", str(Path(tmp) / "out")],
            check=True, capture_output=True, env=env), devices, "devices")
    platforms = Counter(i.platform for i in intents)
    print(f"full-scale estate: {devices:,} devices ({', '.join(f'{n:,} {p}' for p, n in platforms.items())}), "
          f"{lines:,} configuration lines")
    width = max(len(r[0]) for r in rows)
    for label, seconds, rate in rows:
        print(f"  {label:<{width}}  {seconds:>9}  {rate}")


if __name__ == "__main__":
    main()
