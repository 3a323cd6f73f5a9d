"""The lab's legacy hosts: each a network namespace plus mount, UTS and PID namespaces running sshd and a web app.

A host ``NAME`` is namespace ``nxl-NAME`` with ``eth0`` bridged (root end ``nxlh<i>``) onto ``nxl-hosts``
in the root namespace, which holds the gateway address (::1 / .1) of every host subnet (the host's default
routes), so the root namespace and the hosts reach each other and nothing else. The host's own files live
in a ledger-recorded tmpfs at ``<lab>/hosts/NAME/fs`` (its /srv, /home, /root, /etc/ssh, passwd and group):
the system's data in /srv/<system>/data, its web app in /srv/<system>/app/app.py, logs in /srv/<system>/log.
Inside, ``unshare --mount --uts --pid --fork --mount-proc`` runs ``init.sh``: it builds a private root
(:mod:`nxgov.lab.privroot`: the machine's / under an overlay whose writes land in a tmpfs on
``<lab>/hosts/NAME/privroot`` that exists only in the host's mount namespace; the lab dir hidden), binds the
host's /srv, /home, /root and /etc/ssh into it, copies in its /etc/passwd and /etc/group, moves into it
(pivot_root), starts the web app (``python3 /srv/<system>/app/app.py`` as the host's user) and execs sshd as
PID 1 of the host's PID namespace. Whatever a login writes outside /srv, /home and /root (/etc, /var/log...)
never reaches the machine. Killing that PID 1 ends everything inside, the private root with it; the ledger
records it and unshare.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import pwd
import shlex
import shutil
import socket
import urllib.request
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from nxgov.errors import LabError
from nxgov.lab import privroot, sshd
from nxgov.lab.ledger import Entry, Ledger
from nxgov.lab.netns import (
    PREFIX,
    ComponentStatus,
    Progress,
    add_address,
    add_bridge,
    add_netns,
    add_veth,
    alive,
    child_pid,
    describe,
    documentation_address,
    namespaces,
    release,
    run,
    set_link,
    spawn,
    terminate,
    wait_for,
)

COMPONENT = "legacy-hosts"
BRIDGE = f"{PREFIX}hosts"
APP = Path(__file__).with_name("legacy_app.py.txt")
FIRST_UID = 20000
TMPFS_SIZE = "512m"
"""The host's own files (/srv, /home, /root): room for a data set of ~300 MB (a tmpfs uses only what is written)."""
PRIVROOT_SIZE = "256m"
"""What logins may write elsewhere in the host (/etc, /var...), and separately to its /tmp."""
START_TIMEOUT = 15.0
PREFIXLEN4 = 25


@dataclass(frozen=True)
class LegacyHostSpec:
    """One legacy host. Addresses are bare: ``address6`` in 2001:db8::/32 (its /64's ::1 is the root namespace's
    side), ``address4`` in 198.51.100.128/25 (its first address is the root side; the OpenStack lab holds
    198.51.100.1 and tenant subnets below .128), e.g. 198.51.100.139. ``authorized_key`` is an OpenSSH public key
    line."""

    name: str
    address6: str
    address4: str | None
    system_code: str
    user: str
    authorized_key: str
    data_files: int
    service_port: int

    @property
    def netns(self) -> str:
        return f"{PREFIX}{self.name}"

    @property
    def data_dir(self) -> str:
        return f"/srv/{self.system_code}/data"

    @property
    def app_dir(self) -> str:
        return f"/srv/{self.system_code}/app"

    @property
    def log_dir(self) -> str:
        return f"/srv/{self.system_code}/log"

    @property
    def home(self) -> str:
        return "/root" if self.user == "root" else f"/home/{self.user}"

    def interfaces(self) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
        out = [documentation_address(f"{self.address6}/64")]
        if self.address4:
            out.append(documentation_address(f"{self.address4}/{PREFIXLEN4}"))
        return out

    def validate(self) -> None:
        if not self.name.replace("-", "").isalnum() or len(self.netns) > 24:
            raise LabError(f"legacy host name {self.name!r}: use up to 20 letters, digits and '-'")
        if not self.system_code.replace("-", "").isalnum() or not self.user.replace("-", "").isalnum():
            raise LabError(f"legacy host {self.name}: system code and user must be letters, digits and '-'")
        versions = [i.version for i in self.interfaces()]
        if versions != [6, 4][: len(versions)]:
            raise LabError(f"legacy host {self.name}: address6 must be IPv6 and address4 IPv4")
        for iface in self.interfaces():
            if iface.ip == iface.network[1]:
                raise LabError(f"legacy host {self.name}: {iface.ip} is the gateway (root namespace) address")
        if not 0 < self.service_port < 65536 or self.service_port == 22 or self.data_files < 0:
            raise LabError(f"legacy host {self.name}: service_port must be 1-65535 but not 22, data_files >= 0")


