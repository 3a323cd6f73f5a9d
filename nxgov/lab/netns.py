"""Network namespaces, veths, bridges, addresses and processes for the lab, each recorded in the ledger.

Every namespace, link and process made here is written to the :class:`~nxgov.lab.ledger.Ledger`
before it is created (a process: the moment its PID exists), so ``Ledger.release`` removes exactly
what the lab made. Addresses are refused unless they lie in the documentation ranges, so lab
traffic can only ever go between the lab's own namespaces and the root namespace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nxgov.errors import LabError
from nxgov.lab.ledger import Entry, Ledger, process_alive, remove

PREFIX = "nxl-"
IFNAMSIZ = 15
DOC_RANGES = (
    ipaddress.ip_network("2001:db8::/32"),
    ipaddress.ip_network("198.51.100.0/24"),
)
Progress = Callable[[str], None]
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True)
class ComponentStatus:
    """The state of one lab part: ``state`` is running, degraded or stopped."""

    component: str
    name: str
    state: str
    detail: str = ""


def run(argv: Sequence[str], netns: str | None = None, timeout: float = 30.0) -> str:
    """Run a command (inside ``netns`` when given); return stdout, or raise LabError with its stderr."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    try:
        done = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"lab command failed: {' '.join(full)} ({exc})") from exc
    if done.returncode != 0:
        output = done.stderr.strip() or done.stdout.strip()
        raise LabError(
            f"lab command failed (exit {done.returncode}): {' '.join(full)}: {output}",
            "run 'nxgov lab down' to remove a half-built lab, then try again",
        )
    return done.stdout


