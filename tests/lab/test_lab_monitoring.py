"""The lab's opt-in ``monitoring`` part through the real CLI: ``lab up --only monitoring`` starts nxgov's exporter for
the lab estate (reading the lab tests' state store and audit log) and a Prometheus scraping it with the repository's
alert rules, on their fixed loopback ports; ``lab status`` and ``lab env`` show them; ``lab down --only monitoring``
stops both and leaves nothing (PIDs gone, ports free) while every other part stays; a port in use is named.

The tests run in file order: the part is started once for the module and the down test takes it down.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nxgov.errors import LabError
from nxgov.lab.ledger import Entry, Ledger, process_alive
from nxgov.lab.monitoring import ALERTS, COMPONENT, EXPORTER_PORT, PROMETHEUS_PORT, Monitoring
from nxgov.lab.openstack import OpenStackLab
from nxgov.lab.prometheus import Prometheus
from tests.conftest import LAB_TEST_ENV, ROOT
from tests.lab.conftest_netns import leftovers, wait_until
from tests.monitor.helpers import require_prometheus

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LAB_ESTATE = ROOT / "inventories" / "lab"
EXPORTER = f"http://127.0.0.1:{EXPORTER_PORT}"
SOURCES = {("cloud", "yinchuan"), ("cloud", "zhongwei"), ("cloud", "backup"), ("migration", ""), ("extranet", ""),
           ("audit", ""), ("backup", "")}
AUDIT_LOG = Path(LAB_TEST_ENV["NXGOV_AUDIT_LOG"])


def _nxgov(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **LAB_TEST_ENV}
    return subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def _prometheus() -> Prometheus:
    """A client of the lab's Prometheus (only its query methods are used)."""
    client = Prometheus(Path("/nonexistent"), {})
    client.port = PROMETHEUS_PORT
    return client


def _records() -> int:
    return len(AUDIT_LOG.read_text().splitlines()) if AUDIT_LOG.exists() else 0


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _nxgov_up() -> dict[tuple[str, str], float]:
    text = _get(f"{EXPORTER}/metrics").decode()
    return {(s.labels["source"], s.labels["node"]): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == "nxgov_up"}


def _scraped(expr: str) -> bool:
    try:
        return bool(_prometheus().query(expr))
    except (LabError, ValueError):
        return False


@pytest.fixture(scope="module")
def started(openstack_lab: OpenStackLab) -> Iterator[dict[str, Any]]:
    """``nxgov lab up --only monitoring`` (the lab tests' state and audit log): its report and the audit log's record
    count before it. Taken down at the end if a test left it up."""
    require_prometheus()
    ledger = Ledger(openstack_lab.lab_dir)
    assert not ledger.entries(COMPONENT), "the monitoring part is already up: nxgov lab down --only monitoring"
    before = _records()
    up = _nxgov("-e", str(LAB_ESTATE), "-o", "json", "lab", "up", "--only", "monitoring")
    assert up.returncode == 0, up.stderr
    yield {"lab_dir": openstack_lab.lab_dir, "components": json.loads(up.stdout)["components"], "records": before}
    if ledger.entries(COMPONENT):
        assert _nxgov("lab", "down", "--only", "monitoring").returncode == 0


def _entries(started: dict[str, Any]) -> dict[str, Entry]:
    return {e.name: e for e in Ledger(started["lab_dir"]).entries(COMPONENT)}


