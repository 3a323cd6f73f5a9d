"""Logging in to a migration's hosts over SSH (paramiko): the legacy host and the target servers.

One :func:`connect` for assessment and for the lifecycle verbs' preflight, so both fail the same way: a refused
login names the user and what it used (:class:`AuthenticationError`), an unreachable host says why
(:class:`UnreachableError`), and host keys are trusted on first use then strict (nxgov's ``known_hosts``,
:class:`~nxgov.network.drivers.hostkeys.KnownHosts`: a changed key is refused naming both fingerprints).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

import paramiko

from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.errors import AuthenticationError, UnreachableError
from nxgov.network.drivers.hostkeys import KnownHosts

CONNECT_TIMEOUT_S = 10.0
PYTHONS = ("python3.13", "python3.12", "python3.11", "python3.10", "python3.9", "python3.8", "/usr/bin/python3",
           "python3")
"""Where Ansible's interpreter discovery looks, in its order (ansible-core's INTERPRETER_PYTHON_FALLBACK)."""
_FIND_PYTHON = ("for p in " + " ".join(PYTHONS) + '; do q=$(command -v "$p") && "$q" -c "" 2>/dev/null '
                '&& echo "$q" && exit 0; done; exit 1')


@dataclass(frozen=True)
class Login:
    """How nxgov logs in to one host: ``what`` names it for the operator (e.g. "the legacy host"), ``using`` says
    which secret ("credentials entry 'legacy-ssh'"), ``fix`` what to check when the login is refused and
    ``reach_fix`` when the host cannot be reached."""

    what: str
    host: str
    port: int
    user: str
    credentials: Credentials | None
    using: str
    fix: str
    reach_fix: str

    @property
    def where(self) -> str:
        return f"{self.host} port {self.port}"


def connect(client: paramiko.SSHClient, system: str, login: Login) -> None:
    """Open ``client``'s session as ``login`` (the operator's SSH agent and ~/.ssh keys without credentials)."""
    creds = login.credentials
    try:
        client.connect(
            login.host, login.port, username=login.user,
            password=creds.password if creds else None,
            key_filename=str(creds.ssh_key) if creds and creds.ssh_key else None,
            passphrase=creds.passphrase if creds else None,
            allow_agent=creds is None, look_for_keys=creds is None,
            timeout=CONNECT_TIMEOUT_S, auth_timeout=CONNECT_TIMEOUT_S, banner_timeout=CONNECT_TIMEOUT_S,
        )
    except paramiko.AuthenticationException as error:
        raise AuthenticationError(system, f"{login.what} {login.where} refused the login as {login.user!r} "
                                  f"(using {login.using})", login.fix) from error
    except (OSError, EOFError, paramiko.SSHException) as error:
        raise UnreachableError(system, f"cannot reach {login.what} {login.where}: {describe(error)}",
                               login.reach_fix) from error


def check(known_hosts: KnownHosts, system: str, login: Login) -> str | None:
    """Log in once and out again: the host key is trusted (or checked) and the login works, before a playbook runs.
    Returns the Python interpreter for Ansible there (:func:`python`; None when none is found: Ansible's own
    discovery then says what is missing)."""
    client = known_hosts.client(system)
    try:
        connect(client, system, login)
        return python(client)
    finally:
        client.close()


def python(client: paramiko.SSHClient) -> str | None:
    """The first of :data:`PYTHONS` that runs on the host of ``client``'s session, as a path (a name that is
    there but does not run, such as a version manager's shim for a version not installed, is passed over)."""
    try:
        _, out, _ = client.exec_command(_FIND_PYTHON, timeout=CONNECT_TIMEOUT_S)
        found = out.read().decode(errors="replace").strip()
        done = out.channel.recv_exit_status()
    except (OSError, paramiko.SSHException):
        return None
    first = (found.splitlines() or [""])[0]
    return first if done == 0 and first.startswith("/") else None


def describe(error: BaseException) -> str:
    """A connection error in a few words."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        codes = {getattr(e, "errno", None) for e in error.errors.values()}
        return "connection refused" if codes <= {errno.ECONNREFUSED} else str(error)
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, EOFError):
        return "the connection was closed"
    return " ".join(str(error).split())[:200] or type(error).__name__
