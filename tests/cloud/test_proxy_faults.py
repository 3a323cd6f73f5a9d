"""Faults on the wire and a killed apply, against the lab's real services.

- A real HTTP reverse proxy (tests/cloud/proxy.py) in front of every endpoint nxgov uses answers 429 (with
  ``Retry-After`` in seconds or as an HTTP date) or 503 to a fifth of the requests: apply still converges.
- ``nxgov cloud apply`` is SIGKILLed after a few changes: the next apply converges, with no duplicates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.conftest import ENTRY, ROOT, LabEstate, Run
from tests.cloud.proxy import FaultProxy, proxied_clouds

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ENTRIES = {"nxlab-yinchuan": "yinchuan", "nxlab-zhongwei": "zhongwei"}


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    made = FaultProxy(fault_rate=0.2, seed=4)
    yield made
    made.close()


def test_apply_converges_through_a_faulty_proxy(cli: Callable[..., Run], estate: LabEstate, lab_clouds: Path,
                                                proxy: FaultProxy, tmp_path: Path) -> None:
    clouds = proxied_clouds(lab_clouds, proxy, tmp_path / "proxied-clouds.yaml", ENTRIES)
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds)}
    applied = cli("-o", "json", "cloud", "apply", "--yes", estate=estate.path, extra_env=env)
    assert applied.code == 0, applied.out[-3000:] + applied.err[-3000:]
    assert applied.out.startswith("{"), "stdout holds the JSON document alone (progress goes to stderr)"
    injected = sum(proxy.injected.values())
    assert injected > 0 and proxy.forwarded > 0
    assert {"429-seconds", "429-date", "503"} <= set(proxy.injected)
    calls = applied.json()["api_calls"]
    assert sum(node["retries"] for node in calls.values()) > 0
    # every fault the proxy injected reached nxgov's retry layer (none went around the proxy)
    assert sum(node["by_status"].get("429", 0) + node["by_status"].get("503", 0) for node in calls.values()) \
        == injected
    replan = cli("-o", "json", "cloud", "plan", estate=estate.path, extra_env=env)
    assert replan.code == 0, replan.err
    assert replan.json()["changes"] == []


def _changed(audit: Path) -> int:
    if not audit.exists():
        return 0
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sum(1 for r in records if r["command"] == "cloud apply" and r["result"] == "changed"
               and r["target"].startswith(("cloud/yinchuan/", "cloud/zhongwei/")))


def _names(clouds: Path, projects: set[str]) -> dict[str, Counter[str]]:
    """Per node and kind, how often each name occurs among the servers, networks and volumes of ``projects``."""
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    found: dict[str, Counter[str]] = {}
    for entry, region in ENTRIES.items():
        conn: Any = Connection(config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
            cloud=entry, region_name=region))
        ids = {p.id for p in conn.identity.projects() if p.name in projects}
        found[f"{region}/server"] = Counter(s.name for s in conn.compute.servers(all_projects=True)
                                           if s.project_id in ids)
        found[f"{region}/network"] = Counter(n.name for n in conn.network.networks() if n.project_id in ids)
        found[f"{region}/volume"] = Counter(v.name for v in conn.block_storage.volumes(all_projects=True)
                                            if v.project_id in ids)
        conn.close()
    return found


def test_apply_killed_midway_converges_without_duplicates(cli: Callable[..., Run], estate: LabEstate,
                                                          lab_clouds: Path, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    env = {**os.environ, "NXGOV_AUDIT_LOG": str(audit), "NXGOV_STATE": str(tmp_path / "state.db"),
           "OS_CLIENT_CONFIG_FILE": str(lab_clouds), "COLUMNS": "200"}
    first = subprocess.Popen([sys.executable, "-c", ENTRY, "-e", str(estate.path), "cloud", "apply", "--yes"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while _changed(audit) < 6 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.poll() is None, "apply finished before it could be killed"
        assert _changed(audit) >= 6, "apply made no progress to kill"
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL

    between = cli("-o", "json", "cloud", "plan", estate=estate.path)
    assert between.code == 0, between.err
    assert between.json()["changes"], "the killed apply had nothing left to do"
    again = cli("cloud", "apply", "--yes", estate=estate.path)
    assert again.code == 0, again.out[-3000:] + again.err[-3000:]
    replan = cli("-o", "json", "cloud", "plan", estate=estate.path)
    assert replan.code == 0 and replan.json()["changes"] == [], replan.out[-3000:]

    names = _names(lab_clouds, {f"{estate.name}d", f"{estate.name}e"})
    for kind in ("server", "network", "volume"):
        assert any(names[f"{region}/{kind}"] for region in ENTRIES.values()), f"no {kind} found"
    duplicates = {kind: [n for n, count in counter.items() if count > 1] for kind, counter in names.items()}
    assert all(not d for d in duplicates.values()), duplicates
