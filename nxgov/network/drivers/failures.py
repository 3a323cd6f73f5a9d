"""Mapping what netmiko and paramiko raise onto nxgov's typed device errors, with one-line reasons."""

from __future__ import annotations

import socket

import paramiko
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadException

from nxgov.network.drivers.errors import AuthenticationError, DeviceError, HostKeyChangedError, UnreachableError
from nxgov.network.drivers.hostkeys import address, fingerprint
from nxgov.network.drivers.target import Target

DROPPED = (OSError, EOFError, paramiko.SSHException, ReadException)
"""What a session that died (or stopped answering) raises from netmiko and paramiko."""


def login_error(target: Target, known_hosts: str, error: BaseException) -> BaseException:
    """The typed error for a failed login (``error`` itself when it is none of the known kinds)."""
    name, where = target.name, f"{target.host} port {target.port}"
    changed = _bad_host_key(error)
    if changed is not None:
        return HostKeyChangedError(name, address(target.host, target.port), fingerprint(changed.expected_key),
                                   fingerprint(changed.key), known_hosts)
    if isinstance(error, DeviceError):
        return error
    if isinstance(error, NetmikoAuthenticationException | paramiko.AuthenticationException):
        return AuthenticationError(name, f"{where} refused the login as {target.credentials.username!r}",
                                   "check the device's credentials entry in the estate (file or environment)")
    if isinstance(error, NetmikoTimeoutException | OSError | EOFError | paramiko.SSHException | ReadException):
        return UnreachableError(name, f"cannot reach {where}: {describe(error)}",
                                "check that the device is up and that its host and port in the estate are right")
    return error


def lost_while_reading(device: str, error: BaseException) -> UnreachableError:
    return UnreachableError(device, f"the session was lost while reading the configuration ({describe(error)}); "
                            "nothing was changed", "check the link to the device and retry")


def lost_during(device: str, command: str, error: BaseException) -> UnreachableError:
    return UnreachableError(device, f"the session was lost during {command!r} ({describe(error)})",
                            "check the link to the device and retry")


def describe(error: BaseException) -> str:
    """A one-line reason for a transport failure (netmiko's own messages are pages long), or nxgov's own message."""
    if isinstance(error, DeviceError):
        return error.message.removeprefix(f"{error.device}: ")
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "TCP connection failed (refused)"
    if isinstance(error, NetmikoTimeoutException):
        text = str(error)
        if "TCP connection to device failed" in text:
            return "TCP connection failed (refused)" if isinstance(error.__context__, ConnectionRefusedError) \
                else "TCP connection failed (refused or timed out)"
        return " ".join(text.split())[:200]
    if isinstance(error, ReadException):
        return "the device stopped answering"
    if isinstance(error, EOFError):
        return "the connection was closed"
    return " ".join(str(error).split())[:200] or type(error).__name__


def _bad_host_key(error: BaseException | None) -> paramiko.BadHostKeyException | None:
    """The host-key mismatch behind ``error`` (netmiko raises its own timeout error while handling paramiko's)."""
    while error is not None:
        if isinstance(error, paramiko.BadHostKeyException):
            return error
        error = error.__cause__ or error.__context__
    return None
