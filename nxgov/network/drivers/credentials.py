"""Resolve an estate credentials entry (a :class:`CredentialRef`) into the login it refers to.

A reference is a YAML file readable by its owner only (``username`` plus ``password`` and/or
``ssh_key``, optionally ``passphrase``), or environment variables ``<PREFIX>_USER`` and
``<PREFIX>_PASSWORD``; the reference's own ``username`` and ``ssh_key`` fill what the source lacks.
The resolved :class:`Credentials` never shows a secret in its repr, and lists its secrets so logs and
the audit trail can redact them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nxgov.errors import InputError
from nxgov.estate.model import CredentialRef

FILE_KEYS = ("username", "password", "ssh_key", "passphrase")


@dataclass(frozen=True)
class Credentials:
    """A login: a username with a password, a private key file, or both."""

    username: str
    password: str | None = field(default=None, repr=False)
    ssh_key: Path | None = None
    passphrase: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret strings, to be removed from session logs and audit records."""
        return tuple(secret for secret in (self.password, self.passphrase) if secret)


def resolve(name: str, ref: CredentialRef, environ: Mapping[str, str] | None = None) -> Credentials:
    """The login the estate's credentials entry ``name`` refers to (InputError naming what is wrong)."""
    values: dict[str, str] = {}
    if ref.file is not None:
        values = _read_file(name, Path(ref.file).expanduser())
    elif ref.env is not None:
        values = _read_env(name, ref.env, os.environ if environ is None else environ)
    username = values.get("username") or ref.username
    key = values.get("ssh_key") or ref.ssh_key
    if not username:
        raise InputError(f"credentials entry {name!r} has no username",
                         "add 'username' to the file, set the _USER variable, or set username: in the estate")
    if not values.get("password") and not key:
        raise InputError(f"credentials entry {name!r} has neither a password nor an SSH key",
                         "add 'password' or 'ssh_key' (the path of a private key file)")
    key_path = Path(key).expanduser() if key else None
    if key_path is not None:
        _check_private(name, key_path, "SSH key")
    return Credentials(username, values.get("password"), key_path, values.get("passphrase"))


def _read_file(name: str, path: Path) -> dict[str, str]:
    _check_private(name, path, "credentials file")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"cannot read the credentials file {path} (entry {name!r}): {error}") from error
    if not isinstance(data, dict):
        raise InputError(f"the credentials file {path} (entry {name!r}) must be a mapping",
                         "e.g. username: netops, password: ... (or ssh_key: /path/to/key)")
    unknown = sorted(str(key) for key in data if key not in FILE_KEYS)
    if unknown:
        raise InputError(f"the credentials file {path} (entry {name!r}) has unknown keys: {', '.join(unknown)}",
                         f"the keys are {', '.join(FILE_KEYS)}")
    return {str(key): str(value) for key, value in data.items() if value is not None}


def _read_env(name: str, prefix: str, environ: Mapping[str, str]) -> dict[str, str]:
    user, password = f"{prefix}_USER", f"{prefix}_PASSWORD"
    values = {key: environ[var] for key, var in (("username", user), ("password", password)) if environ.get(var)}
    if "password" not in values:
        raise InputError(f"credentials entry {name!r}: the environment variable {password} is not set",
                         f"export {user} and {password} before running nxgov")
    return values


def _check_private(name: str, path: Path, what: str) -> None:
    """The file must exist and be readable by its owner only."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise InputError(f"cannot read the {what} {path} (credentials entry {name!r}): {error.strerror}",
                         "check the path in the estate's credentials entry") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"the {what} {path} (credentials entry {name!r}) is readable by group or others "
                         f"(mode {stat.S_IMODE(mode):04o})", f"chmod 600 {path}")
