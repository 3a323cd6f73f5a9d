"""First-time database bootstrap (schemas, Keystone, catalog, users) and the per-start API bootstrap
(flavors, images, external networks) of the OpenStack lab."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openstack

from nxgov.errors import LabError
from nxgov.lab.openstack.config import (
    KEYSTONE_REGION,
    REGIONS,
    Layout,
    Settings,
    compute_host,
    service_user,
)
from nxgov.lab.openstack.services import Processes, log_tail

Progress = Callable[[str], None]

SERVICE_TYPES: dict[str, tuple[str, str, str]] = {
    # lab service -> (catalog name, service type, endpoint path)
    "glance": ("glance", "image", ""),
    "placement": ("placement", "placement", ""),
    "neutron": ("neutron", "network", ""),
    "nova": ("nova", "compute", "/v2.1"),
    "cinder": ("cinderv3", "volumev3", "/v3/%(project_id)s"),
}

FLAVORS: dict[str, tuple[int, int, int]] = {
    # name -> (vcpus, ram MiB, disk GB)
    "m1.tiny": (1, 512, 1),
    "m1.small": (1, 2048, 20),
    "m1.medium": (2, 4096, 40),
    "m1.large": (4, 8192, 80),
}

IMAGE_NAME = "cirros-lab"

PUBLIC_SUBNETS: dict[str, tuple[str, str]] = {
    # region -> (IPv4 documentation range, IPv6 documentation range) of its external network
    "yinchuan": ("203.0.113.0/25", "2001:db8:ff01::/64"),
    "zhongwei": ("203.0.113.128/26", "2001:db8:ff02::/64"),
    "backup": ("203.0.113.192/26", "2001:db8:ff03::/64"),
}


def lab_image_bytes() -> bytes:
    """A few-KB raw image, the same in every lab (so tests can compare checksums)."""
    seed = b"nxgov rehearsal lab image\n"
    blocks = [hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(256)]
    return b"".join(blocks)  # 8 KiB


def run_logged(argv: Sequence[str], log: Path, env: dict[str, str], what: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(f"\n==== {' '.join(argv)}\n")
        out.flush()
        result = subprocess.run(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    if result.returncode != 0:
        raise LabError(f"{what} failed (exit {result.returncode}); last lines of {log}:\n{log_tail(log)}",
                       f"read {log}")


def admin_connection(settings: Settings, region: str = KEYSTONE_REGION) -> Any:
    return openstack.connect(
        auth_url=settings.keystone_url, username="admin", password=settings.passwords["admin"],
        project_name="admin", user_domain_name="Default", project_domain_name="Default",
        region_name=region, identity_api_version="3", interface="public",
        load_yaml_config=False, load_envvars=False,
    )


class Bootstrapper:
    def __init__(self, procs: Processes, progress: Progress) -> None:
        self.procs = procs
        self.layout: Layout = procs.layout
        self.settings: Settings = procs.settings
        self.progress = progress

    # ------------------------------------------------------------------------------- schemas (cold only)

    def sync_schemas(self) -> None:
        env = self.procs.base_env()
        ks_conf = str(self.layout.conf_dir(KEYSTONE_REGION, "keystone") / "keystone.conf")
        ks_log = self.layout.log(KEYSTONE_REGION, "keystone-manage")
        bin_ = self.layout.bin
        for sub in ("fernet-keys", "credential-keys"):
            keys = self.layout.data / "keystone" / sub
            keys.mkdir(parents=True, exist_ok=True)
            keys.chmod(0o700)

        def keystone() -> None:
            km = [str(bin_ / "keystone-manage"), "--config-file", ks_conf]
            run_logged([*km, "db_sync"], ks_log, env, "keystone-manage db_sync")
            run_logged([*km, "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"], ks_log, env,
                       "keystone-manage fernet_setup")
            run_logged([*km, "credential_setup", "--keystone-user", "root", "--keystone-group", "root"], ks_log,
                       env, "keystone-manage credential_setup")
            url = self.settings.keystone_url
            run_logged([*km, "bootstrap", "--bootstrap-password", self.settings.passwords["admin"],
                        "--bootstrap-admin-url", url, "--bootstrap-internal-url", url, "--bootstrap-public-url", url,
                        "--bootstrap-region-id", KEYSTONE_REGION], ks_log, env, "keystone-manage bootstrap")

        def region_sync(region: str) -> None:
            log = self.layout.log(region, "db-sync")
            for service in REGIONS[region]:
                conf = self.layout.conf_dir(region, service)
                if service == "glance":
                    run_logged([str(bin_ / "glance-manage"), "--config-file", str(conf / "glance-api.conf"),
                                "db_sync"], log, env, f"glance-manage db_sync ({region})")
                elif service == "placement":
                    run_logged([str(bin_ / "placement-manage"), "--config-file", str(conf / "placement.conf"),
                                "db", "sync"], log, env, f"placement-manage db sync ({region})")
                elif service == "neutron":
                    run_logged([str(bin_ / "neutron-db-manage"), "--config-file", str(conf / "neutron.conf"),
                                "upgrade", "heads"], log, env, f"neutron-db-manage upgrade heads ({region})")
                    self.insert_ovs_agent(region)
                elif service == "nova":
                    nm = [str(bin_ / "nova-manage"), "--config-file", str(conf / "nova.conf")]
                    run_logged([*nm, "api_db", "sync"], log, env, f"nova-manage api_db sync ({region})")
                    run_logged([*nm, "cell_v2", "map_cell0", "--database_connection",
                                self.settings.db_url(f"{region}_nova_cell0")], log, env,
                               f"nova-manage cell_v2 map_cell0 ({region})")
                    run_logged([*nm, "cell_v2", "create_cell", "--name", "cell1"], log, env,
                               f"nova-manage cell_v2 create_cell ({region})")
                    run_logged([*nm, "db", "sync"], log, env, f"nova-manage db sync ({region})")
                elif service == "cinder":
                    run_logged([str(bin_ / "cinder-manage"), "--config-file", str(conf / "cinder.conf"),
                                "db", "sync"], log, env, f"cinder-manage db sync ({region})")

        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(keystone), *(pool.submit(region_sync, r) for r in REGIONS)]
            for future in futures:
                future.result()

    def insert_ovs_agent(self, region: str) -> None:
        """One "Open vSwitch agent" row for the compute host, so ML2's openvswitch driver binds ports."""
        configurations = {
            "bridge_mappings": {"public": "br-ex"},
            "tunnel_types": ["vxlan"],
            "tunneling_ip": "127.0.0.1",
            "integration_bridge": "br-int",
            "datapath_type": "system",
            "ovs_hybrid_plug": False,
            "ovs_capabilities": {"datapath_types": ["system"], "iface_types": ["internal", "vxlan", "veth"]},
            "l2_population": False,
            "enable_distributed_routing": False,
            "arp_responder_enabled": False,
            "extensions": [],
            "devices": 0,
        }
        sql = (
            "INSERT INTO agents (id, agent_type, `binary`, topic, host, admin_state_up, created_at, started_at, "
            "heartbeat_timestamp, configurations, `load`, resources_synced) VALUES "
            f"('{uuid.uuid4()}', 'Open vSwitch agent', 'neutron-openvswitch-agent', 'N/A', '{compute_host(region)}', "
            f"1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(), '{json.dumps(configurations)}', 0, 1)"
        )
        self.procs.mysql(sql, f"{region}_neutron")

    # ------------------------------------------------------------------------------- keystone (cold only)

    def keystone_catalog(self) -> None:
        conn = admin_connection(self.settings)
        ident = conn.identity
        for region in REGIONS:
            if ident.find_region(region) is None:
                ident.create_region(id=region)
        keystone_service = next(s for s in ident.services() if s.type == "identity")
        for region in REGIONS:
            if region != KEYSTONE_REGION:
                for interface in ("public", "internal", "admin"):
                    ident.create_endpoint(service_id=keystone_service.id, interface=interface,
                                          url=self.settings.keystone_url, region_id=region)
        services: dict[str, Any] = {}
        for name, stype, _ in SERVICE_TYPES.values():
            services[stype] = ident.create_service(name=name, type=stype, enabled=True)
        for region, names in REGIONS.items():
            for svc in names:
                _, stype, path = SERVICE_TYPES[svc]
                url = self.settings.url(region, svc) + path
                for interface in ("public", "internal"):
                    ident.create_endpoint(service_id=services[stype].id, interface=interface, url=url,
                                          region_id=region)
        service_project = ident.find_project("service") or ident.create_project(name="service", domain_id="default")
        roles = {r.name: r for r in ident.roles()}
        for role in ("service", "member", "reader"):
            if role not in roles:
                roles[role] = ident.create_role(name=role)
        for region, names in REGIONS.items():
            for svc in names:
                user = ident.create_user(name=service_user(region, svc), password=self.settings.passwords["service"],
                                         domain_id="default")
                for role in ("admin", "service"):
                    ident.assign_project_role_to_user(service_project, user, roles[role])
        for region in REGIONS:
            project = ident.create_project(name=f"nxlab-{region}", domain_id="default",
                                           description=f"nxgov lab test project of region {region}")
            member = ident.create_user(name=f"nxlab-{region}-member", password=self.settings.passwords["member"],
                                       domain_id="default", default_project_id=project.id)
            ident.assign_project_role_to_user(project, member, roles["member"])
            admin = ident.find_user("admin")
            ident.assign_project_role_to_user(project, admin, roles["admin"])
        conn.close()

    # ------------------------------------------------------------------------------- per start (API level)

    def resources(self) -> None:
        """Flavors, the lab image and an external network in each region (idempotent)."""
        image = lab_image_bytes()
        for region, names in REGIONS.items():
            conn = admin_connection(self.settings, region)
            if "nova" in names:
                existing = {f.name for f in conn.compute.flavors()}
                for name, (vcpus, ram, disk) in FLAVORS.items():
                    if name not in existing:
                        conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)
            if "glance" in names and conn.image.find_image(IMAGE_NAME) is None:
                conn.image.create_image(name=IMAGE_NAME, data=image, disk_format="raw", container_format="bare",
                                        visibility="public")
            if "neutron" in names and conn.network.find_network("public") is None:
                v4, v6 = PUBLIC_SUBNETS[region]
                net = conn.network.create_network(name="public", is_router_external=True, is_shared=False,
                                                  provider_network_type="flat", provider_physical_network="public")
                conn.network.create_subnet(network_id=net.id, name="public-v4", ip_version=4, cidr=v4,
                                           is_dhcp_enabled=False)
                conn.network.create_subnet(network_id=net.id, name="public-v6", ip_version=6, cidr=v6,
                                           is_dhcp_enabled=False)
            conn.close()
