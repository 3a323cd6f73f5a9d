"""How nxgov logs in to the servers it creates: the estate's ``server_access``.

``server_access`` names an entry of ``credentials`` (resolved by :mod:`nxgov.network.drivers.credentials`):
its username is the login (root in the lab), its ``ssh_key`` the private key. The public half is derived
from the private key with paramiko (no ``.pub`` file is read) and goes to every node that gets servers as
the Nova keypair ``server_access.keypair`` (desired state kind ``keypair``); every server nxgov creates
boots with it (``key_name``). Errors name the entry and the file, never what the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nxgov.errors import InputError
from nxgov.network.drivers.credentials import Credentials, resolve

if TYPE_CHECKING:
    from nxgov.estate.loader import LoadedEstate
    from nxgov.estate.model import Estate


@dataclass(frozen=True)
class Access:
    """The keypair the servers get: its name and public key (``<type> <base64>``, no comment)."""

    keypair: str
    public_key: str


def server_login(loaded: LoadedEstate) -> Credentials:
    """The login to the servers nxgov creates for ``loaded``: user and private key of ``server_access``.

    InputError when the estate has no ``server_access``, or its credentials give no readable SSH key."""
    return login(loaded.estate)


def login(estate: Estate) -> Credentials:
    """As :func:`server_login`, for an estate model."""
    access = estate.server_access
    if access is None:
        raise InputError(f"estate {estate.estate} declares no server_access, so nxgov has no login to its servers",
                         "add server_access: {credentials: <an entry with username and ssh_key>} to the estate and "
                         "run nxgov cloud apply (servers made without the key are created again with it)")
    ref = estate.credentials.get(access.credentials)
    if ref is None:
        raise InputError(f"server_access names the credentials entry {access.credentials!r}, which the estate does "
                         "not declare", f"declare credentials.{access.credentials}, or fix server_access.credentials")
    credentials = resolve(access.credentials, ref)
    if credentials.ssh_key is None:
        raise InputError(f"credentials entry {access.credentials!r} (server_access) has no SSH key",
                         "add ssh_key: /path/to/private-key to it: the servers' keypair is made from that key")
    return credentials


def access_of(estate: Estate) -> Access | None:
    """The keypair of ``server_access`` (None when the estate has none); reads the private key."""
    if estate.server_access is None:
        return None
    credentials = login(estate)
    return Access(estate.server_access.keypair, public_key(credentials, estate.server_access.credentials))


def public_key(credentials: Credentials, entry: str) -> str:
    """The OpenSSH public key (``ssh-ed25519 AAAA...``) of the private key of ``credentials``."""
    import paramiko
    from cryptography.exceptions import UnsupportedAlgorithm

    path = credentials.ssh_key
    if path is None:
        raise InputError(f"credentials entry {entry!r} has no SSH key", "add ssh_key: /path/to/private-key to it")
    passphrase = credentials.passphrase.encode() if credentials.passphrase else None
    try:
        key = paramiko.PKey.from_path(path, passphrase)  # type: ignore[arg-type]  # bytes, as cryptography wants
    except TypeError:  # cryptography: a passphrase missing for an encrypted key, or given for a plain one
        if passphrase is None:
            raise InputError(f"the SSH key {path} (credentials entry {entry!r}) is encrypted and the entry gives no "
                             "passphrase", "add passphrase: to the credentials file, or use a key without one"
                             ) from None
        raise InputError(f"the SSH key {path} (credentials entry {entry!r}) is not encrypted, yet the entry gives a "
                         "passphrase", "remove passphrase: from the credentials file") from None
    except (paramiko.SSHException, ValueError, OSError, UnsupportedAlgorithm) as error:
        raise InputError(f"the SSH key {path} (credentials entry {entry!r}) cannot be read as a private key "
                         f"({type(error).__name__})", "point ssh_key at an OpenSSH or PEM private key file (RSA, "
                         "ECDSA or Ed25519), e.g. one made with ssh-keygen, and check its passphrase") from None
    return f"{key.get_name()} {key.get_base64()}"


def normalise(public: str) -> str:
    """A public key line without its comment (Nova keeps the line as given): ``<type> <base64>``."""
    return " ".join(public.split()[:2])
