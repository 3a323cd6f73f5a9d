"""Start, check and stop the lab's processes: MariaDB, RabbitMQ (with its own epmd) and the OpenStack services.

Every process is recorded in the ledger (component ``openstack``) right after it starts and is stopped
by its recorded PID and start time only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import nxgov
from nxgov.errors import LabError
from nxgov.lab.ledger import Ledger, process_alive
from nxgov.lab.openstack.config import KEYSTONE_REGION, REGIONS, Layout, Settings, all_databases

COMPONENT = "openstack"

SUDO_SHIM = """#!/bin/sh
# The lab runs its services as root and the machine has no sudo: drop "sudo" options, any rootwrap
# wrapper and its config file, then exec the rest (e.g. privsep-helper).
while [ $# -gt 0 ]; do
  case "$1" in
    -E|-n|-H|--) shift ;;
    *-rootwrap) shift; shift ;;
    *) break ;;
  esac
done
exec "$@"
"""

RUNTIME_FILES = ("nxlab_wsgi", "nxlab_cinder_driver", "nxlab_nova_driver")


@dataclass(frozen=True)
class Service:
    """One OpenStack process of one region."""

    region: str
    name: str  # e.g. "nova-api", "cinder-volume", "keystone"
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None  # API services: the port their HTTP answers on
    path: str = "/"

    @property
    def label(self) -> str:
        return f"{self.region}-{self.name}"


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log written)"
    return "\n".join(text[-lines:])


class Processes:
    """Starts processes with logs, records them in the ledger and waits for them to answer."""

    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.layout = layout
        self.settings = settings
        self.ledger = Ledger(layout.lab_dir)

    # ------------------------------------------------------------------------------------------ basics

    def base_env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.layout.shim_bin}:{self.layout.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/bin",
            "PYTHONPATH": str(self.layout.lib),
            "HOME": str(self.layout.root),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "NXLAB_DIR": str(self.layout.lab_dir),
            "NXLAB_NXGOV_PATH": str(Path(nxgov.__file__).resolve().parent.parent),
        }

    def start(self, name: str, argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None,
              user: str | None = None, cwd: Path | None = None) -> int:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            out.write(f"\n==== nxgov lab: starting {name} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else self.base_env(), cwd=str(cwd or self.layout.root),
                start_new_session=True, user=user, group=user,
            )
        self.ledger.add_process(COMPONENT, name, proc.pid, log=str(log))
        return proc.pid

    def install_runtime(self) -> None:
        """Copy the lab's service-side modules into <lab>/openstack/lib and the sudo shim into its bin."""
        self.layout.lib.mkdir(parents=True, exist_ok=True)
        package = resources.files("nxgov.lab.openstack") / "runtime"
        for stem in RUNTIME_FILES:
            source = package / f"{stem}.py.txt"
            if source.is_file():
                (self.layout.lib / f"{stem}.py").write_text(source.read_text())
        # nova loads compute drivers only from the nova.virt package: place the lab's driver there too.
        for virt in self.layout.venv.glob("lib/python3*/site-packages/nova/virt"):
            (virt / "nxlab_nova_driver.py").write_text((package / "nxlab_nova_driver.py.txt").read_text())
        self.layout.shim_bin.mkdir(parents=True, exist_ok=True)
        shim = self.layout.shim_bin / "sudo"
        shim.write_text(SUDO_SHIM)
        shim.chmod(0o755)

    def running(self) -> list[str]:
        """Names of the lab's recorded processes that are still alive."""
        return [e.name for e in self.ledger.entries(COMPONENT) if e.pid and _alive(e.pid, e.start_time)]

    def pid_alive(self, name: str) -> bool:
        for entry in self.ledger.entries(COMPONENT):
            if entry.name == name and entry.pid and _alive(entry.pid, entry.start_time):
                return True
        return False

    def stop_all(self, timeout: float = 20.0) -> list[str]:
        """SIGTERM the OpenStack services all at once, then MariaDB/RabbitMQ/epmd at once, then release the
        ledger (which SIGKILLs stragglers, still by recorded PID and start time only)."""
        entries = self.ledger.entries(COMPONENT)
        infra = {"mariadb", "rabbitmq", "epmd"}
        for group in ([e for e in entries if e.name not in infra], [e for e in entries if e.name in infra]):
            for entry in group:
                if entry.pid and _alive(entry.pid, entry.start_time):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(entry.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if not any(e.pid and _alive(e.pid, e.start_time) for e in group):
                    break
                time.sleep(0.1)
        return [f"process {e.name} (pid {e.pid})" for e in self.ledger.release(COMPONENT)]

    # ------------------------------------------------------------------------------------------ mariadb

    def mysql(self, sql: str, database: str | None = None) -> str:
        argv = ["mariadb", "--no-defaults", f"--socket={self.layout.mysql_socket}", "-uroot", "-N", "-B",
                "-e", sql, *([database] if database else [])]
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise LabError(f"MariaDB statement failed: {out.stderr.strip()}",
                           f"MariaDB log: {self.layout.log('lab', 'mariadb')}")
        return out.stdout

    def init_mariadb(self) -> None:
        datadir = self.layout.mysql_data
        datadir.mkdir(parents=True, exist_ok=True)
        shutil.chown(datadir, "mysql", "mysql")
        log = self.layout.log("lab", "mariadb")
        log.parent.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--user=mysql",
             "--auth-root-authentication-method=socket", "--skip-test-db"],
            capture_output=True, text=True, check=False,
        )
        with open(log, "a") as f:
            f.write(out.stdout + out.stderr)
        if out.returncode != 0:
            raise LabError("cannot initialise the lab's MariaDB data directory", f"see {log}:\n{log_tail(log)}")

    def start_mariadb(self) -> None:
        self.layout.run.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.layout.run, "mysql", "mysql")
        port = self.settings.ports["mariadb"]
        log = self.layout.log("lab", "mariadb")
        self.start("mariadb", [
            "mariadbd", "--no-defaults", f"--datadir={self.layout.mysql_data}", "--user=mysql",
            f"--socket={self.layout.mysql_socket}", f"--port={port}", "--bind-address=127.0.0.1",
            f"--pid-file={self.layout.run / 'mysqld.pid'}", "--skip-name-resolve", "--max-connections=2000",
            "--innodb-buffer-pool-size=256M", "--innodb-log-file-size=48M", "--innodb-flush-log-at-trx-commit=2",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci", "--skip-log-bin",
            f"--log-error={log}",
        ], log, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.layout.root)})
        self._wait(lambda: self._mysql_ping(), "mariadb", "lab", log, timeout=60)

    def _mysql_ping(self) -> bool:
        out = subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.layout.mysql_socket}", "-uroot",
                              "ping"], capture_output=True, check=False)
        return out.returncode == 0

    def create_databases(self) -> None:
        pw = self.settings.passwords["db"]
        statements = [f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4" for db in all_databases()]
        statements += [
            f"CREATE USER IF NOT EXISTS 'nxlab'@'127.0.0.1' IDENTIFIED BY '{pw}'",
            f"CREATE USER IF NOT EXISTS 'nxlab'@'localhost' IDENTIFIED BY '{pw}'",
            "GRANT ALL PRIVILEGES ON *.* TO 'nxlab'@'127.0.0.1'",
            "GRANT ALL PRIVILEGES ON *.* TO 'nxlab'@'localhost'",
            "FLUSH PRIVILEGES",
        ]
        self.mysql("; ".join(statements))

    # ------------------------------------------------------------------------------------------ rabbitmq

    def start_rabbitmq(self) -> None:
        root = self.layout.root / "rabbitmq"
        shutil.rmtree(root, ignore_errors=True)
        for sub in ("mnesia", "log", "home"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        ports = self.settings.ports
        definitions = {
            "users": [{"name": "nxlab", "password_hash": _rabbit_hash(self.settings.passwords["rabbit"]),
                       "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
            "vhosts": [{"name": region} for region in REGIONS],
            "permissions": [{"user": "nxlab", "vhost": region, "configure": ".*", "write": ".*", "read": ".*"}
                            for region in REGIONS],
        }
        (root / "definitions.json").write_text(json.dumps(definitions))
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{ports['rabbitmq']}\n"
            "loopback_users = none\n"
            f"load_definitions = {root / 'definitions.json'}\n"
            "log.console = false\nlog.file.level = warning\n"
            "vm_memory_high_watermark.absolute = 1GB\n"
            "disk_free_limit.absolute = 50MB\n"
        )
        (root / "enabled_plugins").write_text("[].\n")
        cookie = root / "home" / ".erlang.cookie"
        cookie.write_text(base64.b32encode(os.urandom(15)).decode())
        cookie.chmod(0o400)
        for path in [root, *root.rglob("*")]:
            shutil.chown(path, "rabbitmq", "rabbitmq")
        epmd_env = {"PATH": "/usr/bin:/bin", "HOME": str(root / "home")}
        epmd_log = self.layout.log("lab", "epmd")
        self.start("epmd", ["epmd", "-address", "127.0.0.1", "-port", str(ports["epmd"])], epmd_log,
                   env=epmd_env, user="rabbitmq", cwd=root)
        self._wait(lambda: _tcp_open(ports["epmd"]), "epmd", "lab", epmd_log, timeout=20)
        env = {
            "PATH": "/usr/lib/rabbitmq/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(root / "home"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "RUNNING_UNDER_SYSTEMD": "1",
            "RABBITMQ_CONF_ENV_FILE": "/dev/null",
            "RABBITMQ_NODENAME": "nxlab@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(ports["rabbitmq"]),
            "RABBITMQ_DIST_PORT": str(ports["rabbitmq-dist"]),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(root / "rabbitmq.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": str(ports["epmd"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        log = self.layout.log("lab", "rabbitmq")
        self.start("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], log, env=env, user="rabbitmq", cwd=root)
        self._wait(lambda: _amqp_answers(ports["rabbitmq"]), "rabbitmq", "lab", log, timeout=90)

    # ------------------------------------------------------------------------------------------ openstack

    def services(self) -> list[Service]:
        """Every OpenStack process of the lab, in start order."""
        L, S, bin_ = self.layout, self.settings, self.layout.bin
        out: list[Service] = []

        def api(region: str, name: str, app: str, conf: Path, env_dir: str, port: int, path: str = "/") -> None:
            argv = (str(bin_ / "gunicorn"), "--chdir", str(L.lib), "--bind", f"127.0.0.1:{port}",
                    "--workers", "1", "--worker-class", "gthread", "--threads", "8", "--timeout", "600",
                    "--graceful-timeout", "5", "--keep-alive", "120", "--name", f"nxlab-{region}-{name}",
                    # no request-line limit (gunicorn's is 4094 bytes): Nova asks Neutron for the ports of every
                    # listed server in one GET, over 4 KiB from ~100 servers (real deployments allow 64 KiB)
                    "--limit-request-line", "0",
                    "nxlab_wsgi:application")
            env = {"NXLAB_APP": app, "NXLAB_CONFIG_FILES": str(conf), env_dir: str(conf.parent)}
            out.append(Service(region, name, argv, env, port, path))

        def daemon(region: str, name: str, conf: Path) -> None:
            out.append(Service(region, name, (str(bin_ / name), "--config-file", str(conf))))

        ks = L.conf_dir(KEYSTONE_REGION, "keystone") / "keystone.conf"
        api(KEYSTONE_REGION, "keystone", "keystone", ks, "OS_KEYSTONE_CONFIG_DIR", S.ports["keystone"], "/v3")
        for region, services in REGIONS.items():
            for service in services:
                port = S.ports[f"{region}-{service}"]
                conf_dir = L.conf_dir(region, service)
                if service == "glance":
                    api(region, "glance-api", "glance", conf_dir / "glance-api.conf", "OS_GLANCE_CONFIG_DIR", port)
                elif service == "placement":
                    api(region, "placement-api", "placement", conf_dir / "placement.conf",
                        "OS_PLACEMENT_CONFIG_DIR", port)
                elif service == "neutron":
                    api(region, "neutron-server", "neutron", conf_dir / "neutron.conf", "OS_NEUTRON_CONFIG_DIR", port)
                elif service == "nova":
                    conf = conf_dir / "nova.conf"
                    api(region, "nova-api", "nova", conf, "OS_NOVA_CONFIG_DIR", port)
                    for name in ("nova-conductor", "nova-scheduler"):
                        daemon(region, name, conf)
                    daemon(region, "nova-compute", conf_dir / "nova-compute.conf")
                elif service == "cinder":
                    conf = conf_dir / "cinder.conf"
                    api(region, "cinder-api", "cinder", conf, "OS_CINDER_CONFIG_DIR", port)
                    for name in ("cinder-scheduler", "cinder-volume", "cinder-backup"):
                        daemon(region, name, conf)
        return out

    def start_service(self, service: Service) -> None:
        env = {**self.base_env(), **service.env}
        self.start(service.label, service.argv, self.layout.log(service.region, service.name), env=env)

    def api_answers(self, service: Service) -> bool:
        if service.port is None:
            return True
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{service.port}{service.path}", timeout=5) as resp:
                return int(resp.status) < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except (urllib.error.URLError, OSError):
            return False

    def wait_apis(self, services: Sequence[Service], timeout: float = 180.0) -> None:
        pending = list(services)
        deadline = time.monotonic() + timeout
        while pending:
            for service in list(pending):
                if not self.pid_alive(service.label):
                    self._failed(service.name, service.region, self.layout.log(service.region, service.name),
                                 "exited during start-up")
                if self.api_answers(service):
                    pending.remove(service)
            if not pending:
                return
            if time.monotonic() > deadline:
                s = pending[0]
                self._failed(s.name, s.region, self.layout.log(s.region, s.name),
                             f"did not answer on 127.0.0.1:{s.port} within {int(timeout)} s")
            time.sleep(0.5)

    def check_alive(self, services: Sequence[Service]) -> None:
        for service in services:
            if not self.pid_alive(service.label):
                self._failed(service.name, service.region, self.layout.log(service.region, service.name), "exited")

    def _wait(self, ready: Callable[[], bool], name: str, region: str, log: Path, timeout: float) -> None:
        label = name if region == "lab" else f"{region}-{name}"
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.pid_alive(label):
                self._failed(name, region, log, "exited during start-up")
            if time.monotonic() > deadline:
                self._failed(name, region, log, f"was not ready within {int(timeout)} s")
            time.sleep(0.3)

    def _failed(self, name: str, region: str, log: Path, what: str) -> None:
        where = "the lab" if region == "lab" else f"region {region}"
        raise LabError(f"{name} of {where} {what}; last lines of {log}:\n{log_tail(log)}",
                       f"read {log}; `nxgov lab down` removes what was started")


def _alive(pid: int, start_time: int | None) -> bool:
    """Alive and not a zombie: our own children are reaped here, others are read from /proc."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and process_alive(pid, start_time)


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _amqp_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            return sock.recv(1) == b"\x01"
    except OSError:
        return False


def _rabbit_hash(password: str) -> str:
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()

