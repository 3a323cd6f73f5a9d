"""Against the lab's real services: ``server_access`` gives the servers nxgov creates the keypair of the lab-servers
key, a server made before without it is created again with it (once), ``system_servers`` finds the system's
servers and addresses, and the lab's Nova driver lets nxgov in as root over SSH with that key."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pytest

from nxgov.cloud.access import access_of
from nxgov.cloud.servers import ABSENT, TargetServer, server_login, system_servers
from nxgov.estate import load_estate
from nxgov.network.drivers.credentials import Credentials
from tests.cloud.conftest import LabEstate, Run
from tests.cloud.test_lab_lifecycle import _admin, plan_json

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def test_servers_get_the_keypair_and_answer_ssh_as_root(cli: Callable[..., Run], estate: LabEstate, lab_clouds: Path,
                                                      openstack_lab: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    d = f"{estate.name}d"
    system = f"{d}-web"
    estate.doc["departments"] = [x for x in estate.doc["departments"] if x["code"] == d]
    estate.doc["systems"] = [s for s in estate.doc["systems"] if s["code"] == system]
    access = estate.doc.pop("server_access")
    assert access == {"credentials": "lab-servers"}
    estate.write()
    applied = cli("cloud", "apply", "--yes", estate=estate.path)
    assert applied.code == 0, applied.out + applied.err
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(lab_clouds))
    before = system_servers(load_estate(estate.path), system)
    assert [(s.node, s.keypair) for s in before] == [("yinchuan", None), ("zhongwei", None)]

    # server_access on: the servers made without the key are created again with it (said so), then nothing
    estate.doc["server_access"] = access
    estate.write()
    planned = plan_json(cli, estate)
    replaced = {(c["desired"]["node"], c["desired"]["name"]): c["reason"] for c in planned["changes"]
                if c["desired"]["kind"] == "server"}
    assert set(replaced) == {("yinchuan", f"{system}-web-1"), ("zhongwei", f"{system}-web-1")}
    assert all(reason.startswith("key_name: Nova puts a server's keypair in only when it is created")
               for reason in replaced.values())
    assert all(c["action"] in ("replace", "create") for c in planned["changes"])
    drift = cli("-o", "json", "cloud", "drift", estate=estate.path)
    assert drift.code == 3 and {c["name"] for c in json.loads(drift.out)["changed"]} == {f"{system}-web-1"}
    applied = cli("cloud", "apply", "--yes", estate=estate.path)
    assert applied.code == 0, applied.out + applied.err
    again = cli("cloud", "plan", "--detailed-exitcode", estate=estate.path)
    assert again.code == 0, again.out + again.err
    assert cli("cloud", "drift", estate=estate.path).code == 0

    # the keypair: on both nodes, the lab-servers key's public half, owned by the user nxgov connects as
    loaded = load_estate(estate.path)
    keypair = access_of(loaded.estate)
    assert keypair is not None and keypair.keypair == "nxgov-ops"
    for node in ("yinchuan", "zhongwei"):
        compute = _admin(lab_clouds, node=node).compute
        found = compute.get_keypair("nxgov-ops")
        assert " ".join(found.public_key.split()[:2]) == keypair.public_key
        assert found.user_id == _admin(lab_clouds, node=node).current_user_id

    # system_servers: the active copy on yinchuan, the stopped standby on zhongwei, both with the keypair
    servers = system_servers(loaded, system)
    assert [(s.name, s.node, s.status, s.declared_status, s.keypair) for s in servers] == [
        (f"{system}-web-1", "yinchuan", "ACTIVE", "ACTIVE", "nxgov-ops"),
        (f"{system}-web-1", "zhongwei", "SHUTOFF", "SHUTOFF", "nxgov-ops")]
    for server in servers:
        assert len(server.addresses) == 2 and ":" in server.addresses[0] and "." in server.addresses[1]
        assert server.addresses[1].startswith("198.51.100.")

    # root over SSH with the lab-servers key, on the server's IPv6 address (each test estate has its own /64;
    # the departments' IPv4 subnets are the same in every test estate, so an IPv4 address may be another's)
    login = server_login(loaded)
    assert login.username == "root" and login.ssh_key is not None
    active = servers[0]
    assert _ssh_true(active, login, Path(openstack_lab.lab_dir)) == 0


def test_a_server_the_node_does_not_have_is_absent(estate: LabEstate, lab_clouds: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(lab_clouds))
    system = f"{estate.name}d-web"
    servers = system_servers(load_estate(estate.path), system)
    assert [(s.name, s.node, s.status, s.declared_status, s.id, s.addresses) for s in servers] == [
        (f"{system}-web-1", "yinchuan", ABSENT, "ACTIVE", None, []),
        (f"{system}-web-1", "zhongwei", ABSENT, "SHUTOFF", None, [])]


def _ssh_true(server: TargetServer, login: Credentials, lab_dir: Path) -> int:
    """Run ``true`` on ``server`` over SSH as ``login``, checking the host key the lab's Nova driver made for it."""
    assert server.id is not None
    host_key = (lab_dir / "servers" / server.id / "ssh_host_ed25519_key.pub").read_text().split()
    address = server.addresses[0]
    client = paramiko.SSHClient()
    client.get_host_keys().add(address, host_key[0], paramiko.Ed25519Key(data=base64.b64decode(host_key[1])))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    deadline = time.monotonic() + 30
    while True:
        try:
            client.connect(address, username=login.username, key_filename=str(login.ssh_key), look_for_keys=False,
                           allow_agent=False, timeout=5)
            break
        except (OSError, paramiko.SSHException):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    try:
        _, out, _ = client.exec_command("true", timeout=10)
        return out.channel.recv_exit_status()
    finally:
        client.close()
