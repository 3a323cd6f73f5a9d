"""What a driver is given: the device to connect to, and how sessions are opened."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.hostkeys import KnownHosts


@dataclass(frozen=True)
class Target:
    """A device to connect to: the estate's name, platform and address, with its resolved login."""

    name: str
    platform: str
    host: str
    port: int
    credentials: Credentials


@dataclass(frozen=True)
class SessionOptions:
    """How sessions are opened: the trusted host keys, the directory of session logs (``<device>.log``,
    secrets removed; None for none), and timeouts in seconds."""

    known_hosts: KnownHosts
    session_logs: Path | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 60.0

    def session_log(self, device: str) -> Path | None:
        """Where ``device``'s sessions are logged (appended to), if anywhere."""
        return self.session_logs / f"{device}.log" if self.session_logs is not None else None
