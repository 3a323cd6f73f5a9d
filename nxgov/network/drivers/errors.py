"""What can go wrong with a device, as typed errors that name the device and say what to do.

Every class is an :class:`~nxgov.errors.OperationError` (exit code 1) carrying the device's name in
``device``, so a caller can tell the faults apart without parsing messages.
"""

from __future__ import annotations

from typing import Literal

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


Recovery = Literal["rolled back", "not reconnected", "rollback failed", "dropped in rollback"]
"""What happened after a session dropped mid-change: reconnected and rolled back; no new session could be opened;
reconnected, but the rollback failed; or the session dropped while rolling back an error (no reconnect tried)."""

_ATTENTION = "it NEEDS ATTENTION (recorded in the state store)"
_COMPARE = "compare it with its last archived configuration (`nxgov net history DEVICE`) or `nxgov net push --dry-run`"


class SessionDroppedError(DeviceError):
    """The session ended mid-change; ``recovery`` says what happened then, ``detail`` why the recovery failed (for
    ``dropped in rollback``: why the rollback was needed). ``rolled_back``: whether the device was restored."""

    def __init__(self, device: str, last_applied: str | None, cause: str, recovery: Recovery,
                 detail: str = "") -> None:
        dropped = f"the session dropped {f'after {last_applied!r}' if last_applied else 'before any line was applied'}"
        if recovery == "rolled back":
            message = f"{dropped} ({cause}); reconnected and rolled back: the running configuration is as it was before"
            hint = "check the link to the device, then push again"
        elif recovery == "not reconnected":
            message = (f"{dropped} ({cause}) and nxgov could not open a new session to roll back ({detail}): "
                       f"{_ATTENTION}")
            hint = f"when the device is reachable, {_COMPARE}, and push again"
        elif recovery == "rollback failed":
            message = f"{dropped} ({cause}); nxgov reconnected, but the rollback failed ({detail}): {_ATTENTION}"
            hint = f"{_COMPARE}, and fix it by hand or push again"
        else:
            message = (f"{detail}; the session then dropped during the rollback ({cause}), so the rollback did not "
                       f"finish: {_ATTENTION}")
            hint = f"when the device is reachable, {_COMPARE}, and push again"
        super().__init__(device, message, hint)
        self.last_applied = last_applied
        self.cause = cause
        self.recovery = recovery
        self.rolled_back = recovery == "rolled back"


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
