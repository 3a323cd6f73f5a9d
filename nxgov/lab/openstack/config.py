"""The lab's layout (directories, ports, secrets) and the OpenStack configuration files it renders."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nxgov.errors import LabError

FULL_SERVICES: tuple[str, ...] = ("glance", "placement", "neutron", "nova", "cinder")
REGIONS: dict[str, tuple[str, ...]] = {
    "yinchuan": FULL_SERVICES,
    "zhongwei": FULL_SERVICES,
    "backup": FULL_SERVICES,
}
"""Each region and the API services it runs. Keystone is shared and lives in the first region. The backup region
is a full one: restore drills boot servers there."""

KEYSTONE_REGION = "yinchuan"

# The first choice of port for each listener; the lab moves to the next free port when one is taken at
# the very first start, then keeps the ports it chose (``ports.json``): the database template holds them.
_FIRST_PORTS: dict[str, int] = {
    "mariadb": 23306,
    "rabbitmq": 25672,
    "rabbitmq-dist": 25673,
    "epmd": 24369,
    "keystone": 25000,
}
_REGION_BASE = {"yinchuan": 25100, "zhongwei": 25200, "backup": 25300}
_SERVICE_OFFSET = {"glance": 92, "placement": 78, "neutron": 96, "nova": 74, "cinder": 76}


def region_ports() -> dict[str, int]:
    ports = dict(_FIRST_PORTS)
    for region, services in REGIONS.items():
        for service in services:
            ports[f"{region}-{service}"] = _REGION_BASE[region] + _SERVICE_OFFSET[service]
    return ports


def port_holder(port: int) -> str | None:
    """Who listens on 127.0.0.1/any address at ``port`` (from ``ss``), or None when it is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return None
        except OSError:
            pass
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split("users:", 1)[-1] if out.stdout.strip() else "an unknown process"


@dataclass(frozen=True)
class Layout:
    """Where everything of the OpenStack lab lives under the lab directory."""

    lab_dir: Path

    @property
    def root(self) -> Path:
        return self.lab_dir / "openstack"

    @property
    def venv(self) -> Path:
        return self.lab_dir / "venv"

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def shim_bin(self) -> Path:
        return self.root / "bin"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def data(self) -> Path:
        """Everything mutable: databases, image stores, volumes, backups, keys. Replaced at each start."""
        return self.root / "data"

    @property
    def template(self) -> Path:
        """A clean copy of ``data`` taken after the first bootstrap."""
        return self.root / "template"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.lab_dir / "logs"

    @property
    def clouds_yaml(self) -> Path:
        return self.lab_dir / "clouds.yaml"

    @property
    def mysql_data(self) -> Path:
        return self.data / "mysql"

    @property
    def mysql_socket(self) -> Path:
        return self.run / "mysqld.sock"

    @property
    def rabbit_dir(self) -> Path:
        return self.data / "rabbitmq"

    def backup_store(self, region: str) -> Path:
        """The region's Cinder backup store (cinder-backup's POSIX driver writes and restores there); emptied
        with the rest of ``data`` at each start."""
        return self.data / "backup-stores" / region

    def conf_dir(self, region: str, service: str) -> Path:
        return self.etc / region / service

    def state(self, region: str, service: str) -> Path:
        return self.data / region / service

    def log(self, region: str, service: str) -> Path:
        return self.logs / f"{region}-{service}.log"


