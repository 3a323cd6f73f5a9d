"""Write the audit record of a CLI action (who, when, what, result) to the configured audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import typer

from nxgov.cli.context import settings


def record(ctx: typer.Context, command: str, target: str, result: str, details: Mapping[str, Any] | None = None,
           secrets: Iterable[str] = ()) -> None:
    from nxgov.audit import AuditLog

    opts = settings(ctx)
    AuditLog(opts.audit_log, operator=opts.operator).append(command, target, result, details, secrets=secrets)
