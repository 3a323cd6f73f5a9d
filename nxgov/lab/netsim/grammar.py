"""The command grammar of one view: a token trie matched the way VRP and Comware match commands.

Keywords are case-insensitive and may be abbreviated to a unique prefix (``dis cur``). Matching
stops at the first token that fits nowhere and reports where: an unknown keyword is
"Unrecognized", a bad parameter "Wrong parameter", missing tokens "Incomplete", extra ones "Too many
parameters". ``undo`` may stop early (``undo peer 2001:db8::2``) and then removes by prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from nxgov.lab.netsim.faults import Fault, ParamError
from nxgov.lab.netsim.interfaces import Interfaces
from nxgov.lab.netsim.params import Parser, parser

Token = tuple[str, int]


@dataclass(frozen=True)
class Rule:
    """``pattern`` is keywords (``a|b`` for alternatives) and ``<param>`` slots.

    ``action`` is "line" (a configuration line), "enter" (opens the view ``view``) or the name of
    an exec command. A ``replace`` line supersedes the line with the same text up to its last
    parameter (``sysname``, ``router-id``, ``peer X as-number``), or with the same first ``key``
    words when given (a parameter is one word): ``peer X timer keepalive A hold B`` is keyed on
    ``peer X timer`` (3), so new timers replace the old ones, as on the devices.
    """

    pattern: str
    action: str = "line"
    view: str = ""
    replace: bool = False
    key: int = 0


@dataclass(frozen=True)
class Match:
    rule: Rule | None
    parts: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def line(self) -> str:
        return " ".join(self.parts)

    @property
    def key(self) -> str | None:
        """What a ``replace`` line replaces: its first ``rule.key`` words, else its text without the last one."""
        if self.rule is None or not self.rule.replace:
            return None
        return " ".join(self.parts[: self.rule.key or -1])


@dataclass(frozen=True)
class Failure:
    fault: Fault
    column: int


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    params: dict[str, tuple[Parser, _Node]] = field(default_factory=dict)
    rule: Rule | None = None


def tokenize(line: str) -> list[Token]:
    return [(m.group(), m.start()) for m in re.finditer(r"\S+", line)]


class Grammar:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self._root = _Node()
        for rule in rules:
            self._add(rule)

    def _add(self, rule: Rule) -> None:
        nodes = [self._root]
        for element in rule.pattern.split():
            if element.startswith("<"):
                name = element[1:-1]
                nodes = [n.params.setdefault(name, (parser(name), _Node()))[1] for n in nodes]
            else:
                nodes = [n.literals.setdefault(word, _Node()) for n in nodes for word in element.split("|")]
        for node in nodes:
            node.rule = rule

    def match(self, tokens: list[Token], interfaces: Interfaces, end: int, partial: bool = False) -> Match | Failure:
        """Match ``tokens``; ``end`` is the column just past the line (where "Incomplete" points)."""
        node, index, after_param = self._root, 0, False
        parts: list[str] = []
        values: list[str] = []
        while index < len(tokens):
            text, column = tokens[index]
            step = self._literal(node, text.lower())
            if isinstance(step, Fault):
                if not node.params:
                    fault = Fault.TOO_MANY if node.rule is not None and not node.literals else step
                    return Failure(fault, column)
                outcome = self._param(node, [t for t, _ in tokens[index:]], interfaces)
                if isinstance(outcome, ParamError):
                    offset = min(index + outcome.offset, len(tokens) - 1)
                    return Failure(outcome.fault, tokens[offset][1] if outcome.fault != Fault.INCOMPLETE else end)
                used, value, node = outcome
                parts.append(value)
                values.append(value)
                index, after_param = index + used, True
            else:
                word, node = step
                parts.append(word)
                index, after_param = index + 1, False
        if node.rule is not None or (partial and parts and (after_param or not node.literals)):
            return Match(node.rule, tuple(parts), tuple(values))
        return Failure(Fault.INCOMPLETE, end)

    @staticmethod
    def _literal(node: _Node, text: str) -> tuple[str, _Node] | Fault:
        if text in node.literals:
            return text, node.literals[text]
        found = [word for word in node.literals if word.startswith(text)]
        if len(found) == 1:
            return found[0], node.literals[found[0]]
        return Fault.AMBIGUOUS if found else Fault.UNRECOGNIZED

    @staticmethod
    def _param(node: _Node, words: list[str], interfaces: Interfaces) -> tuple[int, str, _Node] | ParamError:
        first: ParamError | None = None
        for parse, child in node.params.values():
            try:
                used, value = parse(words, interfaces)
            except ParamError as exc:
                first = first or exc
                continue
            return used, value, child
        assert first is not None
        return first
