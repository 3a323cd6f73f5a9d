"""Collect an :class:`~nxgov.migrate.assessment.Assessment` of each system's legacy host over SSH.

One SSH session per host runs ONE command (``sh -s``, the script on its standard input, so the login shell
does not matter) that prints every section between markers; a section that fails yields None, 0 or an empty
list with a note, never an error. What is read, with the commands used (GNU/Linux userland, ``LC_ALL=C``):

- OS release: ``PRETTY_NAME`` of ``/etc/os-release``, else ``uname -sr``; CPUs: ``nproc``; memory:
  ``MemTotal`` of ``/proc/meminfo``; disks: ``df -P -B1 -T`` (kernel and pseudo filesystems left out).
- Each ``source.paths`` entry: regular files, their bytes (apparent size) and the newest modification of
  anything below it (``find -printf``).
- Listening TCP services (``ss -Hltnp``: port and process name; a process name needs root on the host) and
  established connections (``ss -Htnp``, this session's own SSH connection left out). A connection whose
  remote address is another estate system's ``source.host`` names that system; one this host opened (its
  local port is not one it listens on) makes the assessed system depend on it (``depends_on``).
- Zombie evidence: the last login (``last -w --time-format iso``, from wtmp), the newest modification under
  the data paths, the established connections seen, and the requests in the application's access log.
  The access log is, by convention, the first readable of ``/srv/<system>/log/access.log``,
  ``/srv/<system>/log/app.log``, ``/var/log/nginx/access.log``, ``/var/log/apache2/access.log`` and
  ``/var/log/httpd/access_log``; requests are its Common Log Format lines (``"GET /path HTTP/1.1"``),
  without the health checks of ``source.health``'s path.

The login user is ``source.user``; the secret comes from the ``source.credentials`` entry (a password or a
key), or, without one, from the operator's SSH agent and ``~/.ssh`` keys. Host keys: trusted on first use,
then strict (:class:`~nxgov.network.drivers.hostkeys.KnownHosts`).
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import re
import shlex
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

import paramiko

from nxgov.errors import InputError, OperationError
from nxgov.estate.loader import LoadedEstate
from nxgov.estate.model import Estate, LegacySource, System
from nxgov.migrate.assessment import Assessment, Connection, Disk, Listening, PathUsage, ZombieEvidence
from nxgov.migrate.reach import Login, connect, describe
from nxgov.network.drivers.credentials import Credentials, resolve
from nxgov.network.drivers.errors import UnreachableError
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.runner import Hook, Outcome, RunResult, run

log = logging.getLogger(__name__)
T = TypeVar("T")

COLLECT_TIMEOUT_S = 600.0
"""How long the bundled command may run (a data path of millions of files takes minutes)."""
MARK = "@@nxgov"
_PSEUDO_FS = frozenset({"devtmpfs", "proc", "sysfs", "cgroup", "cgroup2", "squashfs", "overlay", "nsfs", "efivarfs"})
_PSEUDO_MOUNTS = ("/dev", "/proc", "/sys", "/run")
_ACCESS_LOGS = ("/srv/{system}/log/access.log", "/srv/{system}/log/app.log", "/var/log/nginx/access.log",
                "/var/log/apache2/access.log", "/var/log/httpd/access_log")


@dataclass(frozen=True)
class HostTarget:
    """One system to assess: its code, legacy source and the login resolved from its credentials entry."""

    system: str
    source: LegacySource
    credentials: Credentials | None


def select_systems(loaded: LoadedEstate, codes: Sequence[str] = ()) -> list[System]:
    """The systems named in ``codes`` (every system with a ``source`` when empty), in estate order.

    InputError (exit 2) for an unknown code (with the closest one), or a named system without ``source``
    (located in the estate)."""
    estate = loaded.estate
    known = {system.code: index for index, system in enumerate(estate.systems)}
    unknown = [code for code in codes if code not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        raise InputError(f"--system: no system named {', '.join(repr(code) for code in unknown)} in the estate "
                         f"{loaded.path}", f"did you mean {close[0]!r}?" if close else
                         "`nxgov estate show` lists the systems")
    for code in codes:
        index = known[code]
        if estate.systems[index].source is None:
            where = loaded.locate(("systems", index))
            at = f"{where.file}:{where.line}:{where.column}: " if where else ""
            raise InputError(f"{at}systems[{index}]: system {code!r} has no source (legacy host) to assess",
                             "add source: {host: ..., user: ..., credentials: ..., paths: [...]} to the system, "
                             "or leave it out of --system")
    return [system for system in estate.systems
            if system.source is not None and (not codes or system.code in codes)]


def host_targets(estate: Estate, systems: Sequence[System],
                 environ: Mapping[str, str] | None = None) -> list[HostTarget]:
    """A :class:`HostTarget` per system (each with a source), each credentials entry resolved once (InputError when
    one cannot be: before any host is contacted)."""
    resolved: dict[str, Credentials] = {}
    out = []
    for system in systems:
        source = system.source
        if source is None:
            continue
        name = source.credentials
        if name is not None and name not in resolved:
            ref = estate.credentials.get(name)
            if ref is None:
                raise InputError(f"{system.code}: the estate has no credentials entry {name!r}")
            resolved[name] = resolve(name, ref, environ)
        out.append(HostTarget(system.code, source, resolved[name] if name is not None else None))
    return out


def assess_all(targets: Sequence[HostTarget], estate: Estate, known_hosts: KnownHosts, *, workers: int = 8,
               hooks: Sequence[Hook] = (), timeout: float = COLLECT_TIMEOUT_S) -> RunResult[HostTarget]:
    """Assess every target on at most ``workers`` threads; each result's ``data`` is its :class:`Assessment`.

    A host that cannot be reached, refuses the login or offers a changed host key fails alone (its result's
    ``error`` names the system and the fix); the others carry on. Nothing is stored: see
    :func:`~nxgov.migrate.assessment.save_assessment`."""
    addresses = estate_addresses(estate)

    def task(target: HostTarget) -> Outcome:
        return Outcome(False, assess_host(target, known_hosts, addresses, timeout))

    return run(task, targets, name="migrate assess", key=lambda target: target.system, workers=workers, hooks=hooks)


def estate_addresses(estate: Estate) -> dict[str, str]:
    """Each legacy host's address (as written, and resolved when it is a name) -> its system's code."""
    out: dict[str, str] = {}
    for system in estate.systems:
        if system.source is None:
            continue
        host = str(system.source.host)
        out.setdefault(_normal(host), system.code)
        if _is_name(host):
            try:
                infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            except OSError:
                continue
            for info in infos:
                out.setdefault(_normal(str(info[4][0])), system.code)
    return out


def assess_host(target: HostTarget, known_hosts: KnownHosts, addresses: Mapping[str, str],
                timeout: float = COLLECT_TIMEOUT_S) -> Assessment:
    """Log in to the target's legacy host, run the bundled command once and read its answer."""
    source = target.source
    host, where = str(source.host), f"{source.host} port {source.port}"
    health = (urlsplit(source.health).path or None) if source.health else None
    script = bundle(target.system, source.paths, health)
    client = known_hosts.client(target.system)
    try:
        connect(client, target.system, source_login(target))
        log.info("%s: SSH session open to %s as %s", target.system, where, source.user)
        try:
            stdin, stdout, _ = client.exec_command("sh -s", timeout=timeout)
            stdin.write(script)
            stdin.channel.shutdown_write()
            text = stdout.read().decode("utf-8", errors="replace")
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise UnreachableError(target.system, f"the session to {where} was lost while assessing: "
                                   f"{describe(error)}", "check the host and assess it again") from error
    finally:
        client.close()
    if f"{MARK}-done" not in text:
        raise OperationError(f"{target.system}: the assessment command on {where} did not finish",
                             "check that /bin/sh works for the source user there, then assess it again")
    return parse_report(target.system, host, text, source.paths, addresses)


