"""Running TextFSM templates so that no line goes unread.

A template (ntc-templates' or nxgov's own, both in the stock format) ends each state with ``^. -> Error``: stock
TextFSM stops at the first line no rule matches. Here that rule is turned into one that collects the line into
a List value, ``UNPARSED``, so a parse returns every record *and* every line it did not understand (blank lines
never count: they match no rule and are skipped).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic

import textfsm

from nxgov.network.parsers.results import Parsed, Row

UNPARSED = "UNPARSED"
_CATCH_ALL = re.compile(r"^([ \t]+)\^\.[ \t]*->[ \t]*Error[ \t]*$", re.MULTILINE)


@cache
def template_text(name: str) -> str:
    """The template ``name`` with its catch-all Error rules collecting lines instead: ``ntc:<name>`` is
    ntc-templates' (installed with netmiko), any other name one of nxgov's (``templates/<name>.textfsm``)."""
    if name.startswith("ntc:"):
        text = resources.files("ntc_templates").joinpath("templates", f"{name[4:]}.textfsm").read_text()
    else:
        text = resources.files(__package__).joinpath("templates", f"{name}.textfsm").read_text()
    collecting, count = _CATCH_ALL.subn(rf"\1^${{{UNPARSED}}}", text)
    if not count:
        raise ValueError(f"template {name} has no '^. -> Error' rule: it would drop lines it does not know")
    return f"Value List {UNPARSED} (.*\\S.*)\n{collecting}"


def parse(name: str, output: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The records ``name`` reads from ``output`` (each a dict of its values, records that only carried
    unparsed lines left out) and the lines no rule matched, in order."""
    fsm = textfsm.TextFSM(io.StringIO(template_text(name)))
    records: list[dict[str, Any]] = fsm.ParseTextToDicts(output.replace("\r\n", "\n"))
    unparsed: list[str] = []
    rows = []
    for record in records:
        unparsed.extend(record.pop(UNPARSED))
        if any(record.values()):
            rows.append(record)
    return rows, tuple(unparsed)


Rows = Callable[[list[dict[str, Any]]], tuple[list[Row], list[str]]]
"""Turns a template's records into typed rows, and gives (as text) the records that are not a valid row."""


@dataclass(frozen=True)
class Command(Generic[Row]):
    """A show command, the template that reads its output, and how the template's records become rows."""

    text: str
    template: str
    rows: Rows[Row]

    def parse(self, output: str) -> Parsed[Row]:
        """``output`` read: every row, and every line (or record) that was not understood."""
        records, unparsed = parse(self.template, output)
        rows, bad = self.rows(records)
        return Parsed(self.text, tuple(rows), (*unparsed, *bad))
