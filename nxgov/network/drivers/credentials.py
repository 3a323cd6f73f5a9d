"""Resolve an estate credentials entry (a :class:`CredentialRef`) into the login it refers to.

A reference is a YAML file readable by its owner only (``username`` plus ``password`` and/or
``ssh_key``, optionally ``passphrase``), or environment variables ``<PREFIX>_USER`` and
``<PREFIX>_PASSWORD``; the reference's own ``username`` and ``ssh_key`` fill what the source lacks.
The resolved :class:`Credentials` never shows a secret in its repr, and lists its secrets so logs and
the audit trail can redact them.
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
    """The file's keys and values, read as the estate's files are (no tags, merge keys, alias bombs, deep nesting).

    No error says anything of the file's content (it holds secrets): only where.
    """
    from nxgov.estate.source import read_plain_yaml

    _check_private(name, path, "credentials file")
    what = f"the credentials file {path} (entry {name!r})"
    read = read_plain_yaml(path)
    if read.problems:
        first = read.problems[0]
        where = f" at line {first.line}" + (f", column {first.column}" if first.column else "") if first.line else ""
        raise InputError(f"{what} is not plain YAML data{where}",
                         "write plain `key: value` lines in UTF-8 (no tags, anchors, merge keys or nesting), and check "
                         "quotes there; its content is never shown, as it holds secrets")
    if not isinstance(read.data, dict) or read.marks is None:
        raise InputError(f"{what} must be a mapping",
                         "e.g. username: netops, password: ... (or ssh_key: /path/to/key)")
    marks = read.marks
    unknown = [_unknown_key(key, marks[(key,)].line) for key in read.data if key not in FILE_KEYS]
    if unknown:
        raise InputError(f"{what} has {'an unknown key' if len(unknown) == 1 else 'unknown keys'} at "
                         f"{', '.join(unknown)}", f"the keys are {', '.join(FILE_KEYS)}")
    nested = [marks[(key,)].line for key, value in read.data.items() if isinstance(value, list | dict)]
    if nested:
        raise InputError(f"{what} has a list or mapping as the value at line {nested[0]}",
                         "each key takes one text value")
    return {key: str(value) for key, value in read.data.items() if value is not None}


def _unknown_key(key: str, line: int) -> str:
    """Where an unknown key is, and the key it may be a typo of (the key itself is not shown: it may be a secret)."""
    close = difflib.get_close_matches(key, FILE_KEYS, n=1)
    return f"line {line}" + (f" (did you mean {close[0]!r}?)" if close else "")


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