def data_file_name(index: int) -> str:
    return f"file-{index:04d}.txt"


def data_file_content(system_code: str, index: int) -> bytes:
    """The deterministic content of data file ``index`` of ``system_code`` (to verify a migration)."""
    return "".join(f"{system_code} record {index:04d} line {n}\n" for n in range(1 + index % 5)).encode()


def _gateway(iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface) -> str:
    return f"{iface.network[1]}/{iface.network.prefixlen}"


class LegacyHosts:
    """The lab's legacy hosts under ``<lab_dir>/hosts``; every namespace, link, mount and process is in the ledger."""

    def __init__(self, lab_dir: Path) -> None:
        self.lab_dir = lab_dir
        self.dir = lab_dir / "hosts"
        self.ledger = Ledger(lab_dir)
        self.known_hosts = self.dir / "known_hosts"

    def _hdir(self, name: str) -> Path:
        return self.dir / name

    def _entries(self, name: str) -> list[Entry]:
        return [e for e in self.ledger.entries(COMPONENT) if e.info.get("host") == name]

    def names(self) -> list[str]:
        """Hosts the ledger knows, in the order they were made."""
        return list(dict.fromkeys(e.info["host"] for e in self.ledger.entries(COMPONENT) if e.info.get("host")))

    def spec(self, name: str) -> LegacyHostSpec:
        try:
            return LegacyHostSpec(**json.loads((self._hdir(name) / "spec.json").read_text()))
        except FileNotFoundError as exc:
            raise LabError(f"the lab has no legacy host {name!r}", "run 'nxgov lab up' first") from exc

    # -- lifecycle ---------------------------------------------------------------------------------
    def up(self, specs: Sequence[LegacyHostSpec], progress: Progress | None = None) -> list[ComponentStatus]:
        """Start every host in ``specs``; a host already running with the same spec and answering SSH is reported,
        not redone, even when its web app does not answer (a cutover or a retire stops it on purpose: making the host
        again would undo what the rehearsal did); one whose sshd does not answer is made again."""
        say = progress or (lambda _msg: None)
        for spec in specs:
            spec.validate()
        if len({s.name for s in specs}) != len(specs):
            raise LabError("two legacy hosts have the same name")
        sshd.ensure_sshd()
        self.dir.mkdir(parents=True, exist_ok=True)
        if not any(e.name == BRIDGE for e in self.ledger.entries(COMPONENT)):
            add_bridge(self.ledger, COMPONENT, BRIDGE)
        for gateway in sorted({_gateway(i) for s in specs for i in s.interfaces()}):
            add_address(None, BRIDGE, gateway)
        set_link(None, BRIDGE, True)
        reused = []
        for spec in specs:
            if self._running(spec) and self._answers_ssh(spec):
                reused.append(spec.name)
                continue
            if self._entries(spec.name):
                say(f"legacy host {spec.name}: replacing a stale, changed or unhealthy host")
                self._remove(spec.name)
            say(f"legacy host {spec.name}: starting ({spec.address6}, {spec.data_files} data files)")
            self._start(spec)
        self._write_known_hosts()
        for spec in (s for s in specs if s.name not in reused):
            wait_for(functools.partial(self._healthy, spec), START_TIMEOUT,
                     f"legacy host {spec.name} to answer SSH and http://[{spec.address6}]:{spec.service_port}/health",
                     f"see {self._hdir(spec.name) / 'log'}")
        return [ComponentStatus(s.component, s.name, s.state, f"already running; {s.detail}")
                if s.name in reused else s for s in self.status()]

    def down(self) -> list[str]:
        """Remove every host (newest first); works after a partial or failed up."""
        entries = self.ledger.entries(COMPONENT)
        terminate(entries)
        gone = [describe(e) for e in self.ledger.release(COMPONENT)]
        self.known_hosts.unlink(missing_ok=True)
        return gone

    def remove(self, names: Iterable[str]) -> list[str]:
        """Remove only the named hosts (each newest entry first) and their folders, leaving every other host and the
        bridge; a host subnet's gateway address goes from the bridge when no remaining host uses it. Names the
        ledger does not know are skipped. Returns what went."""
        known = self.names()
        going = [n for n in dict.fromkeys(names) if n in known]
        if not going:
            return []
        specs = {n: self.spec(n) for n in known if (self._hdir(n) / "spec.json").exists()}
        gone: list[str] = []
        for name in going:
            gone += self._remove(name)
        kept = {_gateway(i) for n, s in specs.items() if n not in going for i in s.interfaces()}
        for gateway in sorted({_gateway(i) for n in going if n in specs for i in specs[n].interfaces()} - kept):
            with suppress(LabError):
                run(["ip", "addr", "del", gateway, "dev", BRIDGE])
                gone.append(f"address {gateway} on {BRIDGE}")
        for name in going:
            if not (self._hdir(name) / "fs").is_mount():
                shutil.rmtree(self._hdir(name), ignore_errors=True)
        if self.names():
            self._write_known_hosts()
        else:
            self.known_hosts.unlink(missing_ok=True)
        return gone

    def status(self) -> list[ComponentStatus]:
        names = self.names()
        if not names:
            return [ComponentStatus(COMPONENT, "legacy-hosts", "stopped", "no hosts")]
        out = []
        present = namespaces()
        for name in names:
            spec = self.spec(name)
            entries = self._entries(name)
            if spec.netns not in present or not any(e.kind == "process" for e in entries) or not alive(entries):
                out.append(ComponentStatus(COMPONENT, name, "stopped", "namespace or processes missing"))
            elif not self._answers_ssh(spec):
                out.append(ComponentStatus(COMPONENT, name, "degraded", "sshd does not answer"))
            else:
                app = "" if self._serves(spec) else " (its web app does not answer: stopped by a cutover or a retire?)"
                out.append(ComponentStatus(COMPONENT, name, "running",
                                           f"system {spec.system_code}, ssh {spec.user}@{spec.address6}, "
                                           f"http port {spec.service_port}{app}"))
        return out

    def _running(self, spec: LegacyHostSpec) -> bool:
        entries = self._entries(spec.name)
        same = (self._hdir(spec.name) / "spec.json").exists() and self.spec(spec.name) == spec
        return same and any(e.kind == "process" for e in entries) and alive(entries) and spec.netns in namespaces()

    def _remove(self, name: str) -> list[str]:
        entries = self._entries(name)
        terminate(entries)
        return release(self.ledger, entries)

    def _healthy(self, spec: LegacyHostSpec) -> bool:
        """A started host is up: sshd and its web app answer."""
        return self._answers_ssh(spec) and self._serves(spec)

    @staticmethod
    def _answers_ssh(spec: LegacyHostSpec) -> bool:
        try:
            with socket.create_connection((spec.address6, 22), timeout=1) as ssh:
                if not ssh.recv(64).startswith(b"SSH-2.0-"):
                    return False
                ssh.sendall(b"SSH-2.0-nxgov-lab-probe\r\n")
        except OSError:
            return False
        return True

    @staticmethod
    def _serves(spec: LegacyHostSpec) -> bool:
        try:
            with urllib.request.urlopen(f"http://[{spec.address6}]:{spec.service_port}/health", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    # -- build -------------------------------------------------------------------------------------
    def _free_index(self) -> int:
        used = {e.info.get("index") for e in self.ledger.entries(COMPONENT)}
        return next(i for i in range(len(used) + 1) if i not in used)

    def _start(self, spec: LegacyHostSpec) -> None:
        hdir = self._hdir(spec.name)
        (hdir / "log").mkdir(parents=True, exist_ok=True)
        (hdir / "spec.json").write_text(json.dumps(asdict(spec), indent=1))
        sshd.ensure_key(hdir / "ssh_host_ed25519_key", spec.name)

        index = self._free_index()
        add_netns(self.ledger, COMPONENT, spec.netns, host=spec.name, index=index)
        outside = f"nxlh{index}"
        add_veth(self.ledger, COMPONENT, (outside, None), ("eth0", spec.netns), host=spec.name, index=index)
        set_link(None, outside, True, master=BRIDGE)
        for iface in spec.interfaces():
            add_address(spec.netns, "eth0", str(iface))
        set_link(spec.netns, "eth0", True)
        for iface in spec.interfaces():
            run(["ip", f"-{iface.version}", "route", "replace", "default", "via", str(iface.network[1]), "dev", "eth0"],
                spec.netns)

        fs = hdir / "fs"
        fs.mkdir(exist_ok=True)
        self.ledger.add(Entry("mount", str(fs), COMPONENT, info={"host": spec.name, "index": index}))
        run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=755", f"{PREFIX}{spec.name}", str(fs)])
        uid = self._seed(spec, hdir, fs)
        (hdir / "init.sh").write_text(self._init_script(spec, hdir, uid))

        unshare = spawn(self.ledger, COMPONENT, f"{spec.name}/unshare",
                        ["unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child", "--mount-proc",
                         "sh", str(hdir / "init.sh")],
                        spec.netns, hdir / "log" / "init.log", host=spec.name, index=index)
        assert unshare.pid is not None
        self.ledger.add_process(COMPONENT, f"{spec.name}/init", child_pid(unshare.pid), host=spec.name, index=index,
                                role="PID 1 of the host (sshd)")

    def _seed(self, spec: LegacyHostSpec, hdir: Path, fs: Path) -> int:
        """Fill the host's tmpfs (its /srv, /home, /root, /etc/ssh, passwd, group); return the user's uid."""
        system = fs / "srv" / spec.system_code
        data = fs / spec.data_dir.lstrip("/")
        app = fs / spec.app_dir.lstrip("/")
        home = fs / spec.home.lstrip("/")
        for d in (data, app, fs / spec.log_dir.lstrip("/"), home / ".ssh", fs / "root", fs / "home", fs / "ssh"):
            d.mkdir(parents=True, exist_ok=True)
        for i in range(spec.data_files):
            (data / data_file_name(i)).write_bytes(data_file_content(spec.system_code, i))
        (app / "app.py").write_text(APP.read_text())
        (fs / spec.log_dir.lstrip("/") / "app.log").touch()  # the user's (chown below): its service restarts append
        keys = home / ".ssh" / "authorized_keys"
        keys.write_text(spec.authorized_key.strip() + "\n")
        (home / ".ssh").chmod(0o700)
        keys.chmod(0o600)
        home.chmod(0o755)
        for name in ("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"):
            shutil.copy2(hdir / name, fs / "ssh" / name)
        listen = [spec.address6, *([spec.address4] if spec.address4 else [])]
        (fs / "ssh" / "sshd_config").write_text(sshd.config(
            listen, Path("/etc/ssh/ssh_host_ed25519_key"), Path("/run/sshd.pid"), spec.user,
            ["Subsystem sftp internal-sftp", "AllowTcpForwarding no", "PrintLastLog no"]))
        uid = self._write_identity(spec, fs)
        run(["chown", "-R", f"{uid}:{uid}", str(system), str(home)])
        return uid

    def _write_identity(self, spec: LegacyHostSpec, fs: Path) -> int:
        """The host's own /etc/passwd and /etc/group with ``spec.user`` in them; return its uid."""
        if spec.user == "root":
            return 0
        passwd = [ln for ln in Path("/etc/passwd").read_text().splitlines() if not ln.startswith(f"{spec.user}:")]
        group = [ln for ln in Path("/etc/group").read_text().splitlines() if not ln.startswith(f"{spec.user}:")]
        taken = {p.pw_uid for p in pwd.getpwall()}
        uid = next(u for u in range(FIRST_UID, FIRST_UID + 10000) if u not in taken)
        passwd.append(f"{spec.user}:x:{uid}:{uid}:{spec.system_code} service user:{spec.home}:/bin/bash")
        group.append(f"{spec.user}:x:{uid}:")
        (fs / "passwd").write_text("\n".join(passwd) + "\n")
        (fs / "group").write_text("\n".join(group) + "\n")
        return uid

    def _init_script(self, spec: LegacyHostSpec, hdir: Path, uid: int) -> str:
        """PID 1's script: the private root (the lab dir hidden, the host's own files bound in), then sshd."""
        fs = hdir / "fs"
        binds = [privroot.Bind(str(fs / "srv"), "/srv"), privroot.Bind(str(fs / "home"), "/home"),
                 privroot.Bind(str(fs / "root"), "/root"), privroot.Bind(str(fs / "ssh"), "/etc/ssh", read_only=True)]
        base = str(hdir / "privroot")
        new = privroot.root(base)
        identity = [f"cp {shlex.quote(str(fs / name))} {shlex.quote(f'{new}/etc/{name}')}"
                    for name in ("passwd", "group")] if uid else []
        app = (f"setpriv --reuid={uid} --regid={uid} --init-groups python3 {spec.app_dir}/app.py "
               f"--port {spec.service_port} --data {spec.data_dir} >> {spec.log_dir}/app.log 2>&1 &")
        inside = f"cd /srv/{spec.system_code}\n{app}\nexec {sshd.SSHD} -D -e -f /etc/ssh/sshd_config"
        lines = ["#!/bin/sh", f"# PID 1 of lab legacy host {spec.name}: written by nxgov lab at each up",
                 "set -eu", f"hostname {spec.name}",
                 *privroot.prepare(base, PRIVROOT_SIZE, empty=[str(self.lab_dir)], binds=binds),
                 *identity, privroot.enter(base, ["/bin/sh", "-c", inside])]
        return "\n".join(lines) + "\n"

    def _write_known_hosts(self) -> None:
        lines = []
        for name in self.names():
            spec = self.spec(name)
            key = (self._hdir(name) / "ssh_host_ed25519_key.pub").read_text()
            lines.append(sshd.known_hosts_line([spec.address6, *([spec.address4] if spec.address4 else [])], key))
        self.known_hosts.write_text("\n".join(lines) + "\n")
