"""SSH host keys: trusted on first use, then strict.

nxgov keeps its own ``known_hosts`` (OpenSSH format, entries ``[host]:port``, so ``ssh-keygen -F`` and
``ssh-keygen -R`` work on it). The first connection to an address records the key it offers; every
later connection must offer that key, or it is refused before the password is sent, naming both
fingerprints. The file is appended to under a lock, so many concurrent sessions share it safely.

Device sessions check keys with netmiko's own options (:meth:`KnownHosts.netmiko_options`: ``ssh_strict`` with
this file as ``alt_key_file``). Those cannot trust on first use the way nxgov must: netmiko's non-strict mode
(paramiko's AutoAddPolicy) rewrites the whole file from one session's keys, unlocked and unreported. So before
the first session to an address, :meth:`KnownHosts.first_use` reads the key it offers
(:mod:`~nxgov.network.drivers.keyscan`: a key exchange, no login) and records it here; the session then checks it
strictly. A file that is not the user's own, or that group or others can write to, is refused: whoever can write
it decides which devices are trusted. Every key trusted on first use is reported
(:attr:`KnownHosts.trusted_on_first_use`, and the ``on_trust`` callback, for the audit log).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from nxgov.errors import InputError
from nxgov.network.drivers.errors import HostKeyChangedError
from nxgov.network.drivers.keyscan import offered_key


def fingerprint(key: paramiko.PKey) -> str:
    """The OpenSSH SHA256 fingerprint, e.g. ``SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8``."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def address(host: str, port: int) -> str:
    """How known_hosts names an endpoint."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True)
class TrustedKey:
    """A host key trusted on first use: the device, the address it answered at, the key and where it was recorded."""

    device: str
    address: str
    key_type: str
    fingerprint: str
    known_hosts: str


class KnownHosts:
    """The trusted host keys in ``path`` (created 0600 on the first key learnt). ``on_trust`` is called with each key
    trusted on first use, from the session's thread, once the key is recorded."""

    def __init__(self, path: Path, on_trust: Callable[[TrustedKey], None] | None = None) -> None:
        self.path = path
        self.on_trust = on_trust
        self.trusted_on_first_use: list[TrustedKey] = []
        self._lock = threading.Lock()
        self._keys = paramiko.HostKeys()
        try:
            info = path.stat()
        except FileNotFoundError:
            return
        except OSError as error:
            raise InputError(f"cannot read the known hosts file {path}: {error.strerror}",
                             "check its permissions, or choose another file with NXGOV_KNOWN_HOSTS") from None
        _check_own(path, info)
        try:
            self._keys.load(str(path))
        except (OSError, paramiko.SSHException) as error:
            raise InputError(f"cannot read the known hosts file {path}: {error}",
                             "fix or move the file aside (every device will then be trusted anew)") from error

    def netmiko_options(self) -> dict[str, Any]:
        """netmiko's host-key options that hold a session to the keys in this file: an unknown key is refused,
        a different one raises paramiko's BadHostKeyException; the user's own ``~/.ssh/known_hosts`` is not read."""
        return {"ssh_strict": True, "system_host_keys": False, "alt_host_keys": True, "alt_key_file": str(self.path)}

    def first_use(self, device: str, host: str, port: int, timeout: float) -> None:
        """Before a session to ``host:port`` (reached as ``device``): when no key is trusted for it yet, trust the one
        it offers now and report it (OSError or paramiko.SSHException when nothing answers there)."""
        name = address(host, port)
        if not self.trusted(name):
            self.learn(name, offered_key(host, port, timeout), device)

    def client(self, device: str) -> paramiko.SSHClient:
        """A paramiko client for ``device`` that trusts only the key recorded for the address it connects to."""
        return _Client(self, device)

    def trusted(self, hostname: str) -> dict[str, paramiko.PKey]:
        """The keys trusted for ``hostname`` by type (empty when none is recorded yet)."""
        with self._lock:
            known = self._keys.lookup(hostname)
            return dict(known.items()) if known is not None else {}

    def learn(self, hostname: str, key: paramiko.PKey, device: str = "") -> None:
        """Trust ``key`` for ``hostname`` (reached as ``device``) from now on (first use), unless a key was recorded
        for it meanwhile; report it."""
        with self._lock:
            if self._keys.lookup(hostname) is not None:
                return
            self._learn(hostname, key)
            trusted = TrustedKey(device, hostname, key.get_name(), fingerprint(key), str(self.path))
            self.trusted_on_first_use.append(trusted)
        if self.on_trust is not None:
            self.on_trust(trusted)

    def _learn(self, hostname: str, key: paramiko.PKey) -> None:
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "a") as handle:
                _check_own(self.path, os.fstat(fd))
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line)
        except OSError as error:
            raise InputError(f"cannot record the host key of {hostname} in {self.path}: {error.strerror}",
                             "make the directory writable, or choose another known hosts file") from error
        self._keys.add(hostname, key.get_name(), key)


def _check_own(path: Path, info: os.stat_result) -> None:
    """Refuse a known hosts file someone else could have written a key into."""
    elsewhere = "or choose another file with NXGOV_KNOWN_HOSTS"
    if info.st_uid != os.geteuid():
        raise InputError(f"the known hosts file {path} is owned by uid {info.st_uid}, not by you (uid {os.geteuid()})",
                         f"check the keys in it, then chown $(id -u) {path} (as its owner or root), {elsewhere}")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(f"the known hosts file {path} is writable by group or others "
                         f"(mode {stat.S_IMODE(info.st_mode):04o})",
                         f"check the keys in it, then chmod 600 {path}, {elsewhere}")


class _Client(paramiko.SSHClient):
    """An SSH client whose host keys are the device's trusted ones: unknown means learn, different means refuse.

    Preloading the trusted key makes paramiko ask the server for that key type, so a device offering
    several types is compared like for like.
    """

    def __init__(self, known: KnownHosts, device: str) -> None:
        super().__init__()
        self.known = known
        self.device = device
        self.set_missing_host_key_policy(_TrustOnFirstUse(known, device))

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

    def __init__(self, known: KnownHosts, device: str) -> None:
        self.known = known
        self.device = device

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        self.known.learn(hostname, key, self.device)
