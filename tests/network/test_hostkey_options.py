"""Host keys through netmiko's own options: strict against nxgov's known_hosts once a key is known, nxgov's policy
for the first use (recorded and reported, never netmiko's rewrite of the file), and a changed key named."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest
from netmiko.exceptions import NetmikoTimeoutException

from nxgov.network.drivers import Target, hostkeys
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.errors import HostKeyChangedError
from nxgov.network.drivers.failures import login_error
from nxgov.network.drivers.hostkeys import KnownHosts, TrustedKey, fingerprint


def _key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


def test_sessions_are_held_to_nxgovs_file_with_netmikos_options(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    assert known.netmiko_options() == {"ssh_strict": True, "system_host_keys": False, "alt_host_keys": True,
                                       "alt_key_file": str(tmp_path / "known_hosts")}


def test_the_first_use_records_and_reports_the_offered_key_once(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    offered = _key()
    scans: list[tuple[str, int]] = []

    def scan(host: str, port: int, timeout: float) -> paramiko.PKey:
        scans.append((host, port))
        return offered

    monkeypatch.setattr(hostkeys, "offered_key", scan)
    reported: list[TrustedKey] = []
    known = KnownHosts(tmp_path / "known_hosts", on_trust=reported.append)
    known.first_use("r1", "192.0.2.1", 2201, 5)
    known.first_use("r1", "192.0.2.1", 2201, 5)
    assert scans == [("192.0.2.1", 2201)]
    assert reported == [TrustedKey("r1", "[192.0.2.1]:2201", offered.get_name(), fingerprint(offered),
                                   str(tmp_path / "known_hosts"))]
    stored = paramiko.HostKeys(str(tmp_path / "known_hosts")).lookup("[192.0.2.1]:2201")
    assert stored is not None and stored[offered.get_name()] == offered


def test_a_changed_key_behind_netmikos_error_is_named(tmp_path: Path) -> None:
    known, offered = _key(), _key()
    target = Target("r1", "frr", "192.0.2.1", 2201, Credentials("nxgov", "x"))
    try:
        try:
            raise paramiko.BadHostKeyException("[192.0.2.1]:2201", offered, known)
        except paramiko.SSHException:  # as netmiko's establish_connection does
            raise NetmikoTimeoutException("A paramiko SSHException occurred during connection creation")  # noqa: B904
    except NetmikoTimeoutException as error:
        mapped = login_error(target, "/kh", error)
    assert isinstance(mapped, HostKeyChangedError)
    assert (mapped.known, mapped.offered) == (fingerprint(known), fingerprint(offered))
    assert "ssh-keygen -R '[192.0.2.1]:2201' -f /kh" in (mapped.hint or "")
