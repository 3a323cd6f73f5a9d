"""``nxgov monitor serve`` and ``check`` as real processes: bad input refused with exit 2 and the fix, /metrics and
/healthz, TLS, and a real Prometheus scraping the exporter (the state store and audit log sources; the cloud
nodes are in test_monitor_lab.py)."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nxgov.audit import AuditLog
from nxgov.lab.prometheus import Prometheus, config
from tests.conftest import Run
from tests.monitor.helpers import ROOT, Served, promtool, require_prometheus, serve

Nx = Callable[..., Run]
LAB = str(ROOT / "inventories" / "lab")
LOCAL = ("--only", "migration", "--only", "extranet", "--only", "audit", "--only", "backup")
"""The families that read no cloud."""


def _env(tmp_path: Path) -> dict[str, str]:
    return {"NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "NXGOV_STATE": str(tmp_path / "state.db")}


@pytest.mark.parametrize(("args", "says", "hint"), [
    (("--listen", "8790"), "has no port", "ADDRESS:PORT"),
    (("--listen", "ops.example:8790"), "is not an IP address", "ADDRESS:PORT"),
    (("--listen", "198.51.100.7:8790"), "cannot listen on 198.51.100.7:8790", "address of this machine"),
    (("--refresh", "0"), "--refresh 0 is out of range", "between 1 and 86400"),
    (("--only", "backups"), "no such metric family", "cloud, migration, extranet, audit, backup"),
    (("--tls-cert", "/nonexistent.pem"), "--tls-cert and --tls-key go together", "give both"),
    (("--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"), "cannot use --tls-cert", "PEM"),
    (("--timeout", "0"), "--timeout 0 is out of range", "between 1 and 600"),
])
def test_bad_options_are_refused_with_the_fix(nxgov: Nx, args: tuple[str, ...], says: str, hint: str) -> None:
    result = nxgov("-e", LAB, "-o", "json", "monitor", "serve", "--listen", "127.0.0.1:0", *LOCAL, *args)
    assert result.code == 2, result.err
    document = json.loads(result.out)
    assert says in document["error"]["message"] and hint in document["error"]["hint"], document
    assert "Traceback" not in result.err


def test_a_port_in_use_is_refused_with_the_fix(nxgov: Nx) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = nxgov("-e", LAB, "monitor", "serve", "--listen", f"127.0.0.1:{port}", *LOCAL)
    assert result.code == 2
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.err
    assert "choose another port with --listen" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("command", ["serve", "check"])
def test_an_unreadable_estate_is_refused(nxgov: Nx, tmp_path: Path, command: str) -> None:
    missing = nxgov("-e", str(tmp_path / "nothing.yaml"), "monitor", command, "--listen", "127.0.0.1:0") \
        if command == "serve" else nxgov("-e", str(tmp_path / "nothing.yaml"), "monitor", command)
    assert missing.code == 2 and "nothing.yaml" in missing.err
    broken = tmp_path / "estate.yaml"
    broken.write_text("estate: lab\nclouds: {yinchuan: {cloud: x, role: primary}\n", encoding="utf-8")
    result = nxgov("-e", str(broken), "monitor", command, *(["--listen", "127.0.0.1:0"] if command == "serve" else []))
    assert result.code == 2 and "estate.yaml" in result.err and "Traceback" not in result.err


def test_a_store_that_is_not_a_store_is_refused_before_serving(nxgov: Nx, tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(b"this is not SQLite" * 100)
    result = nxgov("-e", LAB, "monitor", "serve", "--listen", "127.0.0.1:0", *LOCAL)
    assert result.code == 2 and "state.db" in result.err and "Traceback" not in result.err


def test_check_prints_the_sources_and_exits_1_when_one_is_down(nxgov: Nx, tmp_path: Path) -> None:
    AuditLog(tmp_path / "audit.jsonl").append("test", "t", "ok")
    ok = nxgov("-e", LAB, "monitor", "check", *LOCAL)
    assert ok.code == 0, ok.err
    assert "migration" in ok.out and "nxgov_audit_chain_intact" in ok.out
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds: {}\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "-e", LAB, "-o", "json",
                           "monitor", "check", "--only", "cloud", "--only", "audit"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, **_env(tmp_path),
                                                      "OS_CLIENT_CONFIG_FILE": str(clouds)})
    down = Run(proc.returncode, proc.stdout, proc.stderr)
    document = json.loads(down.out)
    assert down.code == 1 and document["ok"] is False
    states = {(s["source"], s["node"]): s for s in document["sources"]}
    assert states[("audit", None)]["up"] is True
    assert states[("cloud", "yinchuan")]["up"] is False and "nxlab-yinchuan" in states[("cloud", "yinchuan")]["error"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = serve(tmp_path, "-e", LAB, "monitor", "serve", "--listen", "127.0.0.1:0", "--refresh", "1", *LOCAL,
                    env=_env(tmp_path))
    yield running
    running.stop()


def test_metrics_and_healthz(served: Served) -> None:
    status, text = served.get("/metrics")
    assert status == 200
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked
    status, health = served.get("/healthz")
    assert status == 200 and set(json.loads(health)["sources"]) == {"migration", "extranet", "audit", "backup"}


def test_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    running = serve(tmp_path, "-e", LAB, "monitor", "serve", "--listen", "127.0.0.1:0", "--tls-cert", str(cert),
                    "--tls-key", str(key), *LOCAL, env=_env(tmp_path))
    try:
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://{running.address}/metrics", context=context, timeout=10) as response:
            assert b"nxgov_up" in response.read()
        with pytest.raises(OSError), urllib.request.urlopen(f"http://{running.address}/metrics", timeout=10):
            pass
    finally:
        running.stop()


def test_a_real_prometheus_scrapes_the_state_and_audit_sources(tmp_path: Path) -> None:
    require_prometheus()
    log = AuditLog(tmp_path / "audit.jsonl", operator="tester")
    for n in range(3):
        log.append("test", f"t{n}", "ok")
    running = serve(tmp_path, "-e", LAB, "monitor", "serve", "--listen", "127.0.0.1:0", "--refresh", "1", *LOCAL,
                    env=_env(tmp_path))
    prometheus = Prometheus(tmp_path / "prometheus", config([running.address], interval=1.0))
    try:
        prometheus.start()
        prometheus.wait(lambda: prometheus.values('nxgov_audit_records_total') != {}, 60, "a scrape")
        assert list(prometheus.values("nxgov_audit_records_total").values()) == [3]
        assert list(prometheus.values("nxgov_audit_chain_intact").values()) == [1]
        up = {dict(k)["source"]: v for k, v in prometheus.values("nxgov_up").items()}
        assert up == {"migration": 1, "extranet": 1, "audit": 1, "backup": 1}
        rpo = prometheus.values("nxgov_backup_rpo_seconds")
        assert {dict(k)["system"]: v for k, v in rpo.items()} == {"labdrc-web": 3600, "labedu-exam": 86400}
        assert {dict(k)["system"]: v for k, v in prometheus.values("nxgov_backup_rpo_met").items()} == {
            "labdrc-web": 0}                       # no copy yet; labedu-exam has no data volume: no RPO
        systems = prometheus.values('sum by (department) (nxgov_migration_systems{state="not-assessed"})')
        assert {dict(k)["department"]: v for k, v in systems.items()} == {"labdrc": 1, "labedu": 2}
        for n in range(2):
            log.append("test", f"more{n}", "ok")
        prometheus.wait(lambda: list(prometheus.values("nxgov_audit_records_total").values()) == [5], 30,
                        "the new records")
        log.path.write_text(log.path.read_text(encoding="utf-8").replace("more0", "mor3!"), encoding="utf-8")
        prometheus.wait(lambda: list(prometheus.values("nxgov_audit_chain_intact").values()) == [0], 30,
                        "the broken chain")
    finally:
        prometheus.stop()
        running.stop()