def source_login(target: HostTarget) -> Login:
    """How nxgov logs in to ``target``'s legacy host."""
    source = target.source
    return Login("the legacy host", str(source.host), source.port, source.user, target.credentials,
                 f"credentials entry {source.credentials!r}" if source.credentials
                 else "your SSH agent and ~/.ssh keys",
                 "check the system's source.user and its credentials entry in the estate, and that the key or "
                 "password is accepted on the legacy host",
                 "check that the host is up and reachable from here, and that source.host and source.port in the "
                 "estate are right")


# -- the bundled command ---------------------------------------------------------------------------
def bundle(system: str, paths: Sequence[str], health_path: str | None = None) -> str:
    """The one shell script (POSIX sh) that reads everything an assessment needs, section by section."""
    sections: list[tuple[str, str]] = [
        ("os", "cat /etc/os-release || uname -sr"),
        ("cpus", "nproc || getconf _NPROCESSORS_ONLN"),
        ("memory", "grep '^MemTotal:' /proc/meminfo"),
        ("disks", "df -P -B1 -T"),
        ("session", 'printf "%s\\n" "$SSH_CONNECTION"'),
        ("listening", "ss -Hltnp"),
        ("connections", "ss -Htnp"),
        ("last-login", "last -w --time-format iso | grep -v -e '^reboot ' -e '^shutdown ' -e '^wtmp' -e '^$' "
                       "| head -n 1"),
    ]
    for index, path in enumerate(paths):
        quoted = shlex.quote(path)
        sections.append((f"path {index}", (
            f"if [ -e {quoted} ]; then find {quoted} -printf '%y %s %T@\\n' | awk "
            "'$1 == \"f\" {n++; b += $2} $3 > m {m = $3} END {printf \"%d %.0f %s\\n\", n, b, m}'; "
            "else echo missing; fi")))
    logs = " ".join(shlex.quote(name.format(system=system)) for name in _ACCESS_LOGS)
    count = ("awk -F'\"' -v h=" + shlex.quote(health_path or "") + " '{split($2, r, \" \"); "
             "if (r[1] ~ /^[A-Z]+$/ && substr(r[2], 1, 1) == \"/\" && r[2] != h && index(r[2], h \"?\") != 1) n++} "
             "END {print n + 0}' \"$f\"")
    sections.append(("access-log", f'for f in {logs}; do if [ -r "$f" ]; then echo "$f"; {count}; break; fi; done'))
    lines = ["export LC_ALL=C", "exec 2>/dev/null"]
    for name, command in sections:
        lines.append(f"echo '{MARK} {name}'; {{ {command}; }}; echo \"{MARK}-rc $?\"")
    lines.append(f"echo '{MARK}-done'")
    return "\n".join(lines) + "\n"