def test_up_starts_the_exporter_and_a_prometheus_scraping_it(started: dict[str, Any]) -> None:
    assert {(c["component"], c["name"], c["state"]) for c in started["components"]} == {
        (COMPONENT, "exporter", "running"), (COMPONENT, "prometheus", "running")}
    entries = _entries(started)
    assert set(entries) == {"exporter", "prometheus"}
    assert all(e.pid is not None and process_alive(e.pid, e.start_time) for e in entries.values())
    # the command line of the recorded exporter process: the lab tests' state store and audit log, the lab estate
    exporter = entries["exporter"]
    argv = Path(f"/proc/{exporter.pid}/cmdline").read_text().split("\0")
    for option, value in (("--state", LAB_TEST_ENV["NXGOV_STATE"]), ("--audit-log", str(AUDIT_LOG)),
                          ("--estate", str(LAB_ESTATE)), ("--listen", f"127.0.0.1:{EXPORTER_PORT}")):
        assert argv[argv.index(option) + 1] == value, argv
    assert [item["metric"] for item in _prometheus().query('up{job="nxgov"}')] == [
        {"__name__": "up", "instance": f"127.0.0.1:{EXPORTER_PORT}", "job": "nxgov"}]
    assert _prometheus().values('up{job="nxgov"}') == {
        (("__name__", "up"), ("instance", f"127.0.0.1:{EXPORTER_PORT}"), ("job", "nxgov")): 1.0}
    rules = json.loads(_get(f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/rules"))["data"]["groups"]
    assert {g["file"] for g in rules} == {str(ALERTS)}
    assert "NxgovExporterDown" in {r["name"] for g in rules for r in g["rules"]}


def test_the_exporter_serves_every_source_and_prometheus_has_its_samples(started: dict[str, Any]) -> None:
    wait_until(lambda: set(_nxgov_up()) == SOURCES, 120, f"nxgov_up for every source: {SOURCES}")
    assert _nxgov_up() == dict.fromkeys(SOURCES, 1.0)
    wait_until(lambda: _scraped('nxgov_up{source="audit"} == 1'), 60, "Prometheus to hold the audit source's nxgov_up")
    # the audit log it reads is the lab tests' one: its count lies between the records before and now
    records = _prometheus().values("nxgov_audit_records_total")
    assert len(records) == 1
    assert started["records"] <= next(iter(records.values())) <= _records()


def test_status_and_env_show_it(started: dict[str, Any]) -> None:
    status = _nxgov("-o", "json", "lab", "status")
    rows = {c["name"]: c for c in json.loads(status.stdout)["components"] if c["component"] == COMPONENT}
    assert {name: row["state"] for name, row in rows.items()} == {"exporter": "running", "prometheus": "running"}
    assert rows["exporter"]["detail"].startswith(f"{EXPORTER}/metrics")
    assert LAB_TEST_ENV["NXGOV_STATE"] in rows["exporter"]["detail"] and str(AUDIT_LOG) in rows["exporter"]["detail"]
    assert rows["prometheus"]["detail"].startswith(f"http://127.0.0.1:{PROMETHEUS_PORT}")
    assert "target up" in rows["prometheus"]["detail"]
    env = json.loads(_nxgov("-o", "json", "lab", "env").stdout)["env"]
    assert env["NXGOV_STATE"] == LAB_TEST_ENV["NXGOV_STATE"] and env["NXGOV_AUDIT_LOG"] == str(AUDIT_LOG)


def test_a_second_up_keeps_it(started: dict[str, Any]) -> None:
    before = _entries(started)
    again = _nxgov("-e", str(LAB_ESTATE), "lab", "up", "--only", "monitoring")
    assert again.returncode == 0, again.stderr
    assert "monitoring exporter: already running" in again.stderr
    assert _entries(started) == before


def test_the_sdk_waits_for_the_scrape(started: dict[str, Any]) -> None:
    lab_dir = started["lab_dir"]
    assert Monitoring(lab_dir, Ledger(lab_dir)).wait_scraped(timeout=60) >= 0


def test_down_stops_both_and_leaves_nothing(started: dict[str, Any]) -> None:
    lab_dir = started["lab_dir"]
    recorded = list(_entries(started).values())
    dry = _nxgov("-o", "json", "lab", "down", "--only", "monitoring", "--dry-run")
    assert sorted(json.loads(dry.stdout)["removed"]) == sorted(f"process {e.name} (pid {e.pid})" for e in recorded)
    down = _nxgov("-o", "json", "lab", "down", "--only", "monitoring")
    assert down.returncode == 0, down.stderr
    assert sorted(json.loads(down.stdout)["removed"]) == sorted(f"process {e.name} (pid {e.pid})" for e in recorded)
    assert not leftovers(recorded)
    assert not _listening(EXPORTER_PORT) and not _listening(PROMETHEUS_PORT)
    ledger = Ledger(lab_dir)
    assert ledger.entries(COMPONENT) == []
    status = json.loads(_nxgov("-o", "json", "lab", "status").stdout)["components"]
    assert COMPONENT not in {c["component"] for c in status}
    env = json.loads(_nxgov("-o", "json", "lab", "env").stdout)["env"]
    assert "NXGOV_STATE" not in env and "NXGOV_AUDIT_LOG" not in env
    with pytest.raises(LabError, match="not running"):
        Monitoring(lab_dir, ledger).wait_scraped(timeout=1)


def test_a_port_in_use_is_named_and_nothing_starts(started: dict[str, Any]) -> None:
    ledger = Ledger(started["lab_dir"])
    assert ledger.entries(COMPONENT) == []
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # Prometheus's connections may be in TIME_WAIT
        holder.bind(("127.0.0.1", PROMETHEUS_PORT))
        holder.listen()
        up = _nxgov("-e", str(LAB_ESTATE), "lab", "up", "--only", "monitoring")
    assert up.returncode == 1, up.stderr
    assert f"127.0.0.1:{PROMETHEUS_PORT}" in up.stderr and "already in use" in up.stderr
    assert ledger.entries(COMPONENT) == []
    assert not _listening(EXPORTER_PORT)