def documentation_address(text: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Parse ``address[/len]`` and refuse anything outside 2001:db8::/32 and 198.51.100.0/24.

    192.0.2.0/24 is left out on purpose: the test machines here use it for their own uplink."""
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError as exc:
        raise LabError(f"not an IP address: {text!r}") from exc
    if not any(iface.ip in r and iface.network.prefixlen >= r.prefixlen for r in DOC_RANGES):
        raise LabError(
            f"lab address {text} is outside the documentation ranges",
            "lab addresses must come from 2001:db8::/32 or 198.51.100.0/24",
        )
    return iface


def namespaces() -> set[str]:
    return {line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line.strip()}


def links(netns: str | None = None) -> set[str]:
    out = run(["ip", *(["-n", netns] if netns else []), "-o", "link", "show"])
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def add_netns(ledger: Ledger, component: str, name: str, **info: Any) -> None:
    """Create namespace ``name`` (lo up, no DAD, IPv6 addresses kept when a link goes down)."""
    if len(name) > 32 or not name.startswith(PREFIX):
        raise LabError(f"lab namespace name {name!r} must start with {PREFIX!r} and be at most 32 characters")
    if name in namespaces():
        raise LabError(
            f"network namespace {name} already exists but is not running in this lab",
            f"if nothing else uses it, remove it by hand: ip netns delete {name}",
        )
    ledger.add(Entry("netns", name, component, info=info))
    run(["ip", "netns", "add", name])
    run(["ip", "-n", name, "link", "set", "lo", "up"])
    for key in ("all", "default"):
        sysctl(name, f"net.ipv6.conf.{key}.accept_dad", "0")
        sysctl(name, f"net.ipv6.conf.{key}.keep_addr_on_down", "1")


def sysctl(netns: str, key: str, value: str) -> None:
    run(["sysctl", "-q", "-w", f"{key}={value}"], netns=netns)


def _check_ifname(name: str) -> None:
    if not 0 < len(name) <= IFNAMSIZ:
        raise LabError(f"interface name {name!r} is longer than the kernel's {IFNAMSIZ} characters")


def add_veth(
    ledger: Ledger, component: str, end: tuple[str, str | None], peer: tuple[str, str | None], **info: Any
) -> None:
    """Create a veth pair; each end is (interface name, namespace or None for the root namespace)."""
    (name, netns), (peer_name, peer_netns) = end, peer
    _check_ifname(name)
    _check_ifname(peer_name)
    ledger.add(Entry("link", name, component, netns=netns, info=info))
    run(["ip", *(["-n", netns] if netns else []), "link", "add", name, "type", "veth",
         "peer", "name", peer_name, *(["netns", peer_netns] if peer_netns else [])])


def add_bridge(ledger: Ledger, component: str, name: str, **info: Any) -> None:
    """Create a bridge in the root namespace."""
    _check_ifname(name)
    ledger.add(Entry("link", name, component, info=info))
    run(["ip", "link", "add", name, "type", "bridge"])


def add_address(netns: str | None, dev: str, cidr: str) -> None:
    """Add (or keep) a documentation-range address on ``dev``; IPv6 addresses get ``nodad``.

    In the root namespace the subnet must not overlap a route of any other interface: machines (this
    one included) do use documentation ranges for real uplinks, and the lab must never shadow them.
    """
    iface = documentation_address(cidr)
    if netns is None:
        _check_root_free(iface.network, dev)
    extra = ["nodad"] if iface.version == 6 else []
    run(["ip", *(["-n", netns] if netns else []), "addr", "replace", str(iface), "dev", dev, *extra])


def _check_root_free(network: ipaddress.IPv4Network | ipaddress.IPv6Network, dev: str) -> None:
    for route in json.loads(run(["ip", "-j", f"-{network.version}", "route", "show", "table", "all"]) or "[]"):
        if route.get("dev") == dev:
            continue
        for key in ("dst", "gateway"):
            text = route.get(key, "default")
            if text != "default" and network.overlaps(ipaddress.ip_network(text, strict=False)):
                raise LabError(
                    f"lab subnet {network} overlaps this machine's route {text} on {route.get('dev')}",
                    "choose lab addresses from another documentation range (2001:db8::/32, "
                    "198.51.100.0/24) that this machine does not use",
                )


def set_link(netns: str | None, dev: str, up: bool, master: str | None = None) -> None:
    run(["ip", *(["-n", netns] if netns else []), "link", "set", dev, *(["master", master] if master else []),
         "up" if up else "down"])


def spawn(ledger: Ledger, component: str, name: str, argv: Sequence[str], netns: str | None, log: Path,
          hostname: str | None = None, **info: Any) -> Entry:
    """Start ``argv`` (inside ``netns``, and its own UTS namespace named ``hostname`` when given) in its own
    session, output to ``log``; record its PID at once (``ip netns exec``, ``unshare`` and ``sh`` all exec)."""
    if hostname:
        argv = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, *argv]
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    log.parent.mkdir(parents=True, exist_ok=True)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    try:
        pid = os.posix_spawnp(full[0], full, CLEAN_ENV, file_actions=actions, setsid=True)
    except OSError as exc:
        raise LabError(f"cannot start {name}: {' '.join(full)} ({exc})") from exc
    return ledger.add_process(component, name, pid, netns=netns, **info)


def child_pid(pid: int, timeout: float = 5.0) -> int:
    """The first child of ``pid`` (e.g. what ``unshare --fork`` started), waiting for it to appear."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            children = path.read_text().split()
        except OSError as exc:
            raise LabError(f"process {pid} ended before starting its child") from exc
        if children:
            return int(children[0])
        time.sleep(0.01)
    raise LabError(f"process {pid} started no child within {timeout:.0f} s")


def wait_for(check: Callable[[], bool], timeout: float, what: str, hint: str | None = None) -> float:
    """Poll ``check`` until it is true; return the seconds it took, or raise LabError naming ``what``."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what}", hint)
        time.sleep(0.05)


def alive(entries: Sequence[Entry]) -> bool:
    """True when every process entry in ``entries`` is still the process that was recorded."""
    return all(process_alive(e.pid, e.start_time) for e in entries if e.kind == "process" and e.pid is not None)


def terminate(entries: Sequence[Entry], timeout: float = 10.0) -> None:
    """SIGTERM every recorded process of ``entries`` at once (checked by PID and start time), then wait.

    Stopping them one by one is slow: an orphaned daemon stays a zombie until PID 1 reaps it (~1 s here).
    Whatever is still alive afterwards is left to ``Ledger.release``, which escalates to SIGKILL.
    """
    procs = [e for e in entries if e.kind == "process" and e.pid is not None and process_alive(e.pid, e.start_time)]
    for e in procs:
        with suppress(ProcessLookupError):
            os.kill(e.pid, signal.SIGTERM)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_running(e) for e in procs):
        time.sleep(0.05)


def _running(entry: Entry) -> bool:
    """Alive and not a zombie (a zombie has exited; only its parent's wait is missing)."""
    assert entry.pid is not None
    with suppress(ChildProcessError):
        os.waitpid(entry.pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{entry.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and process_alive(entry.pid, entry.start_time)


def release(ledger: Ledger, entries: Sequence[Entry]) -> list[str]:
    """Remove ``entries`` newest first (like ``Ledger.release`` but for a subset); describe what went."""
    gone: list[str] = []
    for entry in reversed(entries):
        remove(entry)
        ledger.discard(entry)
        gone.append(describe(entry))
    return gone


def describe(entry: Entry) -> str:
    where = f" in {entry.netns}" if entry.netns else ""
    pid = f" (pid {entry.pid})" if entry.pid is not None else ""
    return f"{entry.kind} {entry.name}{pid}{where}"