@dataclass
class Settings:
    """Ports and secrets of one lab, chosen once and kept (``settings.json``, mode 0600)."""

    ports: dict[str, int]
    passwords: dict[str, str]

    @classmethod
    def load_or_create(cls, layout: Layout) -> Settings:
        """The kept settings; a lab made before a region gained services gets ports for them added (which
        changes ``settings.json``, so the database template is rebuilt with their databases)."""
        path = layout.root / "settings.json"
        ports: dict[str, int] = {}
        passwords: dict[str, str] = {}
        if path.exists():
            raw = json.loads(path.read_text())
            ports = {k: int(v) for k, v in raw["ports"].items()}
            passwords = dict(raw["passwords"])
        missing = {name: first for name, first in region_ports().items() if name not in ports}
        if not missing and passwords:
            return cls(ports=ports, passwords=passwords)
        taken = set(ports.values())
        for name, first in missing.items():
            port = first
            while port in taken or port_holder(port) is not None:
                port += 1
            ports[name] = port
            taken.add(port)
        # hex: the passwords go on command lines (keystone-manage bootstrap --bootstrap-password P), where a
        # token_urlsafe one starting with "-" read as an option and failed one lab start in 13
        passwords = passwords or {k: secrets.token_hex(16) for k in ("db", "rabbit", "admin", "service", "member")}
        settings = cls(ports=ports, passwords=passwords)
        layout.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"ports": ports, "passwords": passwords}, out, indent=1)
        return settings

    def check_ports_free(self) -> None:
        for name, port in self.ports.items():
            holder = port_holder(port)
            if holder is not None:
                raise LabError(
                    f"port {port} on 127.0.0.1 (for the lab's {name}) is already in use by {holder}",
                    "stop what holds it, or remove <lab dir>/openstack to let the lab choose new ports",
                )

    @property
    def keystone_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['keystone']}/v3"

    def url(self, region: str, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[f'{region}-{service}']}"

    def db_url(self, database: str) -> str:
        return f"mysql+pymysql://nxlab:{self.passwords['db']}@127.0.0.1:{self.ports['mariadb']}/{database}?charset=utf8"

    def rabbit_url(self, region: str) -> str:
        return f"rabbit://nxlab:{self.passwords['rabbit']}@127.0.0.1:{self.ports['rabbitmq']}/{region}"


def databases(region: str) -> list[str]:
    names: list[str] = []
    for service in REGIONS[region]:
        if service == "nova":
            names += [f"{region}_nova_api", f"{region}_nova", f"{region}_nova_cell0"]
        else:
            names.append(f"{region}_{service}")
    return names


def all_databases() -> list[str]:
    return ["keystone", *(db for region in REGIONS for db in databases(region))]


def compute_host(region: str) -> str:
    return f"nxlab-{region}-cmp1"


def volume_host(region: str) -> str:
    return f"nxlab-{region}-vol"


def service_user(region: str, service: str) -> str:
    return f"{service}-{region}"


# ---------------------------------------------------------------------------------------------- rendering


def _ini(sections: dict[str, dict[str, object]]) -> str:
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            lines.append(f"{key} = {text}")
        lines.append("")
    return "\n".join(lines)


