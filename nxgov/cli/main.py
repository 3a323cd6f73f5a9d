"""Entry point: global options, command groups, and the error boundary (exit codes, no tracebacks)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from nxgov import __version__
from nxgov.cli import audit as audit_cmd
from nxgov.cli import cloud as cloud_cmd
from nxgov.cli import estate as estate_cmd
from nxgov.cli import lab as lab_cmd
from nxgov.cli import net as net_cmd
from nxgov.cli import net_devices
from nxgov.cli.context import CURRENT, OutputFormat, Settings
from nxgov.cli.output import emit_json, error_document, print_error
from nxgov.errors import ExitCode, NxgovError
from nxgov.paths import default_audit_log, default_estate, default_state_db

app = typer.Typer(
    name="nxgov",
    help="Operate Ningxia's e-government cloud (Yinchuan, Zhongwei, backup) and its dual-plane extranet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(estate_cmd.app, name="estate")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(cloud_cmd.app, name="cloud")
app.add_typer(lab_cmd.app, name="lab")
net_devices.register(net_cmd.app)
app.add_typer(net_cmd.app, name="net")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nxgov {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    estate: Annotated[
        Path | None,
        typer.Option("--estate", "-e", help="Estate file or directory (env NXGOV_ESTATE; default inventories/ningxia)"),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="table for people, json for CI")] = (
        OutputFormat.table
    ),
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More detail; repeat for more")] = 0,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="State store (env NXGOV_STATE; default ~/.local/state/nxgov/state.db)"),
    ] = None,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            "--audit-log", help="Audit log (env NXGOV_AUDIT_LOG; default ~/.local/state/nxgov/audit.jsonl)"
        ),
    ] = None,
    operator: Annotated[
        str | None,
        typer.Option("--operator", envvar="NXGOV_OPERATOR", help="Name in the audit log (default: OS user)"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    resolved = Settings(
        estate=estate or default_estate(),
        output=output,
        verbose=verbose,
        state=state or default_state_db(),
        audit_log=audit_log or default_audit_log(),
        operator=operator or _os_user(),
    )
    ctx.obj = resolved
    CURRENT[:] = [resolved]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run() -> None:
    """Console-script entry point: every NxgovError becomes its exit code and a message, never a traceback."""
    try:
        app(prog_name="nxgov")
    except NxgovError as error:
        if CURRENT and CURRENT[0].json:
            emit_json(error_document(error))
        print_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print_error(NxgovError("interrupted", "re-run the command: every mutating command is safe to re-run"))
        sys.exit(ExitCode.FAILED)
