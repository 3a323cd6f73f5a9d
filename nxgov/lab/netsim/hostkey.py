"""The simulator's SSH host key: generated once (Ed25519, mode 0600), then reused across restarts."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from nxgov.errors import LabError


def load_or_create(path: Path) -> paramiko.PKey:
    """The private key at ``path`` (any type paramiko reads), created as Ed25519 when missing."""
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    try:
        return paramiko.PKey.from_path(path)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise LabError(f"cannot load the simulator host key {path}: {exc}", "delete it to have a new one made") from exc