def sections(text: str) -> dict[str, tuple[list[str], int | None]]:
    """The bundled command's answer cut into sections: name -> (lines, exit status or None when cut short)."""
    out: dict[str, tuple[list[str], int | None]] = {}
    name: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(f"{MARK}-rc ") and name is not None:
            status = line.removeprefix(f"{MARK}-rc ").strip()
            out[name] = (lines, int(status) if status.isdigit() else None)
            name, lines = None, []
        elif line.startswith(f"{MARK} "):
            name, lines = line.removeprefix(f"{MARK} ").strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        out[name] = (lines, None)
    return out


def parse_report(system: str, host: str, text: str, paths: Sequence[str],
                 addresses: Mapping[str, str] | None = None, assessed_at: str | None = None) -> Assessment:
    """Build the assessment from the bundled command's answer; each section that cannot be read adds a note."""
    found = sections(text)
    notes: list[str] = []

    def read(name: str, what: str, parse: Callable[[list[str]], T]) -> T:
        lines, status = found.get(name, ([], None))
        value = parse(lines)
        if not value:
            notes.append(f"{what}: could not be read" + (f" (exit status {status})" if status else ""))
        return value

    os_release = read("os", "OS release (/etc/os-release, uname -sr)", _os_release)
    cpus = read("cpus", "CPUs (nproc)", _first_int)
    memory = read("memory", "memory (/proc/meminfo)", _memory)
    disks = read("disks", "disks (df -P -B1 -T)", _disks)
    listening = read("listening", "listening services (ss -Hltnp)", _listening)
    session = _session(found.get("session", ([], None))[0])
    connections_lines, status = found.get("connections", ([], None))
    established = _established(connections_lines, session)
    if status != 0:
        notes.append("established connections (ss -Htnp): could not be read")
    usages = []
    for index, path in enumerate(paths):
        usage, problem = _path_usage(path, found.get(f"path {index}", ([], None)))
        usages.append(usage)
        if problem:
            notes.append(f"{path}: {problem}")
    known = addresses or {}
    ports = {entry.port for entry in listening}
    connections = [Connection(local_port=local, remote=remote, remote_port=remote_port,
                              system=known.get(remote) if known.get(remote) != system else None)
                   for local, remote, remote_port in established]
    depends_on = sorted({c.system for c in connections if c.system and c.local_port not in ports})
    last_login, login_note = _last_login(found.get("last-login", ([], None))[0])
    if login_note:
        notes.append(login_note)
    requests = _access_log(found.get("access-log", ([], None))[0])
    newest = max((u.newest_change for u in usages if u.newest_change), default=None)
    zombie = ZombieEvidence(last_login=last_login, newest_change=newest, connections_seen=len(connections),
                            access_log_requests=requests)
    return Assessment(system=system, host=host, assessed_at=assessed_at or _now(), os_release=os_release,
                      cpus=cpus, memory_bytes=memory, disks=disks, paths=usages, listening=listening,
                      connections=connections, depends_on=depends_on, zombie=zombie, notes=notes)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _os_release(lines: list[str]) -> str:
    for line in lines:
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip("\"'")
    return next((line.strip() for line in lines if line.strip() and "=" not in line), "")


