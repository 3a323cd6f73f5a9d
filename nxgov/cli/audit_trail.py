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


def record_failure(ctx: typer.Context, command: str, target: str, error: Exception,
                   details: Mapping[str, Any] | None = None) -> None:
    """Audit a failed attempt without hiding why it failed: an audit log that cannot be written is a warning here."""
    from nxgov.cli.output import err_console
    from nxgov.errors import AuditError

    try:
        record(ctx, command, target, "failed", {**(details or {}), "error": str(error)})
    except AuditError as audit_error:
        err_console.print(f"[yellow]warning:[/] this failed attempt was not audited: {audit_error.message}",
                          soft_wrap=True)
