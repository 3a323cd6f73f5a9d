"""Write the audit record of a CLI action (who, when, what, result) to the configured audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import typer

from nxgov.cli.context import settings

if TYPE_CHECKING:
    from nxgov.audit import AuditLog


def preflight(ctx: typer.Context) -> None:
    """Call before a command changes anything: fails unless its audit record can be written (the log is
    writable and its chain verifies; see :meth:`nxgov.audit.AuditLog.preflight`)."""
    _log(ctx).preflight()


def record(ctx: typer.Context, command: str, target: str, result: str, details: Mapping[str, Any] | None = None,
           secrets: Iterable[str] = ()) -> None:
    _log(ctx).append(command, target, result, details, secrets=secrets)


def _log(ctx: typer.Context) -> AuditLog:
    from nxgov.audit import AuditLog

    opts = settings(ctx)
    return AuditLog(opts.audit_log, operator=opts.operator)


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
