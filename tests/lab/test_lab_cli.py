"""``nxgov lab`` end to end, through real processes: up (idempotent), status, env, the parts really
answering (netmiko on the simulated VRP and Comware devices, SSH and health of the legacy hosts), and
the errors an operator can hit (not root, a port in use)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import paramiko
import pytest
import yaml

from nxgov.estate import load_estate
from nxgov.lab.hosts import data_file_content, data_file_name
from tests.conftest import LAB_TEST_ENV, ROOT

pytestmark = pytest.mark.lab
LAB_ESTATE = ROOT / "inventories" / "lab"


def _nxgov(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", "from nxgov.cli.main import run; run()", *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **LAB_TEST_ENV}
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)


def test_lab_up_brought_every_part_up(lab_session: dict[str, object]) -> None:
    components = lab_session["components"]
    assert isinstance(components, list)
    by_part: dict[str, list[str]] = {}
    for c in components:
        by_part.setdefault(c["component"], []).append(c["state"])
    assert set(by_part) >= {"netsim", "extranet", "legacy-hosts", "openstack"}
    assert all(state == "running" for states in by_part.values() for state in states), components


def test_second_up_changes_nothing(lab_session: dict[str, object]) -> None:
    ledger = Path(str(lab_session["lab_dir"])) / "ledger.json"
    before = json.loads(ledger.read_text())
    result = _nxgov("-e", str(LAB_ESTATE), "-o", "json", "lab", "up")
    assert result.returncode == 0, result.stderr
    assert json.loads(ledger.read_text()) == before
    assert "already running" in result.stderr


def test_status_and_env(lab_session: dict[str, object]) -> None:
    status = _nxgov("-o", "json", "lab", "status")
    assert status.returncode == 0, status.stdout
    env = json.loads(_nxgov("-o", "json", "lab", "env").stdout)["env"]
    clouds = yaml.safe_load(Path(env["OS_CLIENT_CONFIG_FILE"]).read_text())["clouds"]
    estate = load_estate(LAB_ESTATE).estate
    assert {node.cloud for node in estate.clouds.values()} <= set(clouds)


def _credentials(name: str) -> dict[str, str]:
    ref = load_estate(LAB_ESTATE).estate.credentials[name]
    assert ref.file is not None
    path = Path(ref.file)
    assert path.stat().st_mode & 0o077 == 0, "credentials files must be 0600"
    return dict(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize(("device_type", "name"), [("huawei", "vrp-640100-a"), ("hp_comware", "cmw-640100-b")])
def test_netmiko_configures_and_reads_back_simulated_devices(lab_session: dict[str, object], device_type: str,
                                                           name: str) -> None:
    from netmiko import ConnectHandler

    device = next(d for d in load_estate(LAB_ESTATE).estate.extranet.devices if d.name == name)  # type: ignore[union-attr]
    creds = _credentials(device.credentials)
    address = "2001:DB8:6400:FF::1/128"
    with ConnectHandler(device_type=device_type, host=device.host, port=device.port, username=creds["username"],
                        password=creds["password"]) as conn:
        conn.send_config_set(["interface LoopBack7", f"ipv6 address {address}"])
        assert address in conn.send_command("display current-configuration")
        conn.send_config_set(["undo interface LoopBack7"])
        assert address not in conn.send_command("display current-configuration")


def test_legacy_hosts_reachable_with_their_data_and_healthy_service(lab_session: dict[str, object]) -> None:
    estate = load_estate(LAB_ESTATE).estate
    creds = _credentials("legacy-ssh")
    known_hosts = Path(str(lab_session["lab_dir"])) / "hosts" / "known_hosts"
    for system in [s for s in estate.systems if s.source]:
        assert system.source is not None and system.source.health is not None
        with urllib.request.urlopen(system.source.health, timeout=5) as answer:
            assert answer.status == 200
        client = paramiko.SSHClient()
        client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(system.source.host, username=creds["username"], key_filename=creds["ssh_key"],
                       look_for_keys=False, allow_agent=False, timeout=10)
        try:
            _, out, _ = client.exec_command(f"cat {system.source.paths[0]}/{data_file_name(1)}")
            assert out.read() == data_file_content(system.code, 1)
        finally:
            client.close()


def test_not_root_is_refused_with_the_reason() -> None:
    with tempfile.TemporaryDirectory(prefix="nxl-noroot-") as tmp:
        Path(tmp).chmod(0o777)
        result = _nxgov("--audit-log", f"{tmp}/audit.jsonl", "-e", str(LAB_ESTATE), "lab", "up",
                        "--lab-dir", f"{tmp}/lab", user="65534")
        audited = [json.loads(line) for line in Path(f"{tmp}/audit.jsonl").read_text().splitlines()]
    assert result.returncode == 1
    assert "needs root" in result.stderr and "network namespaces" in result.stderr
    assert "Traceback" not in result.stderr
    assert audited[-1]["command"] == "lab up" and audited[-1]["result"] == "failed"


def test_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        estate = tmp_path / "estate.yaml"
        text = (LAB_ESTATE / "estate.yaml").read_text().replace("port: 20022", f"port: {port}")
        lab_dir = tmp_path / "lab"
        text = text.replace("/var/lib/nxgov/lab/credentials", str(lab_dir / "credentials"))
        estate.write_text(text)
        result = _nxgov("--audit-log", str(tmp_path / "audit.jsonl"), "-e", str(estate), "lab", "up", "--only",
                        "netsim", "--lab-dir", str(lab_dir))
        assert result.returncode == 1, result.stderr
        assert f"127.0.0.1:{port}" in result.stderr and "already in use" in result.stderr
        ledger = lab_dir / "ledger.json"
        assert not ledger.exists() or json.loads(ledger.read_text()) == []
