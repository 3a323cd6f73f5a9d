"""The rehearsal lab as one thing: its parts derived from the lab estate, brought up, checked and removed together.

Parts, in the order they come up (and the reverse order they go down):

- ``netsim``: simulated Huawei VRP and H3C Comware devices (the estate's devices on those platforms
  whose host is loopback), one simulator process, each device configuring its data plane;
- ``extranet``: one bare FRR router per ``frr`` device, cabled port for port as nxgov's IPv6 plan
  (in the state store, planned there if need be) and intent say, reached over the management bridge
  at the device's host; and the data plane of every simulated device, an FRR router in its own
  namespace cabled the same way (the simulator configures it through vtysh);
- ``legacy-hosts``: one host per system with a ``source``, at the source's address, holding the
  system's data and a web app answering the system's ``health`` URL;
- ``openstack``: the yinchuan, zhongwei and backup regions;
- ``monitoring`` (only when named, e.g. ``--only monitoring``: not part of a plain ``up``): nxgov's exporter for the
  lab estate and a Prometheus scraping it (:mod:`nxgov.lab.monitoring`). ``status`` and ``down`` always include it.

Credentials the estate names (``credentials.<name>.file``) are written by the lab, mode 0600, so the
same estate drives the lab with nxgov's normal commands (the entry of ``server_access``: root and a key the
lab makes, the keypair of the servers nxgov creates in the lab's clouds). Secrets are generated once and
kept. The lab runs as root, so it writes only inside its directory: a credentials file named elsewhere is
refused.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from nxgov.errors import InputError, LabError
from nxgov.estate.model import Device, Estate
from nxgov.lab import frr, prometheus, sshd
from nxgov.lab.apt import ensure_packages, missing_packages
from nxgov.lab.frr import Extranet, cabled
from nxgov.lab.hosts import LegacyHosts, LegacyHostSpec
from nxgov.lab.ledger import Ledger, process_alive
from nxgov.lab.monitoring import Monitoring, Watched
from nxgov.lab.netns import PREFIX, ComponentStatus
from nxgov.lab.netsim.process import NetsimProcess
from nxgov.lab.netsim.spec import DEFAULT_PORTS, DataplaneSpec, DeviceSpec, SimSpec, expand, write_spec
from nxgov.lab.openstack import OpenStackLab
from nxgov.lab.openstack.install import REQUIRED_APT, ensure_installed, venv_complete
from nxgov.lab.sshd import ensure_key
from nxgov.network.intent import DeviceIntent, interface_name
from nxgov.network.render.frr import port_name

Progress = Callable[[str], None]
PARTS: tuple[str, ...] = ("netsim", "extranet", "legacy-hosts", "openstack")
"""The parts a plain ``up`` brings up."""
OPT_IN: tuple[str, ...] = ("monitoring",)
"""Parts ``up`` starts only when named: they load the machine and are not what most tests need."""
ALL_PARTS: tuple[str, ...] = (*PARTS, *OPT_IN)
SIMULATED = ("huawei_vrp", "h3c_comware")
PACKAGES: tuple[str, ...] = (*frr.PACKAGES, *sshd.PACKAGES, *REQUIRED_APT, *prometheus.PACKAGES)
"""Every Debian package some part of the lab runs on (the simulators need none), and the Prometheus the exporter's
tests scrape it with."""
LEGACY_DATA_FILES = 50
PORT_HINT = "the lab's monitoring uses fixed ports (README, \"The rehearsal lab\"): stop what holds it, then retry"


def require_root(action: str) -> None:
    if os.geteuid() != 0:
        raise LabError(
            f"'nxgov lab {action}' needs root",
            "the lab creates network namespaces, veth links and mounts, runs FRR and sshd inside them and "
            "starts MariaDB and RabbitMQ: run it as root (e.g. sudo nxgov lab up)",
        )


@dataclass(frozen=True)
class Credential:
    """A credentials file the lab writes where the estate points (never printed)."""

    path: Path
    content: dict[str, str]


class Lab:
    """The lab in ``lab_dir``, shaped by ``estate`` (needed for ``up``; status and down use the ledger).

    ``state`` is the state store whose IPv6 plan cables the extranet (default: nxgov's default store);
    push to the lab's routers with the same store, so that the ports configured are the ports cabled. The
    monitoring part's exporter reads ``estate_path`` (where ``estate`` was loaded from), ``state`` and ``audit_log``
    (default: nxgov's default audit log).
    """

    def __init__(self, lab_dir: Path, estate: Estate | None = None, state: Path | None = None, *,
                 estate_path: Path | None = None, audit_log: Path | None = None) -> None:
        self.lab_dir = lab_dir
        self.estate = estate
        self.state = state
        self.estate_path = estate_path
        self.audit_log = audit_log
        self.ledger = Ledger(lab_dir)

    # -- the parts ----------------------------------------------------------------------------------
    def _extranet(self) -> Extranet:
        return Extranet(self.lab_dir)

    def _hosts(self) -> LegacyHosts:
        return LegacyHosts(self.lab_dir)

    def _openstack(self) -> OpenStackLab:
        return OpenStackLab(self.lab_dir)

    def monitoring(self) -> Monitoring:
        """The monitoring part (its URLs, and :meth:`Monitoring.wait_scraped` for a caller that waits on a scrape)."""
        return Monitoring(self.lab_dir, self.ledger)

    def _watched(self) -> Watched:
        """What the monitoring part's exporter reads: what this lab's commands were given, else nxgov's defaults."""
        from nxgov.paths import default_audit_log, default_state_db

        if self.estate_path is None:
            raise LabError("the lab's monitoring part needs the estate's path", "pass --estate inventories/lab")
        return Watched(self.estate_path.resolve(), (self.state or default_state_db()).resolve(),
                       (self.audit_log or default_audit_log()).resolve(), self._openstack().clouds_yaml.resolve())

    # -- lifecycle ----------------------------------------------------------------------------------
    def plan(self, parts: Iterable[str] = PARTS) -> list[str]:
        """What ``up`` would bring up, one line per item (for --dry-run); refuses what ``up`` would refuse."""
        estate = self._need_estate()
        self.check_credentials()
        wanted = set(parts)
        lines: list[str] = []
        if "netsim" in wanted:
            lines += [f"netsim: {d.platform} {d.name} on {d.host}:{d.port}" for d in _simulated(estate)]
        if "extranet" in wanted:
            lines += [f"extranet: FRR router for {d.name} (site {d.site}) at {d.host}" for d in _frr(estate)]
            lines += [f"extranet: FRR data plane of simulated {d.name} (site {d.site})" for d in _simulated(estate)]
        if "legacy-hosts" in wanted:
            lines += [f"legacy-hosts: {s.code} at {s.source.host}" for s in estate.systems if s.source]
        if "openstack" in wanted:
            lines += [f"openstack: region {name} ({node.cloud})" for name, node in estate.clouds.items()]
        if "monitoring" in wanted:
            lines += self.monitoring().plan(self._watched())
        return lines

    def up(self, parts: Iterable[str] = PARTS, progress: Progress = lambda _m: None) -> list[ComponentStatus]:
        """Bring the chosen parts up; parts already running are reported, not redone."""
        require_root("up")
        estate = self._need_estate()
        wanted = [p for p in ALL_PARTS if p in set(parts)]
        creds = self._credentials(estate)
        for cred in creds.values():
            _write_secret_file(cred.path, cred.content)
        reports: list[ComponentStatus] = []
        for part in wanted:
            progress(f"{part}: starting")
            if part == "netsim":
                reports.append(self._up_netsim(estate, creds, progress))
            elif part == "extranet":
                reports += self._up_extranet(estate, progress)
            elif part == "legacy-hosts":
                reports += self._up_hosts(estate, creds, progress)
            elif part == "monitoring":
                ensure_packages(prometheus.PACKAGES, progress)
                reports += self.monitoring().up(
                    self._watched(), lambda port, what: _check_port_free("127.0.0.1", port, what, PORT_HINT), progress)
            else:
                ensure_packages(sshd.PACKAGES, progress)  # the servers run the machine's sshd and rsync
                self._openstack().up(progress)
                reports += self._openstack().status()
        for report in reports:
            if report.detail.startswith("already running"):
                progress(f"{report.component} {report.name}: already running")
        return reports

    def install_plan(self) -> list[str]:
        """What ``install`` would add, one line per item (for --dry-run); empty when everything is there."""
        lines = [f"Debian package {p}" for p in missing_packages(PACKAGES)]
        if not venv_complete(self.lab_dir):
            lines.append(f"OpenStack service venv in {self.lab_dir / 'venv'}")
        return lines

    def install(self, progress: Progress = lambda _m: None) -> list[str]:
        """Install every Debian package and the service venv the lab's parts need (what ``up`` would install)."""
        require_root("install")
        todo = self.install_plan()
        ensure_packages(PACKAGES, progress)
        ensure_installed(self.lab_dir, progress)
        return todo

    def status(self) -> list[ComponentStatus]:
        out = [self._netsim_status()]
        out += self._extranet().status()
        out += self._hosts().status()
        return out + self._openstack().status() + self.monitoring().status()

    def down(self, parts: Iterable[str] = ALL_PARTS) -> list[str]:
        """Remove what the ledger records for ``parts`` (all: everything it records), newest part first; works after
        a partial or failed up."""
        require_root("down")
        wanted = set(parts)
        removed: list[str] = []
        if "monitoring" in wanted:
            removed += self.monitoring().down()
        if "openstack" in wanted:
            removed += self._openstack().down()
        if "legacy-hosts" in wanted:
            removed += self._hosts().down()
        if "extranet" in wanted:
            removed += self._extranet().down()
        if "netsim" in wanted:
            removed += [f"{e.kind} {e.name}" for e in self.ledger.release("netsim")]
        if wanted >= set(ALL_PARTS):
            removed += [f"{e.kind} {e.name}" for e in self.ledger.release()]
        return removed

    def env(self) -> dict[str, str]:
        """Variables pointing nxgov and OpenStack tools at the lab; while the monitoring part runs, also the state store
        and audit log its exporter reads (so that what the operator's commands change is what it shows)."""
        from nxgov.paths import project_root

        variables = {**self._openstack().env(), "NXGOV_ESTATE": str(project_root() / "inventories" / "lab"),
                     "NXGOV_LAB_DIR": str(self.lab_dir)}
        watched = self.monitoring().watched()
        if watched is not None:
            variables |= {"NXGOV_STATE": str(watched.state), "NXGOV_AUDIT_LOG": str(watched.audit_log)}
        return variables

    # -- netsim -------------------------------------------------------------------------------------
    def _up_netsim(self, estate: Estate, creds: dict[str, Credential], progress: Progress) -> ComponentStatus:
        devices = _simulated(estate)
        intents = {i.name: i for i in self._intents(estate, progress)}
        extranet = self._extranet()
        spec = SimSpec(tuple(simulated_device(d, intents[d.name], creds[d.credentials], extranet.vty_dir(d.name))
                             for d in devices))
        base = self.lab_dir / "netsim"
        spec_path = base / "spec.json"
        previous = spec_path.read_bytes() if spec_path.exists() else None
        write_spec(spec_path, spec)
        running = [e for e in self.ledger.entries("netsim") if e.pid and process_alive(e.pid, e.start_time)]
        if running and previous == spec_path.read_bytes():
            return ComponentStatus("netsim", "netsim", "running", f"already running; pid {running[0].pid}")
        self.ledger.release("netsim")
        for device in devices:
            _check_port_free(device.host, device.port, f"simulated device {device.name}")
        handle = NetsimProcess.start(spec_path, base / "state", self.lab_dir / "logs" / "netsim.log",
                                     ledger=self.ledger)
        return ComponentStatus("netsim", "netsim", "running", f"pid {handle.pid}, {len(devices)} devices")

    def _netsim_status(self) -> ComponentStatus:
        entries = self.ledger.entries("netsim")
        alive = [e for e in entries if e.pid and process_alive(e.pid, e.start_time)]
        if not entries:
            return ComponentStatus("netsim", "netsim", "stopped", "not started")
        if not alive:
            return ComponentStatus("netsim", "netsim", "stopped", f"process gone (log {self.lab_dir}/logs/netsim.log)")
        return ComponentStatus("netsim", "netsim", "running", f"pid {alive[0].pid}")

    # -- extranet -----------------------------------------------------------------------------------
    def _up_extranet(self, estate: Estate, progress: Progress) -> list[ComponentStatus]:
        """Bare routers for the frr devices and the simulated devices' data planes, cabled as the stored IPv6 plan
        numbers their ports."""
        devices = [*_frr(estate), *_simulated(estate)]
        if not devices:
            return []
        simulated = {d.name for d in _simulated(estate)}
        return self._extranet().up(cabled(self._intents(estate, progress), {d.name: d.host for d in devices},
                                          simulated), progress)

    def _intents(self, estate: Estate, progress: Progress) -> list[DeviceIntent]:
        """The intents of the devices the lab runs (FRR and simulated), from the stored IPv6 plan (planned there
        if need be): what cables the extranet and names the simulated devices' ports."""
        from nxgov.network.intent import build_intents
        from nxgov.network.planstore import plan_ipv6
        from nxgov.paths import default_state_db
        from nxgov.state import StateStore

        devices = [*_frr(estate), *_simulated(estate)]
        if not devices:
            return []
        state = self.state or default_state_db()
        with StateStore.open(state) as store:
            outcome = plan_ipv6(store, estate)
        if outcome.new:
            progress(f"extranet: {len(outcome.new)} new allocations of the IPv6 plan stored in {state}")
        return build_intents(outcome, [d.name for d in devices])

    # -- legacy hosts -------------------------------------------------------------------------------
    def _up_hosts(self, estate: Estate, creds: dict[str, Credential], progress: Progress) -> list[ComponentStatus]:
        specs = []
        for system in estate.systems:
            if system.source is None:
                continue
            key = creds.get(system.source.credentials or "")
            public = Path(key.content["ssh_key"] + ".pub").read_text().strip() if key and "ssh_key" in key.content \
                else ""
            port = urlsplit(system.source.health).port if system.source.health else None
            specs.append(LegacyHostSpec(name=system.code[:20], address6=system.source.host, address4=None,
                                        system_code=system.code, user=system.source.user, authorized_key=public,
                                        data_files=LEGACY_DATA_FILES, service_port=port or 8080))
        return self._hosts().up(specs, progress) if specs else []

    # -- credentials --------------------------------------------------------------------------------
    def check_credentials(self) -> dict[str, Path]:
        """Where the lab writes each credentials file the estate names (resolved), every one inside the lab
        directory: InputError for one outside, before anything is read or written."""
        estate = self._need_estate()
        users = _users_of(estate)
        return {name: confined(self.lab_dir, name, Path(ref.file)) for name, ref in estate.credentials.items()
                if ref.file is not None and name in users}

    def _credentials(self, estate: Estate) -> dict[str, Credential]:
        """The credentials files the estate names, with secrets generated once (kept across ups)."""
        out: dict[str, Credential] = {}
        users = _users_of(estate)
        for name, path in self.check_credentials().items():
            existing = _read_secret_file(path)
            platforms, user = users[name]
            if platforms == {"frr"}:
                content = {"username": "root", "ssh_key": str(self._extranet().key_file)}
            elif "legacy" in platforms or "servers" in platforms:
                key = path.with_suffix(".key")
                ensure_key(key, f"nxgov-lab-{name}")
                content = {"username": user or "ops", "ssh_key": str(key)}
            else:
                content = {"username": existing.get("username", "nxlab"),
                           "password": existing.get("password") or secrets.token_urlsafe(18)}
            out[name] = Credential(path, content)
        return out

    def _need_estate(self) -> Estate:
        if self.estate is None:
            raise LabError("the lab needs an estate to know what to build", "pass --estate inventories/lab")
        return self.estate


def simulated_device(device: Device, intent: DeviceIntent, login: Credential, vty_dir: Path) -> DeviceSpec:
    """What the simulator hosts for ``device``: its login, its platform's ports and every port its intent names
    (an estate-given name included), and its data plane (the namespace the extranet part makes for it, each
    vendor port name mapped to the Linux interface ``eth<port>`` the extranet cables)."""
    links = tuple((interface_name(intent, i), port_name(i.port)) for i in intent.interfaces)
    physical = expand(DEFAULT_PORTS[device.platform])  # type: ignore[index]
    return DeviceSpec(name=device.name, platform=device.platform, port=device.port, host=device.host,  # type: ignore[arg-type]
                      username=login.content["username"], password=login.content["password"],
                      ports=(*physical, *(vendor for vendor, _ in links if vendor not in physical)),
                      dataplane=DataplaneSpec(f"{PREFIX}{device.name}", str(vty_dir), links))


def confined(lab_dir: Path, name: str, path: Path) -> Path:
    """``path`` (of credentials entry ``name``) resolved, when it is inside ``lab_dir``: the lab runs as root, so an
    estate must not make it write anywhere else (/etc, a home directory). InputError otherwise."""
    root = lab_dir.resolve()
    where = path.expanduser().resolve()
    if where == root or not where.is_relative_to(root):
        raise InputError(f"credentials entry {name!r}: the lab writes only inside its directory {lab_dir}, not {path}",
                         f"point credentials.{name}.file at a file under {lab_dir}/ (e.g. {lab_dir}/credentials/"
                         f"{name}.yaml), or pass --lab-dir (NXGOV_LAB_DIR) for a directory that holds it")
    return where


def _simulated(estate: Estate) -> list[Device]:
    ext = estate.extranet
    return [d for d in (ext.devices if ext else []) if d.platform in SIMULATED and _is_loopback(d.host)]


def _frr(estate: Estate) -> list[Device]:
    ext = estate.extranet
    return [d for d in (ext.devices if ext else []) if d.platform == "frr"]


def _users_of(estate: Estate) -> dict[str, tuple[set[str], str | None]]:
    """For each credentials entry: which kinds of lab peer use it, and the login the estate names (root on the
    lab clouds' servers: the lab's Nova driver authorises a server's keypair for root)."""
    users: dict[str, tuple[set[str], str | None]] = {}
    for device in [*_simulated(estate), *_frr(estate)]:
        users.setdefault(device.credentials, (set(), None))[0].add(device.platform)
    for system in estate.systems:
        if system.source and system.source.credentials:
            users.setdefault(system.source.credentials, (set(), system.source.user))[0].add("legacy")
    if estate.server_access is not None:
        users.setdefault(estate.server_access.credentials, (set(), "root"))[0].add("servers")
    for name, (kinds, _) in users.items():
        if len(kinds) > 1 and kinds & {"legacy", "frr", "servers"}:
            raise LabError(f"credentials entry {name!r} is used by different kinds of lab peer ({', '.join(kinds)})",
                           "give FRR routers, simulated devices, legacy hosts and the cloud servers (server_access) "
                           "their own credentials entries")
    return users


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_port_free(host: str, port: int, what: str,
                     hint: str = "stop what holds it, or change the device's port in the lab estate") -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: a port in TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            holder = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                                    check=False).stdout.strip()
            raise LabError(f"port {host}:{port} for {what} is already in use" + (f": {holder}" if holder else ""),
                           hint) from None


def _read_secret_file(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_secret_file(path: Path, content: dict[str, str]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(content, handle)
    os.replace(tmp, path)
