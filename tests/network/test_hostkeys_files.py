"""nxgov's known_hosts: kept in its own state directory (not beside whatever --state names), refused when others
could have written it, and every key trusted on first use reported and audited (a real simulator process)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from nxgov.audit import AuditLog
from nxgov.errors import InputError
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, write_spec
from nxgov.network.drivers import SessionOptions, Target, driver
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.hostkeys import KnownHosts, TrustedKey, fingerprint
from nxgov.paths import default_known_hosts
from tests.estates_small import comware, one_site_estate

USER, PASSWORD = "netops", "Sim-pass-0k7!"


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeviceSpec]:
    root = tmp_path_factory.mktemp("hostkeys")
    spec = DeviceSpec("H1", "h3c_comware", free_loopback_ports(1)[0], USER, PASSWORD)
    write_spec(root / "devices.json", SimSpec((spec,)))
    process = NetsimProcess.start(root / "devices.json", root / "state", root / "netsim.log")
    try:
        yield spec
    finally:
        process.stop()


def test_known_hosts_is_in_nxgovs_state_directory_not_beside_the_state_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXGOV_STATE", "/tmp/x.db")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NXGOV_KNOWN_HOSTS", raising=False)
    assert default_known_hosts() == tmp_path / "xdg" / "nxgov" / "known_hosts"
    monkeypatch.setenv("NXGOV_KNOWN_HOSTS", str(tmp_path / "kh"))
    assert default_known_hosts() == tmp_path / "kh"


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_known_hosts_file_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "known_hosts"
    path.write_text("")
    path.chmod(mode)
    with pytest.raises(InputError) as raised:
        KnownHosts(path)
    assert f"the known hosts file {path} is writable by group or others (mode {mode:04o})" in raised.value.message
    assert raised.value.hint is not None and f"chmod 600 {path}" in raised.value.hint


def test_a_known_hosts_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "known_hosts"
    path.write_text("")
    path.chmod(0o600)
    owner = path.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    with pytest.raises(InputError) as raised:
        KnownHosts(path)
    assert f"the known hosts file {path} is owned by uid {owner}, not by you (uid {owner + 1})" in raised.value.message
    assert raised.value.hint is not None and f"chown $(id -u) {path}" in raised.value.hint


def test_a_key_trusted_on_first_use_is_reported_once(device: DeviceSpec, tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    target = Target("H1", device.platform, device.host, device.port, Credentials(USER, PASSWORD))
    reported: list[TrustedKey] = []
    known = KnownHosts(path, on_trust=reported.append)
    with driver(target, SessionOptions(known)):
        pass
    with driver(target, SessionOptions(KnownHosts(path, on_trust=reported.append))):
        pass
    address = f"[127.0.0.1]:{device.port}"
    stored = paramiko.HostKeys(str(path)).lookup(address)
    assert stored is not None
    key = next(iter(stored.values()))
    assert reported == [TrustedKey("H1", address, key.get_name(), fingerprint(key), str(path))]
    assert known.trusted_on_first_use == reported


@pytest.fixture
def own_known_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NXGOV_KNOWN_HOSTS", str(tmp_path / "own" / "known_hosts"))
    return tmp_path / "own" / "known_hosts"


def test_the_cli_keeps_known_hosts_in_its_own_directory_and_audits_trust(own_known_hosts: Path, nxgov,  # type: ignore[no-untyped-def]
                                                                         device: DeviceSpec, tmp_path: Path) -> None:
    credentials = tmp_path / "extranet.yaml"
    credentials.write_text(f"username: {USER}\npassword: '{PASSWORD}'\n")
    credentials.chmod(0o600)
    estate = tmp_path / "estate.yaml"
    estate.write_text(one_site_estate("hostkeys", credentials, comware("H1", device.port)), encoding="utf-8")
    state = tmp_path / "elsewhere" / "state.db"
    first = nxgov("-e", str(estate), "--state", str(state), "-o", "json", "net", "backup")
    assert first.code == 0, first.err
    second = nxgov("-e", str(estate), "--state", str(state), "-o", "json", "net", "backup")
    assert second.code == 0, second.err
    assert not (state.parent / "known_hosts").exists()
    address = f"[127.0.0.1]:{device.port}"
    assert f"H1: trusted the SSH host key of {address} on first use" in " ".join(first.err.split())
    assert "trusted the SSH host key" not in second.err
    json.loads(first.out)
    records = [r for r in AuditLog(tmp_path / "audit.jsonl").records() if r.command == "net known-hosts"]
    assert [(r.target, r.result, r.details["address"], r.details["during"]) for r in records] == [
        ("H1", "changed", address, "net backup")]
    assert records[0].details["fingerprint"].startswith("SHA256:")
    used = Path(records[0].details["known_hosts"])
    assert used.is_file() and used.parent != state.parent and address in used.read_text()
