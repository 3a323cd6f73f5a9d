"""Helpers of the monitoring tests: exposition text of a scrape, parsed back; promtool; a running exporter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector, CollectorRegistry

from nxgov.lab.prometheus import PROMETHEUS, PROMTOOL
from nxgov.monitor.samples import Samples

ROOT = Path(__file__).resolve().parents[2]

Labels = tuple[tuple[str, str], ...]


def exposition(out: Samples) -> str:
    """``out`` as Prometheus text exposition, through prometheus-client."""

    class Fixed(Collector):
        def collect(self) -> Iterable[Metric]:
            return out.families()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())
    return generate_latest(registry).decode()


def parse(text: str) -> dict[str, dict[Labels, float]]:
    """Sample name → sorted label pairs → value."""
    found: dict[str, dict[Labels, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def promtool(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    require_prometheus()
    return subprocess.run([str(PROMTOOL), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


def require_prometheus() -> None:
    if not PROMTOOL.exists() or not PROMETHEUS.exists():
        pytest.skip("Debian's prometheus package is not installed (nxgov lab install installs it, as root)")


@dataclass
class Served:
    """A running ``nxgov monitor serve``: its process and the address it listens on."""

    process: subprocess.Popen[str]
    address: str
    stderr: Path

    def get(self, path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=10) as response:
            status: int = response.status
            return status, response.read().decode()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Served:
    """Start ``nxgov ARGS monitor serve --listen 127.0.0.1:0 ...`` and wait until it says where it listens."""
    err = tmp_path / f"serve-{time.monotonic_ns()}.err"
    with err.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
            stdout=subprocess.DEVNULL, stderr=handle, text=True, cwd=ROOT, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"on https?://([0-9.]+:\d+)/metrics", err.read_text())
        if found:
            return Served(process, found.group(1), err)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise AssertionError(f"nxgov monitor serve did not start:\n{err.read_text()}")
