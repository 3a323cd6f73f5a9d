"""Global options shared by every command, carried on the Typer context."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import typer


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


@dataclass
class Settings:
    """What the global options resolved to. Commands read it with :func:`settings`."""

    estate: Path
    output: OutputFormat
    verbose: int
    state: Path
    audit_log: Path
    operator: str | None

    @property
    def json(self) -> bool:
        return self.output is OutputFormat.json


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        raise RuntimeError("global options were not parsed")
    return obj
