"""Why a command line was rejected, as both CLIs classify it (the text differs per platform)."""

from __future__ import annotations

from enum import Enum


class Fault(Enum):
    UNRECOGNIZED = "Unrecognized command"
    WRONG = "Wrong parameter"
    INCOMPLETE = "Incomplete command"
    AMBIGUOUS = "Ambiguous command"
    TOO_MANY = "Too many parameters"


class ParamError(Exception):
    """A parameter does not parse; ``offset`` is the index of the offending token within it."""

    def __init__(self, fault: Fault, offset: int = 0) -> None:
        super().__init__(fault.value)
        self.fault = fault
        self.offset = offset
