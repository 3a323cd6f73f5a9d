"""A real OpenSSH server on 127.0.0.1 / 127.0.0.2 for the assessment tests, and a small estate pointing at it."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nxgov.audit import AuditLog
from nxgov.lab import sshd

ADDRESSES = ("127.0.0.1", "127.0.0.2")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sshd:
    """An sshd listening on ``port`` of both addresses, for the current user, with a key in ``client_key``."""

    directory: Path
    port: int
    user: str
    client_key: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart, with whatever host key is in the directory) and wait until it answers."""
        self.stop()
        config = self.directory / "sshd_config"
        pid = self.directory / "sshd.pid"
        keys = self.directory / "authorized_keys"
        keys.write_text(Path(f"{self.client_key}.pub").read_text())
        keys.chmod(0o600)
        config.write_text(sshd.config(
            [f"{address}:{self.port}" for address in ADDRESSES], self.directory / "host_key", pid, self.user,
            [f"AuthorizedKeysFile {keys}", "StrictModes no"]))
        self.process = subprocess.Popen([str(sshd.SSHD), "-D", "-e", "-f", str(config)],
                                        stderr=(self.directory / "sshd.log").open("ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((ADDRESSES[0], self.port), timeout=1) as probe:
                    if probe.recv(8).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"sshd did not start: {(self.directory / 'sshd.log').read_text()}")

    def new_host_key(self) -> None:
        for name in ("host_key", "host_key.pub"):
            (self.directory / name).unlink()
        sshd.ensure_key(self.directory / "host_key", "test-host")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def real_sshd(tmp_path: Path) -> Iterator[Sshd]:
    """A real sshd (``/usr/sbin/sshd``, as the lab installs it) in ``tmp_path``; stopped by its PID afterwards."""
    if not sshd.SSHD.exists():
        pytest.skip("openssh-server is not installed (`nxgov lab install` installs it)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    directory = tmp_path / "sshd"
    directory.mkdir()
    sshd.ensure_key(directory / "host_key", "test-host")
    client_key = tmp_path / "client" / "id_ed25519"
    sshd.ensure_key(client_key, "test-client")
    server = Sshd(directory, free_port(), getpass.getuser(), client_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    """The audit log of a test, written by operator 'tester'."""
    return AuditLog(tmp_path / "audit.jsonl", operator="tester")


def estate_yaml(credentials: Path, systems: list[dict[str, str]]) -> str:
    """A small valid estate whose systems have the given ``source`` mappings (flow YAML, by code)."""
    lines = [
        "estate: test",
        "clouds:",
        "  yinchuan: {cloud: nx-yinchuan, role: primary}",
        "cloud_ipv6: 2001:db8:6500::/40",
        "credentials:",
        f"  legacy: {{file: {credentials}}}",
        "departments:",
        "  - {code: nxdrc, name: 发展改革委, quotas: {cores: 8, ram_gb: 16, instances: 4}, networks: [{name: app}]}",
        "systems:",
    ]
    for system in systems:
        lines.append(f"  - code: {system['code']}")
        lines += ["    department: nxdrc", "    level: 2", "    placement: {mode: single, node: yinchuan}"]
        source = system.get("source")
        if source is not None:
            lines.append(f"    source: {source}")
    return "\n".join(lines) + "\n"
