"""``nxgov audit``: read the audit log and check that nobody has tampered with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import settings
from nxgov.cli.times import parse_since
from nxgov.errors import ExitCode

if TYPE_CHECKING:
    from nxgov.audit import AuditRecord, VerifyReport

app = typer.Typer(
    help="Read the audit log and verify its hash chain (GB/T 22239 level 3 security audit).",
    no_args_is_help=True,
)

_RESULT_STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "dry-run": "cyan", "started": "dim"}
_DETAILS_WIDTH = 80


@app.command()
def show(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(help="Only records since this time: ISO (local unless it has an offset) or 30m/2h/3d/1w ago"),
    ] = None,
    operator: Annotated[str | None, typer.Option(help="Only records by this operator")] = None,
    target: Annotated[
        str | None, typer.Option(help="Only this target, or everything under it (yinchuan, yinchuan/)")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the last N matching records")] = None,
) -> None:
    """Show audit records, oldest first."""
    from collections import deque

    from nxgov.audit import AuditLog

    options = settings(ctx)
    matching = AuditLog(options.audit_log).records(since=parse_since(since), operator=operator, target=target)
    records = list(deque(matching, maxlen=limit))
    if options.json:
        from nxgov.cli.output import emit_json

        emit_json({"schema": "nxgov.audit.show/1", "log": str(options.audit_log),
                   "records": [record.to_dict() for record in records]})
    else:
        _print_records(records, str(options.audit_log))


@app.command()
def verify(ctx: typer.Context) -> None:
    """Check the hash chain and head anchor; exit 1 at the first record that was edited, deleted, inserted or moved."""
    from nxgov.audit import AuditLog

    options = settings(ctx)
    report = AuditLog(options.audit_log).verify()
    if options.json:
        from nxgov.cli.output import emit_json

        emit_json({"schema": "nxgov.audit.verify/1", "log": str(options.audit_log), **report.to_dict()})
    if not options.json or not report.ok:
        _print_report(report, str(options.audit_log))
    if not report.ok:
        raise typer.Exit(ExitCode.FAILED)


def _print_records(records: list[AuditRecord], log: str) -> None:
    from rich.table import Table

    from nxgov.cli.output import console, escape

    if not records:
        console.print(f"no matching records in {escape(log)}")
        return
    table = Table(title=f"audit log {escape(log)}", title_justify="left")
    for column in ("seq", "time (UTC)", "operator", "os user", "command", "target", "result", "details"):
        table.add_column(column, justify="right" if column == "seq" else "left", overflow="fold")
    for record in records:
        style = _RESULT_STYLE.get(record.result, "")
        table.add_row(
            str(record.seq),
            record.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
            escape(record.operator),
            escape(record.os_user or "-"),
            escape(record.command),
            escape(record.target),
            f"[{style}]{escape(record.result)}[/]" if style else escape(record.result),
            escape(_summarise(record.details)),
        )
    console.print(table)


def _summarise(details: dict[str, Any]) -> str:
    from nxgov.audit import canonical_json

    text = canonical_json(details) if details else ""
    return text if len(text) <= _DETAILS_WIDTH else text[: _DETAILS_WIDTH - 1] + "…"


def _print_report(report: VerifyReport, log: str) -> None:
    from nxgov.cli.output import console, escape

    broken = report.first_broken
    if broken is None:
        console.print(f"[green]ok[/]: {escape(log)} has {report.records} records, hash chain and head anchor intact")
        return
    seq = f" (seq {broken.seq})" if broken.seq is not None else ""
    console.print(f"[bold red]broken[/]: {escape(log)} at line {broken.line}{seq}: {escape(broken.reason)}")
    console.print(f"  {report.records} records verified before the break")
    console.print("  [dim]hint:[/] keep the file unchanged as evidence and report it to the security officer")
