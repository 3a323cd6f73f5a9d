"""Entry point: global options, command groups, and the error boundary (exit codes, no tracebacks)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from typer._click.core import Command
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup, TyperOption

from nxgov import __version__
from nxgov.cli import audit as audit_cmd
from nxgov.cli import backup as backup_cmd
from nxgov.cli import cloud as cloud_cmd
from nxgov.cli import estate as estate_cmd
from nxgov.cli import lab as lab_cmd
from nxgov.cli import migrate as migrate_cmd
from nxgov.cli import monitor as monitor_cmd
from nxgov.cli import net as net_cmd
from nxgov.cli import net_devices
from nxgov.cli import region as region_cmd
from nxgov.cli import status as status_cmd
from nxgov.cli.context import OutputFormat, Settings
from nxgov.cli.output import configure_logging, emit_json, error_document, people_to_stderr, print_error
from nxgov.errors import ExitCode, InputError, InternalError, Interrupted, NxgovError
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
app.add_typer(backup_cmd.app, name="backup")
app.add_typer(cloud_cmd.app, name="cloud")
app.add_typer(lab_cmd.app, name="lab")
app.add_typer(migrate_cmd.app, name="migrate")
app.add_typer(monitor_cmd.app, name="monitor")
net_devices.register(net_cmd.app)
app.add_typer(net_cmd.app, name="net")
region_cmd.register(app)
app.command(name="status")(status_cmd.status)


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
    configure_logging(verbose)
    if resolved.json:
        people_to_stderr()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# The options of the callback above that may also be given after the subcommand (as `lab up --estate DIR`).
GLOBAL_OPTIONS = ("estate", "output", "verbose", "state", "audit_log", "operator")
_REPORT = ("this is a bug in nxgov: run the same command again with -vv for the traceback and report both to the "
           "nxgov maintainers")


def run() -> None:
    """Console-script entry point: the exit code and message of every outcome, never a traceback by surprise."""
    sys.exit(invoke(sys.argv[1:]))


def invoke(argv: Sequence[str]) -> int:
    """Run the command line ``argv``; return its exit code (README, "Exit codes").

    Errors are printed on stderr; with ``-o json`` stdout also gets exactly one document, errors included.
    """
    from typer.exceptions import Abort, Exit

    command = typer.main.get_command(app)
    args = hoist_global_options(argv, command)
    json_mode, verbose = _leading_output_and_verbosity(args, command)
    try:
        with command.make_context("nxgov", list(args)) as ctx:
            command.invoke(ctx)
    except Exit as done:
        return done.exit_code
    except NxgovError as error:
        return _fail(error, json_mode)
    except UsageError as error:
        return _usage_error(error, json_mode)
    except (Abort, EOFError):
        return _fail(NxgovError("aborted", "nothing more was done"), json_mode)
    except KeyboardInterrupt:
        return _fail(Interrupted("interrupted", "re-run the command: every mutating command is safe to re-run"),
                     json_mode)
    except BrokenPipeError:
        # The reader went away (`nxgov audit show | head`): nothing is left to tell it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.FAILED
    except Exception as error:
        if verbose >= 2:
            import traceback

            traceback.print_exc()
        return _fail(InternalError(f"{type(error).__name__}: {error}", _REPORT), json_mode)
    return ExitCode.OK


def _fail(error: NxgovError, json_mode: bool) -> int:
    if json_mode:
        emit_json(error_document(error))
    print_error(error)
    return error.exit_code


def _usage_error(error: UsageError, json_mode: bool) -> int:
    """Click's usage errors keep their usual wording on stderr; with ``-o json`` stdout gets the document too."""
    error.show()
    if json_mode:
        path = error.ctx.command_path if error.ctx is not None else "nxgov"
        message = "a command is missing" if isinstance(error, NoArgsIsHelpError) else error.format_message()
        emit_json(error_document(InputError(message, f"`{path} -h` lists the commands and options")))
    return error.exit_code


def hoist_global_options(argv: Sequence[str], command: Command | None = None) -> list[str]:
    """Move the global options given after the subcommand (``lab up -e DIR``) before it, where Click reads them.

    An option the subcommand (or a group on the way to it) defines itself stays where it is, with its value,
    and so does everything after ``--``.
    """
    root = command or typer.main.get_command(app)
    args = list(argv)
    globals_ = _option_names(root, GLOBAL_OPTIONS)
    first, _ = _root_options(args, root)
    if first >= len(args):
        return args
    kept, hoisted = args[:first + 1], list[str]()
    current = _subcommand(root, args[first]) or root
    i = first + 1
    while i < len(args):
        token = args[i]
        if token == "--":
            kept += args[i:]
            break
        name, inline = _split_option(token)
        own = _option_names(current, None)
        target, width = kept, 1
        sub = _subcommand(current, token)
        if sub is not None:
            current = sub
        elif name in own:
            width = 2 if own[name] and not inline else 1
        elif name in globals_ and globals_[name] and (inline or i + 1 < len(args)):
            target, width = hoisted, 1 if inline else 2
        elif name in globals_ and not globals_[name] and _is_flag_cluster(token, name):
            target = hoisted
        target += args[i:i + width]
        i += width
    return args[:first] + hoisted + kept[first:]


def _option_names(command: Command, only: Sequence[str] | None) -> dict[str, bool]:
    """Each option string of ``command`` (of the named parameters only, if given) -> whether it takes a value."""
    names: dict[str, bool] = {}
    for param in command.params:
        if isinstance(param, TyperOption) and (only is None or param.name in only):
            for opt in (*param.opts, *param.secondary_opts):
                names[opt] = not (param.is_flag or param.count)
    return names


def _split_option(token: str) -> tuple[str | None, bool]:
    """The option a token names and whether it carries its value (``--out=F``, ``-eDIR``)."""
    if token.startswith("--") and len(token) > 2:
        return token.split("=", 1)[0], "=" in token
    if token.startswith("-") and len(token) > 1:
        return token[:2], len(token) > 2
    return None, False


def _is_flag_cluster(token: str, name: str) -> bool:
    """``-v`` and ``-vvv``: a flag alone or repeated, nothing else in the cluster."""
    return token == name or (not name.startswith("--") and set(token[1:]) == {name[1]})


def _subcommand(command: Command, token: str) -> Command | None:
    return command.commands.get(token) if isinstance(command, TyperGroup) else None


def _root_options(args: Sequence[str], root: Command) -> tuple[int, list[tuple[str, str | None, str | None]]]:
    """The options before the first command: the index of that command, and each ``(token, option, value)``."""
    options = _option_names(root, None)
    found: list[tuple[str, str | None, str | None]] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        token = args[i]
        name, inline = _split_option(token)
        value = None
        if name is not None and options.get(name):
            if inline:
                value = token.split("=", 1)[1] if token.startswith("--") else token[2:]
            else:
                i += 1
                value = args[i] if i < len(args) else None
        found.append((token, name, value))
        i += 1
    return i, found


def _leading_output_and_verbosity(args: Sequence[str], root: Command) -> tuple[bool, int]:
    """``-o json`` and the ``-v`` count among the options before the first command (where hoisting put them)."""
    output = _option_names(root, ("output",))
    verbose = _option_names(root, ("verbose",))
    json_mode, count = False, 0
    for token, name, value in _root_options(args, root)[1]:
        if name in output:
            json_mode = value == "json"
        elif name in verbose:
            count += 1 if token.startswith("--") else len(token) - 1
    return json_mode, count
