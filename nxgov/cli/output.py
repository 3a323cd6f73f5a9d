"""Printing for the CLI: Rich tables for people, one JSON document on stdout for CI."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from nxgov.errors import EstateError, NxgovError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(document: dict[str, Any]) -> None:
    """Write one JSON document to stdout (stable keys, UTF-8, no Rich markup)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def error_document(error: NxgovError) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ok": False,
        "error": {"type": type(error).__name__, "message": error.message, "hint": error.hint},
    }
    if isinstance(error, EstateError):
        doc["problems"] = [p.as_dict() for p in error.problems]
    return doc


def print_error(error: NxgovError) -> None:
    """Tell the operator what went wrong and what to do, on stderr, without a traceback."""
    err_console.print(f"[bold red]error:[/] {escape(error.message)}", soft_wrap=True)
    if isinstance(error, EstateError):
        for problem in error.problems:
            err_console.print(f"  [bold]{escape(problem.where())}[/]: "
                              f"{escape(problem.path + ': ' if problem.path else '')}{escape(problem.message)}",
                              soft_wrap=True)
            if problem.hint:
                err_console.print(f"      [dim]hint:[/] {escape(problem.hint)}", soft_wrap=True)
    elif error.hint:
        err_console.print(f"  [dim]hint:[/] {escape(error.hint)}", soft_wrap=True)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)
