"""Printing for the CLI: Rich tables for people, one JSON document on stdout for CI, log records on stderr."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from nxgov.errors import EstateError, InputError, InternalError, NxgovError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

_LEVEL_STYLE = {"debug": "dim", "info": "dim", "warning": "yellow", "error": "bold red", "critical": "bold red"}


def people_to_stderr() -> None:
    """With ``-o json`` stdout carries the one JSON document: everything written for people goes to stderr."""
    console.stderr = True


def emit_json(document: dict[str, Any]) -> None:
    """Write one JSON document to stdout (stable keys, UTF-8, no Rich markup)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def error_document(error: NxgovError) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"type": type(error).__name__, "message": error.message, "hint": error.hint},
        "problems": [p.as_dict() for p in error.problems] if isinstance(error, EstateError) else [],
    }


def print_error(error: NxgovError) -> None:
    """Tell the operator what went wrong and what to do, on stderr, without a traceback."""
    label = "internal error" if isinstance(error, InternalError) else "error"
    err_console.print(f"[bold red]{label}:[/] {escape(error.message)}", soft_wrap=True)
    if isinstance(error, EstateError):
        for problem in error.problems:
            err_console.print(f"  [bold]{escape(problem.where())}[/]: "
                              f"{escape(problem.path + ': ' if problem.path else '')}{escape(problem.message)}",
                              soft_wrap=True)
            if problem.hint:
                err_console.print(f"      [dim]hint:[/] {escape(problem.hint)}", soft_wrap=True)
    elif error.hint:
        err_console.print(f"  [dim]hint:[/] {escape(error.hint)}", soft_wrap=True)


def confirm(question: str, *, yes: bool, json: bool, refusal: str, hint: str) -> bool:
    """Whether to go ahead: ``yes`` goes; otherwise ask on the terminal, the question on stderr so that stdout
    stays the command's output. Without a terminal, or with ``-o json`` (a machine is reading), refuse
    (InputError ``refusal`` with ``hint``): nothing changes unasked."""
    if yes:
        return True
    if json or not sys.stdin.isatty():
        raise InputError(refusal, hint)
    err_console.print(f"{question} [y/N] ", end="", highlight=False, markup=False)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def check_writable(path: Path, option: str) -> None:
    """Refuse, before any work is done, a file named by ``option`` that cannot be written (tried by opening it)."""
    if path.is_dir():
        raise InputError(f"{option} {path} is a directory", f"give {option} a file path")
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise InputError(f"cannot write {option} {path}: {error.strerror or error}",
                         f"choose another {option}") from error
    if not existed:
        path.unlink()


def write_output(path: Path, text: str, option: str) -> None:
    """Write a file the operator named with ``option``; a failure is bad input, not a traceback."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write {option} {path}: {error.strerror or error}",
                         f"choose another {option}") from error


class _ConsoleHandler(logging.Handler):
    """Log records as ``level: logger: message`` on stderr, through Rich so progress displays stay intact."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = record.levelname.lower()
            style = _LEVEL_STYLE.get(level, "")
            err_console.print(f"[{style}]{level}:[/] {escape(self.format(record))}", soft_wrap=True)
        except Exception:
            self.handleError(record)


def _log_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    logging.getLogger("py.warnings").warning("%s: %s", category.__name__, message)


def configure_logging(verbose: int) -> None:
    """Show nxgov's and third-party log records (and Python warnings) on stderr in nxgov's format.

    Default: warnings and errors. ``-v``: nxgov's info. ``-vv``: nxgov's debug, others' info. ``-vvv``: everything.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ConsoleHandler)]:
        root.removeHandler(handler)
    handler = _ConsoleHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 3 else logging.INFO if verbose == 2 else logging.WARNING)
    own = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.getLogger("nxgov").setLevel(own)
    warnings.showwarning = _log_warning
