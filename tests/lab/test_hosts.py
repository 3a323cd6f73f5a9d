"""The lab's legacy hosts: own namespaces, strict SSH host keys, a private PID space, a web app, clean teardown."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from nxgov.errors import LabError
from nxgov.lab import sshd
from nxgov.lab.hosts import LegacyHosts, LegacyHostSpec, data_file_content, data_file_name
from nxgov.lab.ledger import Ledger
from nxgov.lab.netns import namespaces
from tests.lab.conftest_netns import (
    leftovers,
    make_lab_dir,
    mount_namespace,
    own_lab,
    processes_in_mount_namespaces,
)

PROBE = Path("/etc/nxgov-privroot-probe")
PROBE_LOG = Path("/var/log/nxgov-probe/x")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDGn2WUSnw9nvWaj1bP2hKL8Hoy1cjzX9Vw1fX3Y7p3K test"


def _spec(name: str = "legacy-oa", address6: str = "2001:db8:100::11", address4: str | None = "198.51.100.139",
          user: str = "appuser", key: str = KEY, port: int = 8080) -> LegacyHostSpec:
    return LegacyHostSpec(name, address6, address4, "nxdrc-oa" if user != "root" else "nxdrc-db", user, key, 20, port)


def test_spec_refuses_addresses_outside_the_documentation_ranges_and_the_gateway() -> None:
    _spec().validate()
    for bad in (_spec(address6="fd00::11"), _spec(address4="10.0.0.11"), _spec(address6="2001:db8:100::1"),
                _spec(address4="198.51.100.129"),
                _spec(address4="2001:db8::5"), _spec(port=22)):
        with pytest.raises(LabError):
            bad.validate()


def test_data_files_are_deterministic() -> None:
    assert data_file_content("nxdrc-oa", 3) == data_file_content("nxdrc-oa", 3)
    assert data_file_content("nxdrc-oa", 3) != data_file_content("nxdrc-db", 3)
    assert data_file_name(7) == "file-0007.txt"


def test_remove_skips_hosts_the_ledger_does_not_know(tmp_path: Path) -> None:
    hosts = LegacyHosts(tmp_path)
    assert hosts.remove(["legacy-oa"]) == []
    assert hosts.names() == [] and not hosts.known_hosts.exists()


# -- the running lab -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[LegacyHosts, Path, list[LegacyHostSpec]]]:
    lab_dir = make_lab_dir()
    hosts = LegacyHosts(lab_dir)
    key = lab_dir / "client" / "id_ed25519"
    public = sshd.ensure_key(key, "test-client")
    specs = [_spec(key=public), _spec("legacy-db", "2001:db8:100::12", None, "root", public, 8081)]
    try:
        started = time.monotonic()
        hosts.up(specs, print)
        print(f"legacy hosts up and healthy in {time.monotonic() - started:.2f} s")
        yield hosts, key, specs
    finally:
        hosts.down()
        shutil.rmtree(lab_dir, ignore_errors=True)


def _ssh(hosts: LegacyHosts, key: Path, spec: LegacyHostSpec, address: str | None = None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(hosts.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(address or spec.address6, username=spec.user, key_filename=str(key), allow_agent=False,
                   look_for_keys=False, timeout=5)
    return client


def _run(client: paramiko.SSHClient, command: str) -> str:
    _, out, _ = client.exec_command(command, timeout=10)
    return str(out.read().decode())


@pytest.mark.lab
@own_lab
def test_ssh_with_strict_host_keys_sees_own_hostname_and_only_own_processes(lab: tuple[LegacyHosts, Path,
                                                                                         list[LegacyHostSpec]]) -> None:
    hosts, key, specs = lab
    for spec in specs:
        for address in filter(None, (spec.address6, spec.address4)):
            client = _ssh(hosts, key, spec, address)
            try:
                assert _run(client, "hostname").strip() == spec.name
                assert _run(client, "id -un").strip() == spec.user
                lines = _run(client, "ps -eo pid=,comm=").split()
                pids, comms = [int(p) for p in lines[::2]], set(lines[1::2])
                assert pids[0] == 1 and comms <= {"sshd", "python3", "bash", "sh", "ps"}, lines
                assert _run(client, f"ls {spec.data_dir} | wc -l").strip() == str(spec.data_files)
            finally:
                client.close()


@pytest.mark.lab
@own_lab
def test_writes_outside_the_hosts_files_stay_in_its_private_root(
        lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    hosts, key, specs = lab
    db = specs[1]  # root on the host
    client = _ssh(hosts, key, db)
    try:
        written = _run(client, f"echo probe > {PROBE} && mkdir -p {PROBE_LOG.parent} && echo probe > {PROBE_LOG} "
                               f"&& cat {PROBE} {PROBE_LOG} && ls {hosts.lab_dir} | wc -l")
        assert written.split() == ["probe", "probe", "0"]  # and the lab dir (keys, credentials) is hidden
        assert _run(client, "rsync --version | head -1").startswith("rsync  version")
        assert _run(client, "python3 -c 'print(6 * 7)'").strip() == "42"
        gateway = ipaddress.ip_interface(f"{db.address6}/64").network[1]
        assert _run(client, "ip -6 route show default").startswith(f"default via {gateway} ")
    finally:
        client.close()
    assert not PROBE.exists() and not PROBE_LOG.parent.exists()


@pytest.mark.lab
@own_lab
def test_the_app_runs_from_its_app_dir_as_the_hosts_user(lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    hosts, key, specs = lab
    oa = specs[0]
    client = _ssh(hosts, key, oa)
    try:
        assert _run(client, f"test -f {oa.app_dir}/app.py && echo yes").strip() == "yes"
        assert _run(client, "ps -o user=,args= -C python3").split() == [
            oa.user, "python3", f"{oa.app_dir}/app.py", "--port", str(oa.service_port), "--data", oa.data_dir]
        assert _run(client, f"test -s {oa.log_dir}/app.log && echo logged").strip() == "logged"
        assert _run(client, "ip route show default").startswith("default via 198.51.100.129 ")
    finally:
        client.close()


@pytest.mark.lab
@own_lab
def test_a_host_key_not_in_known_hosts_is_refused(lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    _, key, specs = lab
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        client.connect(specs[0].address6, username=specs[0].user, key_filename=str(key), allow_agent=False,
                       look_for_keys=False, timeout=5)
    client.close()


@pytest.mark.lab
@own_lab
def test_pkill_inside_a_host_cannot_reach_the_machine(lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    hosts, key, specs = lab
    outside = subprocess.Popen(["sleep", "60"])
    try:
        client = _ssh(hosts, key, specs[1])  # root on the host
        try:
            _run(client, "pkill -x sleep; true")
        finally:
            client.close()
        time.sleep(0.2)
        assert outside.poll() is None
    finally:
        outside.kill()
        outside.wait()


@pytest.mark.lab
@own_lab
def test_web_app_answers_health_and_serves_data_from_the_root_namespace(
        lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    _, _, specs = lab
    oa = specs[0]
    for base in (f"http://[{oa.address6}]:{oa.service_port}", f"http://{oa.address4}:{oa.service_port}"):
        with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:
            assert (answer.status, answer.read()) == (200, b"ok")
        with urllib.request.urlopen(f"{base}/data/{data_file_name(3)}", timeout=5) as answer:
            assert answer.read() == data_file_content(oa.system_code, 3)


@pytest.mark.lab
@own_lab
def test_up_again_reports_running_hosts_and_duplicates_nothing(
        lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    hosts, _, specs = lab
    before = hosts.ledger.entries("legacy-hosts")
    key_before = hosts.known_hosts.read_text()
    again = hosts.up(specs)
    assert [s.state for s in again] == ["running", "running"]
    assert all("already running" in s.detail for s in again)
    assert hosts.ledger.entries("legacy-hosts") == before
    assert hosts.known_hosts.read_text() == key_before


@pytest.mark.lab
@own_lab
def test_remove_takes_only_the_named_host(lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    hosts, key, specs = lab
    public = (key.parent / "id_ed25519.pub").read_text()
    extra = LegacyHostSpec("legacy-extra", "2001:db8:101::11", None, "nxdrc-extra", "appuser", public, 2, 8082)
    hosts.up([extra])
    entries = [e for e in hosts.ledger.entries("legacy-hosts") if e.info.get("host") == extra.name]
    assert hosts.names() == ["legacy-oa", "legacy-db", "legacy-extra"]
    gone = hosts.remove([extra.name, "not-a-host"])
    assert "address 2001:db8:101::1/64 on nxl-hosts" in gone
    assert hosts.names() == ["legacy-oa", "legacy-db"] and leftovers(entries) == []
    assert extra.netns not in namespaces() and not (hosts.dir / extra.name).exists()
    assert "2001:db8:101::11" not in hosts.known_hosts.read_text()
    assert [s.state for s in hosts.status()] == ["running", "running"]
    client = _ssh(hosts, key, specs[0])
    try:
        assert _run(client, "hostname").strip() == specs[0].name
    finally:
        client.close()


@pytest.mark.lab
@own_lab
def test_down_leaves_nothing(lab: tuple[LegacyHosts, Path, list[LegacyHostSpec]]) -> None:
    hosts, _, specs = lab
    entries = Ledger(hosts.lab_dir).entries("legacy-hosts")
    assert {e.kind for e in entries} == {"netns", "link", "mount", "process"}
    private = {mount_namespace(e.pid) for e in entries if e.name.endswith("/init") and e.pid is not None}
    assert len(private) == len(specs) and mount_namespace(os.getpid()) not in private
    started = time.monotonic()
    hosts.down()
    print(f"legacy hosts down in {time.monotonic() - started:.2f} s")
    assert leftovers(entries) == []
    assert not {s.netns for s in specs} & namespaces()
    assert processes_in_mount_namespaces(private) == []  # the private roots went with them
    assert hosts.status()[0].state == "stopped"

