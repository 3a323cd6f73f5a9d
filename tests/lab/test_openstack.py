"""The OpenStack part of the rehearsal lab, exercised through openstacksdk and the lab's clouds.yaml."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paramiko
import pytest
from openstack import config as os_config
from openstack import connection

from nxgov.lab.ledger import Ledger
from nxgov.lab.netns import namespaces
from nxgov.lab.openstack import OpenStackLab
from nxgov.lab.openstack.bootstrap import lab_image_bytes
from nxgov.lab.openstack.config import REGIONS, Layout
from nxgov.lab.openstack.volumes import BYTES_PER_GB, volume_file
from tests.lab.conftest_netns import mount_namespace, processes_in_mount_namespaces

pytestmark = pytest.mark.lab

NOVA_REGIONS = [r for r, s in REGIONS.items() if "nova" in s]
CINDER_REGIONS = [r for r, s in REGIONS.items() if "cinder" in s]
GLANCE_REGIONS = [r for r, s in REGIONS.items() if "glance" in s]
# Tenant address plan of the tests: documentation ranges only, distinct per region.
TENANT_V4 = {"yinchuan": "198.51.100.128/27", "zhongwei": "198.51.100.160/27", "backup": "198.51.100.224/27"}
TENANT_V6 = {"yinchuan": "2001:db8:11::/64", "zhongwei": "2001:db8:12::/64", "backup": "2001:db8:13::/64"}
SERVER_REGIONS = ["yinchuan", "zhongwei", "backup"]  # named, not derived: restore drills boot servers in backup


def connect(lab: OpenStackLab, cloud: str) -> Any:
    loader = os_config.OpenStackConfig(config_files=[str(lab.clouds_yaml)], vendor_files=[], load_envvars=False)
    return connection.Connection(config=loader.get_one(cloud=cloud))


@pytest.fixture(scope="module")
def admin(openstack_lab: OpenStackLab) -> Iterator[Callable[[str], Any]]:
    conns: dict[str, Any] = {}

    def get(region: str) -> Any:
        if region not in conns:
            conns[region] = connect(openstack_lab, f"nxlab-{region}")
        return conns[region]

    yield get
    for conn in conns.values():
        conn.close()


@pytest.fixture(scope="module")
def member(openstack_lab: OpenStackLab) -> Iterator[Callable[[str], Any]]:
    conns: dict[str, Any] = {}

    def get(region: str) -> Any:
        if region not in conns:
            conns[region] = connect(openstack_lab, f"nxlab-{region}-member")
        return conns[region]

    yield get
    for conn in conns.values():
        conn.close()


def _name(prefix: str) -> str:
    return f"nxtest-{prefix}-{secrets.token_hex(3)}"


def _wait(check: Callable[[], bool], timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def test_clouds_yaml_is_private(openstack_lab: OpenStackLab) -> None:
    mode = stat.S_IMODE(os.stat(openstack_lab.clouds_yaml).st_mode)
    assert mode == 0o600
    assert openstack_lab.env() == {"OS_CLIENT_CONFIG_FILE": str(openstack_lab.clouds_yaml)}


def test_catalog_has_every_region_on_loopback(admin: Callable[[str], Any]) -> None:
    conn = admin("yinchuan")
    assert {r.id for r in conn.identity.regions()} >= set(REGIONS)
    endpoints = list(conn.identity.endpoints())
    assert endpoints and all(e.url.startswith("http://127.0.0.1:") for e in endpoints)


def test_status_all_healthy(openstack_lab: OpenStackLab) -> None:
    bad = [s for s in openstack_lab.status() if s.state != "running"]
    assert not bad, bad


def test_up_again_reports_running(openstack_lab: OpenStackLab) -> None:
    said: list[str] = []
    openstack_lab.up(said.append)
    assert any("already running" in s for s in said)


@pytest.mark.parametrize("region", list(REGIONS))
def test_project_and_quotas(admin: Callable[[str], Any], region: str) -> None:
    conn = admin(region)
    project = conn.identity.create_project(name=_name(region), domain_id="default")
    try:
        services = REGIONS[region]
        if "nova" in services:
            conn.set_compute_quotas(project.id, cores=11, instances=7, ram=12345)
            q = conn.get_compute_quotas(project.id)
            assert (q.cores, q.instances, q.ram) == (11, 7, 12345)
        if "neutron" in services:
            conn.set_network_quotas(project.id, networks=5, floating_ips=3, routers=2)
            q = conn.get_network_quotas(project.id)
            assert (q.networks, q.floating_ips, q.routers) == (5, 3, 2)
        if "cinder" in services:
            conn.set_volume_quotas(project.id, volumes=9, gigabytes=99, snapshots=4)
            q = conn.get_volume_quotas(project.id)
            assert (q.volumes, q.gigabytes, q.snapshots) == (9, 99, 4)
    finally:
        conn.identity.delete_project(project)


def _dual_stack(conn: Any, region: str) -> tuple[Any, Any, Any, Any]:
    net = conn.network.create_network(name=_name("net"))
    v4 = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr=TENANT_V4[region], name=_name("v4"))
    v6 = conn.network.create_subnet(network_id=net.id, ip_version=6, cidr=TENANT_V6[region], name=_name("v6"),
                                    ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    router = conn.network.create_router(name=_name("router"))
    return net, v4, v6, router


def _cleanup_network(conn: Any, net: Any, subnets: list[Any], router: Any) -> None:
    for subnet in subnets:
        conn.network.remove_interface_from_router(router, subnet=subnet.id)
    conn.network.delete_router(router)
    for port in conn.network.ports(network_id=net.id):
        conn.network.delete_port(port)
    conn.network.delete_network(net)


@pytest.mark.parametrize("region", NOVA_REGIONS)
def test_dual_stack_router_and_security_group(member: Callable[[str], Any], region: str) -> None:
    conn = member(region)
    net, v4, v6, router = _dual_stack(conn, region)
    try:
        assert (v4.ip_version, v6.ip_version) == (4, 6)
        public = conn.network.find_network("public")
        assert public is not None and public.is_router_external
        conn.network.update_router(router, external_gateway_info={"network_id": public.id})
        conn.network.add_interface_to_router(router, subnet=v4.id)
        conn.network.add_interface_to_router(router, subnet=v6.id)
        ports = list(conn.network.ports(device_id=router.id))
        owners = {p.device_owner for p in ports}
        assert "network:router_interface" in owners
        sg = conn.network.create_security_group(name=_name("sg"))
        try:
            rule = conn.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol="tcp",
                port_range_min=22, port_range_max=22, remote_ip_prefix="198.51.100.0/24")
            assert rule.port_range_min == 22
            rule6 = conn.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", ethertype="IPv6", protocol="tcp",
                port_range_min=22, port_range_max=22, remote_ip_prefix="2001:db8::/32")
            assert rule6.ether_type == "IPv6"
        finally:
            conn.network.delete_security_group(sg)
        conn.network.update_router(router, external_gateway_info={})
    finally:
        _cleanup_network(conn, net, [v4, v6], router)


def _keypair(conn: Any) -> tuple[Any, paramiko.PKey]:
    key = paramiko.RSAKey.generate(2048)
    kp = conn.compute.create_keypair(name=_name("kp"), public_key=f"ssh-rsa {key.get_base64()} nxlab-test")
    return kp, key


@pytest.mark.parametrize("region", SERVER_REGIONS)
def test_server_active_and_reachable(openstack_lab: OpenStackLab, member: Callable[[str], Any], region: str) -> None:
    conn = member(region)
    net, _v4, _v6, router = _dual_stack(conn, region)
    kp, key = _keypair(conn)
    server = None
    try:
        flavor = conn.compute.find_flavor("m1.tiny")
        image = conn.image.find_image("cirros-lab")
        server = conn.compute.create_server(name=_name("vm"), flavor_id=flavor.id, image_id=image.id,
                                            networks=[{"uuid": net.id}], key_name=kp.name)
        server = conn.compute.wait_for_server(server, status="ACTIVE", wait=120)
        addresses = [a["addr"] for nets in server.addresses.values() for a in nets]
        v4_addr = next(a for a in addresses if ":" not in a)
        assert any(":" in a for a in addresses), addresses
        v6_addr = next(a for a in addresses if ":" in a)
        for address in (v4_addr, v6_addr):
            text = _ssh(address, key, "ip -o addr show dev eth0; hostname")
            assert v4_addr in text and v6_addr in text
        _check_private_root_and_forwarding(v6_addr, key)
        private = {mount_namespace(e.pid) for e in Ledger(openstack_lab.lab_dir).entries("servers")
                   if e.info.get("instance") == server.id and e.name == "sshd" and e.pid is not None}
        assert len(private) == 1 and mount_namespace(os.getpid()) not in private
    finally:
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=120)
        conn.compute.delete_keypair(kp)
        _cleanup_network(conn, net, [], router)
    assert server is not None
    assert not [e for e in Ledger(openstack_lab.lab_dir).entries("servers") if e.info.get("instance") == server.id]
    assert f"nxs-{server.id.replace('-', '')[:8]}" not in namespaces()
    assert not (openstack_lab.lab_dir / "servers" / server.id).exists()
    assert processes_in_mount_namespaces(private) == []  # its private root went with it


PROBE, PROBE_LOG = Path("/etc/nxgov-privroot-probe"), Path("/var/log/nxgov-probe/x")


def _check_private_root_and_forwarding(address: str, key: paramiko.PKey) -> None:
    """Writes outside land in the server's private root; rsync and python3 work; ``ssh -R`` and agent forwarding
    are allowed (what migrations use)."""
    written = _ssh(address, key, f"echo probe > {PROBE} && mkdir -p {PROBE_LOG.parent} && echo probe > {PROBE_LOG} "
                                 f"&& cat {PROBE} {PROBE_LOG} && rsync --version | head -1 && python3 -c 'print(42)' "
                                 "&& find /root /srv -mindepth 1 | wc -l "
                                 "&& head -c 1100m /dev/zero > /srv/big && du -sm /srv/big")
    assert written.split()[:4] == ["probe", "probe", "rsync", "version"], written
    assert written.split()[-4:] == ["42", "0", "1100", "/srv/big"], written  # /root and /srv start empty
    assert not PROBE.exists() and not PROBE_LOG.parent.exists()
    client = _connect(address, key)
    try:
        transport = client.get_transport()
        assert transport is not None
        port = transport.request_port_forward("127.0.0.1", 0, _greet)
        _, out, _ = client.exec_command(f"python3 -c \"import socket; print(socket.create_connection(('127.0.0.1', "
                                        f"{port}), timeout=5).recv(2).decode())\"", timeout=15)
        assert out.read().decode().strip() == "hi"
        chan = transport.open_session()
        chan.request_forward_agent(lambda agent: agent.close())
        chan.exec_command('echo "$SSH_AUTH_SOCK"')
        assert chan.makefile().read().decode().strip().startswith("/tmp/ssh-")
    finally:
        client.close()


def _greet(chan: paramiko.Channel, _origin: tuple[str, int], _server: tuple[str, int]) -> None:
    """What answers a connection the server makes to a port forwarded back to us (``ssh -R``)."""
    chan.sendall(b"hi")
    chan.close()


def _ssh(address: str, key: paramiko.PKey, command: str, timeout: float = 30.0) -> str:
    """Run ``command`` as root on a lab server over SSH from the root namespace; return its output."""
    client = _connect(address, key, timeout)
    try:
        _, out, _ = client.exec_command(command)
        return str(out.read().decode())
    finally:
        client.close()


def _connect(address: str, key: paramiko.PKey, timeout: float = 30.0) -> paramiko.SSHClient:
    """Log in as root to a lab server (retrying while its sshd starts)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.connect(address, username="root", pkey=key, timeout=5, allow_agent=False, look_for_keys=False)
            break
        except (OSError, paramiko.SSHException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    return client


@pytest.mark.parametrize("region", CINDER_REGIONS)
def test_volume_snapshot_backup(member: Callable[[str], Any], region: str) -> None:
    conn = member(region)
    bs = conn.block_storage
    volume = bs.create_volume(name=_name("vol"), size=1)
    bs.wait_for_status(volume, status="available", wait=120)
    snapshot = bs.create_snapshot(volume_id=volume.id, name=_name("snap"))
    bs.wait_for_status(snapshot, status="available", wait=120)
    backup = bs.create_backup(volume_id=volume.id, name=_name("bak"))
    backup = bs.wait_for_status(backup, status="available", failures=["error"], wait=180)
    assert backup.status == "available"
    bs.delete_backup(backup)
    bs.wait_for_delete(backup, wait=120)
    bs.delete_snapshot(snapshot)
    bs.wait_for_delete(snapshot, wait=120)
    bs.delete_volume(volume)
    bs.wait_for_delete(volume, wait=120)


def _backup_of_snapshot(bs: Any, volume: Any, name: str, incremental: bool) -> Any:
    snapshot = bs.wait_for_status(bs.create_snapshot(volume_id=volume.id, name=_name(f"{name}-snap")),
                                  status="available", failures=["error"], wait=120)
    backup = bs.create_backup(volume_id=volume.id, snapshot_id=snapshot.id, name=_name(name),
                              is_incremental=incremental)
    return bs.wait_for_status(backup, status="available", failures=["error"], wait=180)


def _import_into(backup_bs: Any, record: dict[str, Any]) -> Any:
    """``import_record`` by hand: openstacksdk 4.22's ``Backup.import_record`` posts to ``export_record``."""
    body = {"backup-record": {"backup_service": record["backup_service"], "backup_url": record["backup_url"]}}
    answer = backup_bs.post("/backups/import_record", json=body)
    assert answer.status_code == 201, answer.text
    return backup_bs.wait_for_status(backup_bs.get_backup(answer.json()["backup"]["id"]), status="available",
                                     failures=["error"], wait=120)


def _restore(bs: Any, backup: Any) -> Any:
    """Start restoring ``backup`` into a new volume; return that volume (not waited for)."""
    answer = bs.post(f"/backups/{backup.id}/restore", json={"restore": {"name": _name("restored")}})
    assert answer.status_code == 202, answer.text
    return bs.get_volume(answer.json()["restore"]["volume_id"])


def test_backup_copied_into_backup_store_restores_in_backup_region(openstack_lab: OpenStackLab,
                                                                    admin: Callable[[str], Any]) -> None:
    """A volume at yinchuan, a full and an incremental backup of its snapshots, each backup's container copied
    into the backup region's store and its record imported there: the backup region restores the bytes."""
    lab_dir, layout = openstack_lab.lab_dir, Layout(openstack_lab.lab_dir)
    bs, backup_bs = admin("yinchuan").block_storage, admin("backup").block_storage
    volume = bs.wait_for_status(bs.create_volume(name=_name("drvol"), size=8), status="available", wait=120)
    made: list[tuple[Any, Any]] = []  # (block storage proxy, backup), deleted newest first
    restored: list[Any] = []
    copied: list[Path] = []
    try:
        original = os.urandom(8 * BYTES_PER_GB)
        volume_file(lab_dir, "yinchuan", volume.id).write_bytes(original)
        full = _backup_of_snapshot(bs, volume, "full", incremental=False)
        made.append((bs, full))
        changed = bytearray(original)
        changed[BYTES_PER_GB:BYTES_PER_GB + len(original) // 100] = os.urandom(len(original) // 100)  # 1 %
        volume_file(lab_dir, "yinchuan", volume.id).write_bytes(changed)
        incremental = _backup_of_snapshot(bs, volume, "incr", incremental=True)
        made.append((bs, incremental))
        assert bs.get_backup(incremental.id).is_incremental

        for backup in (full, incremental):
            source = layout.backup_store("yinchuan") / backup.container
            names = sorted(p.name for p in source.iterdir())  # volume_<volume>_<time>_backup_<backup><suffix>
            assert all(n.startswith(f"volume_{volume.id}_") for n in names), names
            assert [n.rsplit(backup.id, 1)[-1] for n in names] == ["-00001", "_metadata", "_sha256file"], names
            copied.append(layout.backup_store("backup") / backup.container)
            subprocess.run(["rsync", "-a", "--mkpath", f"{source}/", f"{copied[-1]}/"], check=True)
        sizes = {b.id: next((layout.backup_store("yinchuan") / b.container).glob("*-00001")).stat().st_size
                 for b in (full, incremental)}
        assert sizes[full.id] == len(original) and sizes[incremental.id] < len(original) // 10, sizes

        imported = [_import_into(backup_bs, bs.export_backup(b)["backup-record"]) for b in (full, incremental)]
        made += [(backup_bs, b) for b in imported]
        assert [b.id for b in imported] == [full.id, incremental.id]
        for backup, want in zip(imported, (original, bytes(changed)), strict=True):
            target = _restore(backup_bs, backup)
            restored.append(target)
            backup_bs.wait_for_status(target, status="available", failures=["error", "error_restoring"], wait=180)
            got = volume_file(lab_dir, "backup", target.id).read_bytes()
            assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest(), f"restore of {backup.id}"
    finally:
        for target in restored:
            backup_bs.delete_volume(target)
        for proxy, backup in reversed(made):
            proxy.delete_backup(backup)
            proxy.wait_for_delete(backup, wait=120)
        for snapshot in list(bs.snapshots(volume_id=volume.id)):
            bs.delete_snapshot(snapshot)
            bs.wait_for_delete(snapshot, wait=120)
        bs.delete_volume(volume)
        for container in copied:  # left when the test failed before the import (an import's delete removes them)
            shutil.rmtree(container, ignore_errors=True)


def test_upload_to_image_gives_glance_the_volume_bytes(openstack_lab: OpenStackLab,
                                                       member: Callable[[str], Any]) -> None:
    conn = member("yinchuan")
    bs = conn.block_storage
    volume = bs.wait_for_status(bs.create_volume(name=_name("upvol"), size=2), status="available", wait=120)
    image_id = None
    try:
        data = os.urandom(2 * BYTES_PER_GB)
        volume_file(openstack_lab.lab_dir, "yinchuan", volume.id).write_bytes(data)
        answer = bs.upload_volume_to_image(volume, _name("fromvol"), disk_format="raw", container_format="bare")
        image_id = answer["image_id"]
        image = conn.image.wait_for_status(conn.image.get_image(image_id), status="active", failures=["killed"],
                                           wait=120)
        got = conn.image.download_image(image)
        body = got.content if hasattr(got, "content") else got
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
        bs.wait_for_status(volume, status="available", wait=120)
    finally:
        if image_id is not None:
            conn.image.delete_image(image_id)
        bs.delete_volume(volume)


def test_volume_from_image_holds_the_image_bytes(openstack_lab: OpenStackLab, member: Callable[[str], Any]) -> None:
    conn = member("yinchuan")
    bs = conn.block_storage
    image = conn.image.find_image("cirros-lab", ignore_missing=False)
    volume = bs.create_volume(name=_name("imgvol"), size=1, image_id=image.id)
    try:
        bs.wait_for_status(volume, status="available", failures=["error"], wait=120)
        got = volume_file(openstack_lab.lab_dir, "yinchuan", volume.id).read_bytes()
        want = lab_image_bytes()
        assert len(got) == BYTES_PER_GB and got[:len(want)] == want and not got[len(want):].strip(b"\0")
    finally:
        bs.delete_volume(volume)


@pytest.mark.parametrize("region", GLANCE_REGIONS)
def test_image_upload_download_checksum(member: Callable[[str], Any], region: str) -> None:
    conn = member(region)
    data = os.urandom(64 * 1024)
    image = conn.image.create_image(name=_name("img"), data=data, disk_format="raw", container_format="bare")
    try:
        image = conn.image.get_image(image)
        assert image.checksum == hashlib.md5(data).hexdigest()  # glance's own checksum
        got = conn.image.download_image(image)
        body = got.content if hasattr(got, "content") else got
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    finally:
        conn.image.delete_image(image)


def test_eight_servers_and_eight_volumes_at_once(member: Callable[[str], Any]) -> None:
    region = NOVA_REGIONS[0]
    conn = member(region)
    net = conn.network.create_network(name=_name("burst"))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="198.51.100.192/27")
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros-lab")

    def server(i: int) -> str:
        c = connect_like(conn)
        s = c.compute.create_server(name=_name(f"burst{i}"), flavor_id=flavor.id, image_id=image.id,
                                    networks=[{"uuid": net.id}])
        return str(c.compute.wait_for_server(s, status="ACTIVE", wait=240).status)

    def volume(i: int) -> str:
        c = connect_like(conn)
        v = c.block_storage.create_volume(name=_name(f"burst{i}"), size=1)
        return str(c.block_storage.wait_for_status(v, status="available", wait=240).status)

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(server, i) for i in range(8)] + [pool.submit(volume, i) for i in range(8)]
            results = [f.result() for f in futures]
        assert results == ["ACTIVE"] * 8 + ["available"] * 8
    finally:
        for s in list(conn.compute.servers()):
            if s.name.startswith("nxtest-burst"):
                conn.compute.delete_server(s)
        for s in list(conn.compute.servers()):
            if s.name.startswith("nxtest-burst"):
                conn.compute.wait_for_delete(s, wait=120)
        for v in list(conn.block_storage.volumes()):
            if v.name and v.name.startswith("nxtest-burst"):
                conn.block_storage.delete_volume(v)
        conn.network.delete_subnet(subnet)
        for port in conn.network.ports(network_id=net.id):
            conn.network.delete_port(port)
        conn.network.delete_network(net)


