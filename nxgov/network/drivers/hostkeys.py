"""SSH host keys: trusted on first use, then strict.

nxgov keeps its own ``known_hosts`` (OpenSSH format, entries ``[host]:port``, so ``ssh-keygen -F`` and
``ssh-keygen -R`` work on it). The first connection to an address records the key it offers; every
later connection must offer that key, or it is refused before the password is sent, naming both
fingerprints. The file is read once per :class:`KnownHosts` and appended to under a lock, so many
concurrent sessions share it safely.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import paramiko

from nxgov.errors import InputError
from nxgov.network.drivers.errors import HostKeyChangedError


def fingerprint(key: paramiko.PKey) -> str:
    """The OpenSSH SHA256 fingerprint, e.g. ``SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8``."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def address(host: str, port: int) -> str:
    """How known_hosts names an endpoint."""
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """The trusted host keys in ``path`` (created 0600 on the first key learnt)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys = paramiko.HostKeys()
        try:
            if path.exists():
                self._keys.load(str(path))
        except (OSError, paramiko.SSHException) as error:
            raise InputError(f"cannot read the known hosts file {path}: {error}",
                             "fix or move the file aside (every device will then be trusted anew)") from error

    def client(self, device: str) -> paramiko.SSHClient:
        """A paramiko client for ``device`` that trusts only the key recorded for the address it connects to."""
        return _Client(self, device)

    def trusted(self, hostname: str) -> dict[str, paramiko.PKey]:
        """The keys trusted for ``hostname`` by type (empty when none is recorded yet)."""
        with self._lock:
            known = self._keys.lookup(hostname)
            return dict(known.items()) if known is not None else {}

    def learn(self, hostname: str, key: paramiko.PKey) -> None:
        """Trust ``key`` for ``hostname`` from now on (first use), unless a key was recorded for it meanwhile."""
        with self._lock:
            if self._keys.lookup(hostname) is None:
                self._learn(hostname, key)

    def _learn(self, hostname: str, key: paramiko.PKey) -> None:
        self._keys.add(hostname, key.get_name(), key)
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line)
        except OSError as error:
            raise InputError(f"cannot record the host key of {hostname} in {self.path}: {error.strerror}",
                             "make the directory writable, or choose another known hosts file") from error


class _Client(paramiko.SSHClient):
    """An SSH client whose host keys are the device's trusted ones: unknown means learn, different means refuse.

    Preloading the trusted key makes paramiko ask the server for that key type, so a device offering
    several types is compared like for like.
    """

    def __init__(self, known: KnownHosts, device: str) -> None:
        super().__init__()
        self.known = known
        self.device = device
        self.set_missing_host_key_policy(_TrustOnFirstUse(known))

    def connect(self, hostname: str, port: int = 22, *args: Any, **kwargs: Any) -> None:
        name = address(hostname, port)
        for key_type, key in self.known.trusted(name).items():
            self.get_host_keys().add(name, key_type, key)
        try:
            super().connect(hostname, port, *args, **kwargs)
        except paramiko.BadHostKeyException as error:
            raise HostKeyChangedError(self.device, name, fingerprint(error.expected_key), fingerprint(error.key),
                                      str(self.known.path)) from None


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Called by paramiko when no key is trusted for the address yet."""

    def __init__(self, known: KnownHosts) -> None:
        self.known = known

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        self.known.learn(hostname, key)
