"""What the simulator hosts: one typed :class:`DeviceSpec` per device, loaded from a 0600 JSON file.

The file is ``{"host_key": "<optional path>", "devices": [{name, platform, port, username, password,
host?, ports?, dataplane?}, ...]}``. ``ports`` lists the device's physical interfaces; a trailing ``a-b`` on a
name is a range (``GigabitEthernet0/0/0-7``). Passwords never appear in a repr or a log line.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from nxgov.errors import LabError

Platform = Literal["huawei_vrp", "h3c_comware"]
PLATFORMS: tuple[Platform, ...] = ("huawei_vrp", "h3c_comware")
LOOPBACK_HOSTS = ("127.0.0.1", "::1")
DEFAULT_PORTS: dict[Platform, tuple[str, ...]] = {
    "huawei_vrp": ("GigabitEthernet0/0/0-7",),
    "h3c_comware": ("GigabitEthernet1/0/1-8",),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RANGE = re.compile(r"^(?P<stem>.*?)(?P<first>\d+)-(?P<last>\d+)$")


@dataclass(frozen=True)
class DataplaneSpec:
    """Where a device's data plane (FRR) runs: its namespace, the directory of its daemons' vty sockets, and
    which Linux interface each vendor port is (``links``: (vendor name, Linux name) pairs)."""

    netns: str
    vty_dir: str
    links: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DeviceSpec:
    """One simulated router: its sysname, CLI flavour, SSH endpoint, login, physical ports and data plane (None:
    the device only keeps its configuration)."""

    name: str
    platform: Platform
    port: int
    username: str
    password: str = field(repr=False)
    host: str = "127.0.0.1"
    ports: tuple[str, ...] = ()
    dataplane: DataplaneSpec | None = None

    def physical_ports(self) -> tuple[str, ...]:
        """The physical interface names, ranges expanded (the platform's default when none given)."""
        return expand(self.ports or DEFAULT_PORTS[self.platform])


def expand(ports: tuple[str, ...]) -> tuple[str, ...]:
    """Interface names with ranges expanded (``GigabitEthernet0/0/0-7`` is eight names)."""
    names: list[str] = []
    for item in ports:
        match = _RANGE.match(item)
        if match is None:
            names.append(item)
            continue
        first, last = int(match["first"]), int(match["last"])
        names.extend(f"{match['stem']}{n}" for n in range(first, last + 1))
    return tuple(names)


@dataclass(frozen=True)
class SimSpec:
    """Everything one simulator process serves."""

    devices: tuple[DeviceSpec, ...]
    host_key: Path | None = None


def load_spec(path: Path) -> SimSpec:
    """Read and validate a spec file; it must be readable by its owner only (mode 0600)."""
    try:
        mode = path.stat().st_mode
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise LabError(f"cannot read the netsim spec {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise LabError(f"the netsim spec {path} is readable by others", f"chmod 600 {path}: it holds passwords")
    if not isinstance(raw, dict) or not isinstance(raw.get("devices"), list):
        raise LabError(f"the netsim spec {path} must be an object with a 'devices' list")
    devices = tuple(_device(item, path) for item in raw["devices"])
    _check_unique(devices, path)
    host_key = raw.get("host_key")
    return SimSpec(devices, Path(host_key) if isinstance(host_key, str) else None)


def write_spec(path: Path, spec: SimSpec) -> None:
    """Write ``spec`` as JSON, created with mode 0600 (it holds passwords)."""
    data: dict[str, Any] = {"devices": [asdict(d) for d in spec.devices]}
    if spec.host_key is not None:
        data["host_key"] = str(spec.host_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)
    path.chmod(0o600)


def _device(item: object, path: Path) -> DeviceSpec:
    if not isinstance(item, dict):
        raise LabError(f"{path}: each device must be an object, got {item!r}")
    try:
        spec = DeviceSpec(
            name=str(item["name"]),
            platform=cast(Platform, item["platform"]),
            port=int(item["port"]),
            username=str(item["username"]),
            password=str(item["password"]),
            host=str(item.get("host", "127.0.0.1")),
            ports=tuple(str(p) for p in item.get("ports", ())),
            dataplane=_dataplane(item.get("dataplane")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LabError(f"{path}: device {item.get('name', '?')!r} lacks or mistypes {exc}") from exc
    problems = []
    if not _NAME.match(spec.name):
        problems.append("name must be 1-64 letters, digits, '_', '.' or '-'")
    if spec.platform not in PLATFORMS:
        problems.append(f"platform must be one of {', '.join(PLATFORMS)}")
    if spec.host not in LOOPBACK_HOSTS:
        problems.append("host must be 127.0.0.1 or ::1: the simulator never listens elsewhere")
    if not 1 <= spec.port <= 65535:
        problems.append("port must be 1-65535")
    if problems:
        raise LabError(f"{path}: device {spec.name!r}: {'; '.join(problems)}")
    return spec


def _dataplane(raw: Any) -> DataplaneSpec | None:
    if raw is None:
        return None
    return DataplaneSpec(str(raw["netns"]), str(raw["vty_dir"]), tuple((str(a), str(b)) for a, b in raw["links"]))


def _check_unique(devices: tuple[DeviceSpec, ...], path: Path) -> None:
    names = [d.name for d in devices]
    ports = [(d.host, d.port) for d in devices]
    if len(set(names)) != len(names) or len(set(ports)) != len(ports):
        raise LabError(f"{path}: device names and (host, port) pairs must be unique")


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now (for simulator specs in tests and benchmarks)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()