def connect_like(conn: Any) -> Any:
    """A separate connection with the same credentials (sessions are not shared between threads)."""
    return connection.Connection(config=conn.config)


def test_port_in_use_names_port_and_holder(tmp_path: Any) -> None:
    import socket

    from nxgov.errors import LabError
    from nxgov.lab.openstack.config import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        settings = Settings(ports={"keystone": port}, passwords={})
        with pytest.raises(LabError, match=f"port {port} .*keystone.*in use by"):
            settings.check_ports_free()


def test_service_that_dies_is_named_with_region_and_log(tmp_path: Any) -> None:
    from nxgov.errors import LabError
    from nxgov.lab.openstack.config import Layout, Settings
    from nxgov.lab.openstack.services import Processes, Service

    layout = Layout(tmp_path)
    layout.logs.mkdir(parents=True)
    layout.log("zhongwei", "nova-api").write_text("boot\nConfigFileValueError: bad value\n")
    procs = Processes(layout, Settings(ports={}, passwords={}))
    service = Service("zhongwei", "nova-api", ("true",), port=1)
    with pytest.raises(LabError) as caught:
        procs.wait_apis([service], timeout=1)
    text = str(caught.value)
    assert "nova-api" in text and "zhongwei" in text and str(layout.log("zhongwei", "nova-api")) in text
    assert "ConfigFileValueError: bad value" in text


def test_lab_listens_on_loopback_only(openstack_lab: OpenStackLab) -> None:
    import re
    import subprocess

    from nxgov.lab.ledger import Ledger, process_tree

    lab_pids = set(process_tree({e.pid for e in Ledger(openstack_lab.lab_dir).entries("openstack") if e.pid}))
    out = subprocess.run(["ss", "-Hltunp"], capture_output=True, text=True, check=True).stdout
    checked = 0
    for line in out.splitlines():
        pids = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if pids & lab_pids:
            local = line.split()[4]
            checked += 1
            assert local.startswith(("127.0.0.1:", "[::1]:")), line
    assert checked >= 15