class Renderer:
    """Renders every configuration file of the lab from its layout and settings."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.layout = layout
        self.s = settings

    def _auth(self, region: str, service: str) -> dict[str, object]:
        return {
            "auth_url": self.s.keystone_url,
            "auth_type": "password",
            "project_domain_name": "Default",
            "user_domain_name": "Default",
            "project_name": "service",
            "username": service_user(region, service),
            "password": self.s.passwords["service"],
            "region_name": region,
        }

    def _authtoken(self, region: str, service: str) -> dict[str, object]:
        return {"www_authenticate_uri": self.s.keystone_url, **self._auth(region, service),
                "service_token_roles_required": True}

    def _default(self, region: str, service: str) -> dict[str, object]:
        return {
            "debug": False,
            "use_stderr": True,
            "graceful_shutdown_timeout": 3,
            "state_path": str(self.layout.state(region, service)),
        }

    def _locks(self, region: str, service: str) -> dict[str, object]:
        return {"lock_path": str(self.layout.state(region, service) / "locks")}

    def keystone(self) -> str:
        """Keystone with its cache on, as every production deployment runs it (memcached there; an in-process
        dict here, where one worker process serves): without it each request re-validates its token from the
        database, about 0.1 s of this machine's CPU."""
        data = self.layout.data / "keystone"
        return _ini({
            "DEFAULT": {"debug": False, "use_stderr": True},
            "database": {"connection": self.s.db_url("keystone")},
            "token": {"provider": "fernet", "expiration": 86400},
            "fernet_tokens": {"key_repository": str(data / "fernet-keys")},
            "fernet_receipts": {"key_repository": str(data / "fernet-keys")},
            "credential": {"key_repository": str(data / "credential-keys")},
            "cache": {"enabled": True, "backend": "oslo_cache.dict", "expiration_time": 600},
        })

    def glance(self, region: str) -> str:
        state = self.layout.state(region, "glance")
        return _ini({
            "DEFAULT": {**self._default(region, "glance"), "enabled_import_methods": "[]",
                        "bind_host": "127.0.0.1", "workers": 1, "image_cache_dir": str(state / "cache")},
            "database": {"connection": self.s.db_url(f"{region}_glance")},
            "keystone_authtoken": self._authtoken(region, "glance"),
            "paste_deploy": {"flavor": "keystone",
                             "config_file": str(self.layout.venv / "etc" / "glance" / "glance-api-paste.ini")},
            "glance_store": {"stores": "file", "default_store": "file",
                             "filesystem_store_datadir": str(state / "images")},
            "os_glance_staging_store": {"filesystem_store_datadir": str(state / "staging")},
            "os_glance_tasks_store": {"filesystem_store_datadir": str(state / "tasks")},
            "oslo_concurrency": self._locks(region, "glance"),
            "oslo_policy": {"enforce_new_defaults": False},
        })

    def placement(self, region: str) -> str:
        return _ini({
            "DEFAULT": self._default(region, "placement"),
            "placement_database": {"connection": self.s.db_url(f"{region}_placement")},
            "api": {"auth_strategy": "keystone"},
            "keystone_authtoken": self._authtoken(region, "placement"),
        })

    def neutron(self, region: str) -> str:
        return _ini({
            "DEFAULT": {
                **self._default(region, "neutron"),
                "core_plugin": "ml2",
                "service_plugins": "router",
                "transport_url": "fake://",
                "auth_strategy": "keystone",
                "notify_nova_on_port_status_changes": False,
                "notify_nova_on_port_data_changes": False,
                "agent_down_time": 2147483,  # the maximum (~24 days); the heartbeat is renewed at each start
                "allow_overlapping_ips": True,
                "api_workers": 1,
                "rpc_workers": 0,
                "rpc_state_report_workers": 0,
                "api_paste_config": str(self.layout.venv / "etc" / "neutron" / "api-paste.ini"),
                "ipv6_pd_enabled": False,
                "dhcp_agent_notification": False,
            },
            "database": {"connection": self.s.db_url(f"{region}_neutron")},
            "keystone_authtoken": self._authtoken(region, "neutron"),
            "nova": self._auth(region, "neutron"),
            "ml2": {"type_drivers": "flat,vxlan", "tenant_network_types": "vxlan",
                    "mechanism_drivers": "openvswitch", "extension_drivers": "port_security"},
            "ml2_type_flat": {"flat_networks": "public"},
            "ml2_type_vxlan": {"vni_ranges": "1:100000"},
            "oslo_concurrency": self._locks(region, "neutron"),
        })

    def nova(self, region: str, driver: str, compute: bool = False) -> str:
        """nova.conf; with ``compute`` the nova-compute variant without database access (it uses the
        conductor; with [api_database] set it tries cell queries itself and logs "No DB access allowed")."""
        state = self.layout.state(region, "nova")
        sections: dict[str, dict[str, object]] = {
            "DEFAULT": {
                **self._default(region, "nova"),
                "host": compute_host(region),
                "my_ip": "127.0.0.1",
                "compute_driver": driver,
                "transport_url": self.s.rabbit_url(region),
                "instances_path": str(state / "instances"),
                "periodic_fuzzy_delay": 0,
                "vif_plugging_is_fatal": False,
                "vif_plugging_timeout": 0,
                "enabled_apis": "osapi_compute",
                "heal_instance_info_cache_interval": -1,
                "instance_usage_audit": False,
                "max_concurrent_builds": 16,
            },
            "api": {"auth_strategy": "keystone"},
            "wsgi": {"api_paste_config": str(self.layout.venv / "etc" / "nova" / "api-paste.ini")},
            "api_database": {"connection": self.s.db_url(f"{region}_nova_api")},
            "database": {"connection": self.s.db_url(f"{region}_nova")},
            "conductor": {"workers": 1},
            "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": 2},
            "keystone_authtoken": self._authtoken(region, "nova"),
            "placement": self._auth(region, "nova"),
            "neutron": {**self._auth(region, "nova"), "service_metadata_proxy": False},
            "glance": {"region_name": region},
            "cinder": {**self._auth(region, "nova"), "os_region_name": region},
            "service_user": {**self._auth(region, "nova"), "send_service_user_token": True},
            "oslo_concurrency": self._locks(region, "nova"),
            "vnc": {"enabled": False},
            "spice": {"enabled": False},
            "oslo_messaging_notifications": {"driver": "noop"},
        }
        if compute:
            del sections["api_database"], sections["database"]
        return _ini(sections)

    def cinder(self, region: str) -> str:
        state = self.layout.state(region, "cinder")
        return _ini({
            "DEFAULT": {
                **self._default(region, "cinder"),
                "host": volume_host(region),
                "my_ip": "127.0.0.1",
                "transport_url": self.s.rabbit_url(region),
                "auth_strategy": "keystone",
                "enabled_backends": "lab",
                "periodic_fuzzy_delay": 0,
                "periodic_interval": 10,
                "api_paste_config": str(self.layout.venv / "etc" / "cinder" / "api-paste.ini"),
                "glance_api_servers": self.s.url(region, "glance"),
                "backup_driver": "cinder.backup.drivers.posix.PosixBackupDriver",
                "backup_posix_path": str(self.layout.backup_store(region)),
                # Objects hold the volume's bytes as they are: each can be checked against the backup's
                # *_sha256file (SHA-256 per 32 KiB of volume data) without decompressing, and the format does
                # not depend on the data (zlib stores an incompressible chunk uncompressed anyway).
                "backup_compression_algorithm": "none",
                "backup_workers": 1,
                # nxgov backup makes its snapshots and backups in its own (admin) project: no limit in the lab
                # (a real cloud raises that project's quotas; see the README's backup section)
                "quota_backups": -1,
                "quota_backup_gigabytes": -1,
                "quota_snapshots": -1,
                "quota_gigabytes": -1,
                "osapi_volume_workers": 1,
                "volumes_dir": str(state / "volumes"),
                "rootwrap_config": str(self.layout.venv / "etc" / "cinder" / "rootwrap.conf"),
                "resource_query_filters_file": str(self.layout.venv / "etc" / "cinder" / "resource_filters.json"),
            },
            "lab": {"volume_driver": "nxlab_cinder_driver.SparseFileVolumeDriver", "volume_backend_name": "lab"},
            "database": {"connection": self.s.db_url(f"{region}_cinder")},
            "keystone_authtoken": self._authtoken(region, "cinder"),
            "nova": {**self._auth(region, "cinder")},
            "service_user": {**self._auth(region, "cinder"), "send_service_user_token": True},
            "coordination": {"backend_url": f"file://{state / 'coordination'}"},
            "oslo_concurrency": self._locks(region, "cinder"),
            "oslo_messaging_notifications": {"driver": "noop"},
        })

    def write_all(self, nova_driver: str) -> dict[tuple[str, str], Path]:
        """Write every configuration file; return ``(region, service) -> conf file``."""
        written: dict[tuple[str, str], Path] = {}

        def put(region: str, service: str, name: str, text: str) -> None:
            directory = self.layout.conf_dir(region, service)
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(text)
            written[(region, service)] = path

        put(KEYSTONE_REGION, "keystone", "keystone.conf", self.keystone())
        for region, services in REGIONS.items():
            for service in services:
                if service == "glance":
                    put(region, service, "glance-api.conf", self.glance(region))
                elif service == "placement":
                    put(region, service, "placement.conf", self.placement(region))
                elif service == "neutron":
                    put(region, service, "neutron.conf", self.neutron(region))
                elif service == "nova":
                    put(region, service, "nova-compute.conf", self.nova(region, nova_driver, compute=True))
                    put(region, service, "nova.conf", self.nova(region, nova_driver))
                    # nova's WSGI app loads the paste file from its config dir (first of its config files)
                    paste = self.layout.venv / "etc" / "nova" / "api-paste.ini"
                    (self.layout.conf_dir(region, service) / "api-paste.ini").write_text(paste.read_text())
                elif service == "cinder":
                    put(region, service, "cinder.conf", self.cinder(region))
        return written
