"""Helpers for the namespace lab tests (routers, legacy hosts): lab dirs, polling, leftover checks."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nxgov.lab.ledger import Entry, process_alive

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the namespace lab needs root")
# These tests build their own routers and hosts under the lab's fixed names (nxl-mgmt, nxl-hosts, ...).
# With the operator's lab (or the session lab) already up they would collide with it, and they must never
# take it down: then they are skipped. In CI they run first, before the session lab is requested.


def _names_free(*links: str) -> pytest.MarkDecorator:
    up = [name for name in links if Path(f"/sys/class/net/{name}").exists()]
    return pytest.mark.skipif(bool(up), reason=f"the lab's {', '.join(up)} is up (nxgov lab down to run these)")


def own_lab(test: Callable[..., None]) -> Callable[..., None]:
    """For tests that build their own namespace lab: root, and the lab's fixed names free."""
    marked: Callable[..., None] = needs_root(_names_free("nxl-mgmt", "nxl-hosts")(test))
    return marked


def own_extranet(test: Callable[..., None]) -> Callable[..., None]:
    """For tests that build their own routers: root, and the extranet's names free (the bridge goes first
    and last, so it stands for every router namespace)."""
    marked: Callable[..., None] = needs_root(_names_free("nxl-mgmt")(test))
    return marked


def make_lab_dir() -> Path:
    """A fresh lab dir under /tmp, searchable by the frr user (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="nxl-test-", dir="/tmp"))
    path.chmod(0o755)
    return path


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; return the seconds it took or fail the test."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - start


def _quiet(argv: list[str]) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def leftovers(entries: list[Entry]) -> list[str]:
    """What of ``entries`` (ledger entries taken before teardown) still exists on the machine."""
    netns = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split())
    mounts = Path("/proc/self/mounts").read_text()
    left = []
    for e in entries:
        if e.kind == "process" and e.pid is not None and process_alive(e.pid, e.start_time):
            left.append(f"process {e.name} pid {e.pid}")
        elif e.kind == "netns" and e.name in netns:
            left.append(f"netns {e.name}")
        elif e.kind == "link" and (e.netns is None or e.netns in netns) and _quiet(
                ["ip", *(["-n", e.netns] if e.netns else []), "link", "show", "dev", e.name]):
            left.append(f"link {e.name}")
        elif e.kind == "mount" and f" {e.name} " in mounts:
            left.append(f"mount {e.name}")
    return left


def mount_namespace(pid: int) -> str:
    """The mount namespace of process ``pid`` (e.g. ``mnt:[4026532301]``)."""
    return os.readlink(f"/proc/{pid}/ns/mnt")


def processes_in_mount_namespaces(names: set[str]) -> list[int]:
    """The processes on the machine in any of the mount namespaces ``names`` (none: those namespaces, and every
    mount only they had, such as a private root, are gone)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(proc / "ns" / "mnt") in names:
                found.append(int(proc.name))
        except OSError:
            continue
    return found
