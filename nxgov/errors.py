"""The one exception hierarchy of nxgov.

Every error carries a message written for an operator and, where there is one, a hint saying what
to do about it. The CLI maps each class to an exit code and prints it without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class ExitCode:
    """Process exit codes shared by every command (see README, "Exit codes")."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    CHANGES = 3
    INTERRUPTED = 130


class NxgovError(Exception):
    """Base of every error nxgov raises on purpose."""

    exit_code: int = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InputError(NxgovError):
    """The operator gave something nxgov cannot use (a file, an option, an argument)."""

    exit_code = ExitCode.BAD_INPUT


class DepartmentInputError(InputError):
    """An :class:`InputError` about one department of the estate; ``department`` is its code (to locate it)."""

    def __init__(self, department: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.department = department


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file."""

    file: str
    line: int | None
    path: str
    message: str
    hint: str | None = None
    column: int | None = None

    def where(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def __str__(self) -> str:
        text = f"{self.where()}: {self.path + ': ' if self.path else ''}{self.message}"
        return text if not self.hint else f"{text}\n  hint: {self.hint}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class EstateError(InputError):
    """The estate does not validate. ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        count = len(problems)
        super().__init__(f"the estate has {count} problem{'s' if count != 1 else ''}")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.message, *(str(p) for p in self.problems)])


class OperationError(NxgovError):
    """An operation against a real system failed (a cloud, a device, a host)."""


class StateError(NxgovError):
    """The state store cannot be opened, migrated or written."""


class AuditError(NxgovError):
    """The audit log cannot be written or read."""


class LabError(NxgovError):
    """The rehearsal lab cannot be brought up, inspected or torn down."""


class Interrupted(NxgovError):
    """The operator interrupted nxgov (Ctrl-C)."""

    exit_code = ExitCode.INTERRUPTED


class InternalError(NxgovError):
    """Something nxgov did not expect went wrong: a bug, reported as one line instead of a traceback."""
