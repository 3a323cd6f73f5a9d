"""``OpenStackLab``: the facade ``nxgov lab up/status/down/env`` call for the OpenStack part of the lab."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nxgov.errors import LabError
from nxgov.lab.ledger import Ledger
from nxgov.lab.netns import ComponentStatus
from nxgov.lab.openstack import clouds
from nxgov.lab.openstack.bootstrap import Bootstrapper, admin_connection
from nxgov.lab.openstack.config import REGIONS, Layout, Renderer, Settings, compute_host
from nxgov.lab.openstack.install import ensure_installed
from nxgov.lab.openstack.services import COMPONENT, Processes, Service, log_tail

Progress = Callable[[str], None]

TEMPLATE_MARKER = ".nxgov-template-complete"
NOVA_DRIVER = "nxlab_nova_driver.NetnsFakeDriver"
"""Servers get a namespace with an sshd on their fixed IPs; ``up`` installs what it needs (openssh-server, iproute2)."""


def _quiet(_: str) -> None:
    return None


class OpenStackLab:
    """The OpenStack regions of the rehearsal lab in ``lab_dir``."""

    def __init__(self, lab_dir: Path) -> None:
        self.lab_dir = lab_dir
        self.layout = Layout(lab_dir)

    @property
    def clouds_yaml(self) -> Path:
        return self.layout.clouds_yaml

    def env(self) -> dict[str, str]:
        return {"OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml)}

    def _settings(self) -> Settings:
        return Settings.load_or_create(self.layout)

    def is_running(self) -> bool:
        if not (self.layout.root / "settings.json").exists():
            return False
        procs = Processes(self.layout, self._settings())
        return bool(procs.running())

    # ------------------------------------------------------------------------------------------------ up

    def up(self, progress: Progress = _quiet) -> None:
        """Bring the OpenStack regions up; a second call while they run only reports so."""
        ensure_installed(self.lab_dir, progress)
        settings = self._settings()
        procs = Processes(self.layout, settings)
        alive = procs.running()
        if alive:
            expected = {"mariadb", "epmd", "rabbitmq", *(s.label for s in procs.services())}
            if expected <= set(alive):
                progress(f"OpenStack lab already running ({len(alive)} processes); clouds.yaml: {self.clouds_yaml}")
                return
            raise LabError(
                f"the OpenStack lab is partly running ({len(alive)} of {len(expected)} processes)",
                "run `nxgov lab down` first, then `nxgov lab up`",
            )
        settings.check_ports_free()
        started = time.monotonic()
        try:
            self._up(procs, progress)
        except BaseException:
            procs.stop_all()
            raise
        progress(f"OpenStack lab up in {time.monotonic() - started:.0f} s; clouds.yaml: {self.clouds_yaml}")

    def _up(self, procs: Processes, progress: Progress) -> None:
        layout, settings = self.layout, procs.settings
        layout.logs.mkdir(parents=True, exist_ok=True)
        Renderer(layout, settings).write_all(NOVA_DRIVER)
        procs.install_runtime()
        boot = Bootstrapper(procs, progress)
        fingerprint = hashlib.sha256((layout.root / "settings.json").read_bytes()).hexdigest()
        marker = layout.template / TEMPLATE_MARKER
        if not marker.exists() or marker.read_text().strip() != fingerprint:
            progress("first start: creating databases and schemas (takes a few minutes once)")
            shutil.rmtree(layout.data, ignore_errors=True)
            shutil.rmtree(layout.template, ignore_errors=True)
            layout.data.mkdir(parents=True)
            procs.init_mariadb()
            procs.start_mariadb()
            procs.create_databases()
            boot.sync_schemas()
            progress("first start: registering regions, services and users in Keystone")
            keystone = self._keystone(procs)
            procs.start_service(keystone)
            procs.wait_apis([keystone])
            boot.keystone_catalog()
            procs.stop_all()
            tmp = layout.template.with_name("template.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            _copy_tree(layout.data, tmp)
            (tmp / TEMPLATE_MARKER).write_text(fingerprint + "\n")  # the ports and secrets it was made with
            tmp.rename(layout.template)
        progress("restoring the clean database template")
        shutil.rmtree(layout.data, ignore_errors=True)
        _copy_tree(layout.template, layout.data)
        (layout.data / TEMPLATE_MARKER).unlink(missing_ok=True)
        for region, names in REGIONS.items():
            for name in names:
                layout.state(region, name).joinpath("locks").mkdir(parents=True, exist_ok=True)
            layout.backup_store(region).mkdir(parents=True, exist_ok=True)
        progress("starting MariaDB and RabbitMQ on 127.0.0.1")
        procs.start_mariadb()
        for region, names in REGIONS.items():
            if "neutron" in names:  # the lab's stand-in OVS agent row must look alive
                procs.mysql("UPDATE agents SET heartbeat_timestamp = UTC_TIMESTAMP(), started_at = UTC_TIMESTAMP()",
                            f"{region}_neutron")
        procs.start_rabbitmq()
        services = procs.services()
        progress(f"starting {len(services)} OpenStack services in {len(REGIONS)} regions")
        for service in services:
            procs.start_service(service)
        procs.wait_apis([s for s in services if s.port is not None])
        progress("APIs answer; waiting for nova-compute hosts and cinder pools")
        self._wait_ready(procs, services)
        progress("creating flavors, images and external networks")
        boot.resources()
        clouds.write(self.clouds_yaml, settings)

    def _keystone(self, procs: Processes) -> Service:
        return next(s for s in procs.services() if s.name == "keystone")

    def _wait_ready(self, procs: Processes, services: list[Service], timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        pending = {r for r, names in REGIONS.items() if "nova" in names or "cinder" in names}
        last = ""
        while pending:
            procs.check_alive(services)
            for region in sorted(pending):
                problem = self._region_not_ready(procs, region)
                if problem is None:
                    pending.discard(region)
                else:
                    last = f"{region}: {problem}"
            if not pending:
                return
            if time.monotonic() > deadline:
                region, _, what = last.partition(": ")
                name = "nova-compute" if "compute" in what else "cinder-volume"
                raise LabError(
                    f"{name} of region {region} not ready within {int(timeout)} s ({what}); last lines of "
                    f"{self.layout.log(region, name)}:\n{log_tail(self.layout.log(region, name))}",
                    f"read {self.layout.log(region, name)}",
                )
            time.sleep(1)

    def _region_not_ready(self, procs: Processes, region: str) -> str | None:
        names = REGIONS[region]
        if "nova" in names:
            mapped = procs.mysql("SELECT host FROM host_mappings", f"{region}_nova_api").split()
            if compute_host(region) not in mapped:
                return "compute host not mapped to a cell yet"
        if "cinder" in names:
            try:
                conn = admin_connection(procs.settings, region)
                pools = list(conn.block_storage.backend_pools())
                conn.close()
            except Exception as exc:
                return f"cinder pools not readable ({type(exc).__name__})"
            if not pools:
                return "cinder volume pool not reported yet"
        return None

    # ------------------------------------------------------------------------------------------------ status

    def status(self) -> list[ComponentStatus]:
        if not (self.layout.root / "settings.json").exists():
            return [ComponentStatus(COMPONENT, "openstack", "stopped", "not set up (run `nxgov lab up`)")]
        settings = self._settings()
        procs = Processes(self.layout, settings)
        out: list[ComponentStatus] = []
        for name in ("mariadb", "rabbitmq"):
            alive = procs.pid_alive(name)
            out.append(ComponentStatus(COMPONENT, name, "running" if alive else "stopped",
                                       f"127.0.0.1:{settings.ports[name]}" if alive else "down"))
        conns: dict[str, Any] = {}
        for service in procs.services():
            alive = procs.pid_alive(service.label)
            log = self.layout.log(service.region, service.name)
            healthy, detail = alive, "running" if alive else f"not running (log {log})"
            if alive and service.port is not None:
                healthy = procs.api_answers(service)
                detail = f"http://127.0.0.1:{service.port} " + ("answers" if healthy else "does not answer")
            elif alive and service.name in ("nova-compute", "cinder-volume"):
                try:
                    conn = conns.get(service.region) or admin_connection(settings, service.region)
                    conns[service.region] = conn
                    if service.name == "nova-compute":
                        mapped = compute_host(service.region) in procs.mysql(
                            "SELECT host FROM host_mappings", f"{service.region}_nova_api").split()
                        up = [s for s in conn.compute.services() if s.binary == "nova-compute" and s.state == "up"]
                        healthy = mapped and bool(up)
                        detail = f"host {'mapped' if mapped else 'NOT mapped'}, service {'up' if up else 'down'}"
                    else:
                        pools = [p.name for p in conn.block_storage.backend_pools()]
                        healthy = bool(pools)
                        detail = f"pools: {', '.join(pools) or 'none reported'}"
                except Exception as exc:
                    healthy, detail = False, f"cannot check: {exc}"
            out.append(ComponentStatus(COMPONENT, f"{service.region}/{service.name}",
                                       "running" if healthy else ("degraded" if alive else "stopped"), detail))
        for conn in conns.values():
            conn.close()
        return out

    # ------------------------------------------------------------------------------------------------ down

    def down(self) -> list[str]:
        """Stop every process of the OpenStack lab (by ledger PID); return what was removed."""
        if not (self.layout.root / "settings.json").exists():
            return []
        procs = Processes(self.layout, self._settings())
        removed = procs.stop_all()
        removed += [f"{e.kind} {e.name}" for e in Ledger(self.lab_dir).release("servers")]
        return removed


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy with sparse files and ownership kept (MariaDB's files belong to mysql)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["cp", "-a", "--sparse=always", str(src), str(dst)], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise LabError(f"cannot copy {src} to {dst}: {result.stderr.strip()}")


__all__ = ["COMPONENT", "OpenStackLab"]
