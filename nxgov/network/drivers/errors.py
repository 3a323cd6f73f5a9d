"""What can go wrong with a device, as typed errors that name the device and say what to do.

Every class is an :class:`~nxgov.errors.OperationError` (exit code 1) carrying the device's name in
``device``, so a caller can tell the faults apart without parsing messages.
"""

from __future__ import annotations

from nxgov.errors import OperationError


class DeviceError(OperationError):
    """A device operation failed; ``device`` names the device."""

    def __init__(self, device: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{device}: {message}", hint)
        self.device = device


class UnreachableError(DeviceError):
    """No SSH session could be opened: connection refused, timed out, or no route."""


class AuthenticationError(DeviceError):
    """The device refused the login."""


class HostKeyChangedError(DeviceError):
    """The device presented a host key other than the one trusted on first use."""

    def __init__(self, device: str, address: str, known: str, offered: str, known_hosts: str) -> None:
        super().__init__(
            device,
            f"the SSH host key of {address} has changed: trusted {known}, offered {offered}; refusing to connect",
            f"if the device was replaced or re-keyed, confirm {offered} on its console, then remove the old key: "
            f"ssh-keygen -R '{address}' -f {known_hosts}",
        )
        self.known = known
        self.offered = offered


class CommandRejectedError(DeviceError):
    """The device rejected a configuration line; the change was rolled back."""

    def __init__(self, device: str, line: str, view: str, reply: str) -> None:
        where = f" (in {view})" if view else ""
        super().__init__(
            device,
            f"the device rejected {line!r}{where}: {reply}; the change was rolled back and the running "
            "configuration is as it was before",
            "fix the candidate (or the intent it was rendered from) and push again",
        )
        self.line = line
        self.view = view
        self.reply = reply


class SessionDroppedError(DeviceError):
    """The session ended mid-change. ``rolled_back`` says whether the device was restored on reconnect."""

    def __init__(self, device: str, last_applied: str | None, cause: str, rolled_back: bool) -> None:
        applied = f"after {last_applied!r}" if last_applied else "before any line was applied"
        if rolled_back:
            message = (f"the session dropped {applied} ({cause}); reconnected and rolled back: the running "
                       "configuration is as it was before")
            hint = "check the link to the device, then push again"
        else:
            message = (f"the session dropped {applied} ({cause}) and the device could not be reached again to "
                       "roll back: it NEEDS ATTENTION (recorded in the state store)")
            hint = "when the device is reachable, compare it with `nxgov net push --dry-run` and push again"
        super().__init__(device, message, hint)
        self.last_applied = last_applied
        self.cause = cause
        self.rolled_back = rolled_back


class RollbackError(DeviceError):
    """A rollback did not bring the running configuration back to what it was: the device needs attention."""

    def __init__(self, device: str, reason: str, remaining: list[str]) -> None:
        left = f"; still different: {', '.join(repr(line) for line in remaining[:5])}" if remaining else ""
        super().__init__(
            device,
            f"{reason}, and the rollback did not restore the previous configuration{left}: it NEEDS ATTENTION "
            "(recorded in the state store)",
            "compare the device with its last archived configuration (`nxgov net history DEVICE`) and fix it by hand",
        )
        self.reason = reason
        self.remaining = remaining