def _first_int(lines: list[str]) -> int:
    for line in lines:
        if line.strip().isdigit():
            return int(line.strip())
    return 0


def _memory(lines: list[str]) -> int:
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "MemTotal:" and parts[1].isdigit():
            return int(parts[1]) * (1024 if parts[2:3] in (["kB"], []) else 1)
    return 0


def _disks(lines: list[str]) -> list[Disk]:
    disks: dict[str, Disk] = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 7 or not parts[2].isdigit() or not parts[3].isdigit():
            continue
        fstype, size, used, mount = parts[1], int(parts[2]), int(parts[3]), " ".join(parts[6:])
        pseudo = fstype in _PSEUDO_FS or any(mount == p or mount.startswith(f"{p}/") for p in _PSEUDO_MOUNTS)
        if size and not pseudo:
            disks.setdefault(mount, Disk(mount=mount, size_bytes=size, used_bytes=used))
    return list(disks.values())


def _is_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return True
    return False


def _normal(address: str) -> str:
    """An address as comparable text: brackets and zone removed, IPv4-mapped IPv6 as IPv4, names lower-case."""
    bare = address.strip().strip("[]").split("%")[0]
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        return bare.lower()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _endpoint(text: str) -> tuple[str, int] | None:
    """``[2001:db8::1]:22``, ``127.0.0.1:22``, ``*:22`` -> (address, port)."""
    address, _, port = text.rpartition(":")
    if not port.isdigit() or not address:
        return None
    return _normal(address), int(port)


_PROCESS = re.compile(r'users:\(\("([^"]*)"')


def _listening(lines: list[str]) -> list[Listening]:
    ports: dict[int, str] = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or parts[0] != "LISTEN":
            continue
        local = _endpoint(parts[3])
        if local is None:
            continue
        match = _PROCESS.search(line)
        if not ports.get(local[1]):
            ports[local[1]] = match.group(1) if match else ""
    return [Listening(port=port, process=process) for port, process in sorted(ports.items())]


def _session(lines: list[str]) -> tuple[str, int, int] | None:
    """This session's own connection from ``$SSH_CONNECTION``: (client address, client port, server port)."""
    parts = " ".join(lines).split()
    if len(parts) == 4 and parts[1].isdigit() and parts[3].isdigit():
        return _normal(parts[0]), int(parts[1]), int(parts[3])
    return None


def _established(lines: list[str], session: tuple[str, int, int] | None) -> list[tuple[int, str, int]]:
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or parts[0] != "ESTAB":
            continue
        local, remote = _endpoint(parts[3]), _endpoint(parts[4])
        if local is None or remote is None:
            continue
        if session is not None and (remote[0], remote[1], local[1]) == session:
            continue
        out.append((local[1], remote[0], remote[1]))
    return sorted(set(out))


def _path_usage(path: str, answer: tuple[list[str], int | None]) -> tuple[PathUsage, str | None]:
    lines, status = answer
    text = " ".join(line.strip() for line in lines if line.strip())
    empty = PathUsage(path=path, bytes=0, files=0, newest_change=None)
    if text == "missing":
        return empty, "does not exist on the host"
    parts = text.split()
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return empty, "could not be read (find -printf)"
    newest = _epoch(parts[2]) if len(parts) > 2 else None
    usage = PathUsage(path=path, bytes=int(parts[1]), files=int(parts[0]), newest_change=newest)
    return usage, ("partly unreadable for the source user: the numbers are a lower bound" if status else None)


def _epoch(text: str) -> str | None:
    try:
        return datetime.fromtimestamp(float(text), UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:?\d\d|Z)?")


def _last_login(lines: list[str]) -> tuple[str | None, str | None]:
    """The newest login in wtmp (``last``), in UTC; or None and why."""
    for line in lines:
        match = _ISO.search(line)
        if match:
            stamp = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            return stamp.astimezone(UTC).isoformat(timespec="seconds"), None
    return None, "last login: none recorded (no wtmp, or `last` without --time-format)"


def _access_log(lines: list[str]) -> int | None:
    """Requests counted in the access log, or None when the host has none of the conventional ones."""
    values = [line.strip() for line in lines if line.strip()]
    if len(values) >= 2 and values[1].isdigit():
        return int(values[1])
    return None
