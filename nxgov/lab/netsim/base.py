"""The CLI both platforms share: views, prompts, ``undo``, ``display`` with pipes, error carets.

A :class:`Cli` is one SSH session's dialogue with a :class:`Device`. Subclasses (VRP, Comware)
declare their :class:`Dialect` and implement the ``save`` dialogue. ``handle`` takes one input line and
returns what the device prints after echoing it, ending with the next prompt (or a question).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from nxgov.lab.netsim.config import Block, render_view
from nxgov.lab.netsim.device import Device
from nxgov.lab.netsim.dialect import Dialect
from nxgov.lab.netsim.faults import Fault
from nxgov.lab.netsim.grammar import Failure, Match, tokenize

Answer = Callable[[str], list[str]]
_FILTERS = ("begin", "exclude", "include")


@dataclass(frozen=True)
class Reply:
    text: str
    close: bool = False


@dataclass(frozen=True)
class View:
    """A view the session is in: the configuration block it edits and its prompt label."""

    kind: str
    header: str
    label: str


class Cli:
    dialect: ClassVar[Dialect]

    def __init__(self, device: Device) -> None:
        self.device = device
        self.views: list[View] | None = None
        self._answer: Answer | None = None
        self._typed_at = ""

    def prompt(self) -> str:
        if self.views is None:
            return f"<{self.device.sysname}>"
        return "[" + "-".join([self.device.sysname, *(v.label for v in self.views)]) + "]"

    def handle(self, line: str) -> Reply:
        if self._answer is not None:
            answer, self._answer = self._answer, None
            return self._reply(answer(line.strip()))
        tokens = tokenize(line)
        if not tokens:
            return self._reply([])
        command, pipe = line, ""
        if len(tokens[0][0]) >= 3 and "display".startswith(tokens[0][0].lower()):
            command, _, pipe = line.partition("|")
            tokens = tokenize(command)
        self._typed_at, views = self.prompt(), self.views
        undo = self.views is not None and tokens[0][0].lower() == "undo"
        result = self._match(tokens[1:] if undo else tokens, len(command.rstrip()) + 1, undo)
        if isinstance(result, Failure):
            return self._reply(self.error(result.fault, result.column))
        if undo or (result.rule is not None and result.rule.action == "enter"):
            refused = self._undo(result, tokens) if undo else self._enter(result, tokens)
            if refused:  # a refused command leaves the session in the view it was typed in
                self.views = views
            return self._reply(refused)
        assert result.rule is not None
        if result.rule.action == "line":
            with self.device.change() as root:
                self.block(root).set_line(result.line, result.key)
            return self._reply([])
        if result.rule.action == "quit" and self.views is None:
            return Reply("", close=True)
        output = self.execute(result.rule.action)
        return self._reply(self._filter(output, pipe, len(command) + 1) if pipe else output)

    def ctrl_z(self) -> Reply:
        """Ctrl+Z: back to the user view from anywhere."""
        self._answer, self.views = None, None
        return self._reply([])

    def error(self, fault: Fault, column: int) -> list[str]:
        """The caret under the offending column of the echoed line, then the platform's message."""
        return [
            " " * (len(self._typed_at) + column) + "^",
            f"{self.dialect.error_prefix}{fault.value} found at '^' position.",
        ]

    def ask(self, question: str, answer: Answer) -> list[str]:
        """Print ``question`` (no prompt follows); the next input line goes to ``answer``."""
        self._answer = answer
        return [question]

    def block(self, root: Block) -> Block:
        """The configuration block of the current view (recreated if another session removed it)."""
        block = root
        for view in self.views or ():
            block = block.enter(view.kind, view.header)
        return block

    def execute(self, action: str) -> list[str]:
        """Run an exec command (not a configuration line) and return its output."""
        if action == "system-view":
            self.views = []
            return [self.dialect.system_view_text]
        if action == "quit":
            assert self.views is not None
            self.views = self.views[:-1] if self.views else None
            return []
        if action == "return":
            self.views = None
            return []
        with self.device.lock:
            if action == "display-current":
                return self.device.render(self.device.running)
            if action == "display-saved":
                return self.device.render(self.device.saved)
            if action == "display-this":
                return render_view(self.block(self.device.running))
        if action == "display-version":
            return list(self.dialect.version)
        if action == "screen-length":
            return [self.dialect.paging_reply]
        if action == "show-bgp":
            return self.dialect.show_bgp(self.device.frr("show bgp ipv6 unicast summary json"))
        if action == "show-interfaces":
            return self.dialect.show_interfaces(self.device.ports())
        if action == "show-routes":
            return self.dialect.show_routes(self.device.frr("show ipv6 route json"), self.device.vendor_name)
        return self.save(force=action == "save-force")

    def banner(self) -> list[str]:
        """What the device prints on login, before the first prompt."""
        return [line.format(sessions=self.device.sessions) for line in self.dialect.banner]

    def save(self, force: bool) -> list[str]:
        """``save`` (``save force`` where the dialect has it): the platform's own dialogue."""
        raise NotImplementedError

    def _match(self, tokens: list[tuple[str, int]], end: int, undo: bool) -> Match | Failure:
        """Match in the current view, else in its parents (leaving for that view), like both CLIs.

        A line no view accepts gets the verdict of the view that understood most of it.
        """
        if self.views is None:
            return self.dialect.grammars["user"].match(tokens, self.device.interfaces, end)
        failures: list[Failure] = []
        for depth in range(len(self.views), -1, -1):
            grammar = self.dialect.grammars[self.views[depth - 1].kind if depth else "system"]
            result = grammar.match(tokens, self.device.interfaces, end, undo)
            if isinstance(result, Match):
                self.views = self.views[:depth]
                return result
            failures.append(result)
        return max(failures, key=lambda failure: failure.column)

    def _enter(self, match: Match, tokens: list[tuple[str, int]]) -> list[str]:
        assert match.rule is not None
        kind = match.rule.view
        with self.device.change() as root:
            parent = self.block(root)
            if kind == "bgp" and any(b.kind == "bgp" and b.header != match.line for b in parent.blocks()):
                return self.error(Fault.WRONG, tokens[-1][1])
            parent.enter(kind, match.line)
        label = self.dialect.labels[kind].format(*match.values)
        self.views = [*(self.views or ()), View(kind, match.line, label)]
        return []

    def _undo(self, match: Match, tokens: list[tuple[str, int]]) -> list[str]:
        rule = match.rule
        if rule is not None and rule.action not in ("line", "enter"):
            return self.error(Fault.UNRECOGNIZED, tokens[0][1])
        with self.device.change() as root:
            block = self.block(root)
            if rule is not None and rule.action == "enter":
                if rule.view == "interface" and self.device.interfaces.is_physical(match.values[0]):
                    return self.error(Fault.WRONG, tokens[2][1])
                block.remove_block(match.line)
            else:
                block.undo(match.line)
        return []

    def _filter(self, output: list[str], pipe: str, column: int) -> list[str]:
        """``| include|exclude|begin REGEX`` (keywords abbreviable), as both platforms support."""
        tokens = tokenize(pipe)
        kinds = [k for k in _FILTERS if tokens and k.startswith(tokens[0][0].lower())]
        if len(kinds) != 1 or len(tokens) < 2:
            if len(kinds) == 1:
                return self.error(Fault.INCOMPLETE, column + len(pipe))
            return self.error(Fault.UNRECOGNIZED, column + (tokens[0][1] if tokens else 0))
        try:
            pattern = re.compile(pipe[tokens[1][1] :].strip())
        except re.error:
            return self.error(Fault.WRONG, column + tokens[1][1])
        if kinds[0] == "include":
            return [line for line in output if pattern.search(line)]
        if kinds[0] == "exclude":
            return [line for line in output if not pattern.search(line)]
        start = next((i for i, line in enumerate(output) if pattern.search(line)), len(output))
        return output[start:]

    def _reply(self, lines: list[str]) -> Reply:
        if self._answer is not None:
            return Reply("\r\n".join(lines))
        return Reply("".join(f"{line}\r\n" for line in lines) + self.prompt())
