"""Hierarchical configuration text: parse it into views, and work out what a merge must send.

VRP and Comware print ``#`` between sections and indent a view's lines by one space per level; FRR
prints ``!`` between sections and closes views with ``exit``/``exit-address-family``. Either way a
line belongs to the nearest less-indented line above it (a section separator at column 0 starts
again at the top), so one parser serves all three; a :class:`Syntax` says which lines are noise and
how a platform negates a line and leaves a view.

Lines are compared by a key that ignores spacing and the spelling of IPv6 addresses (``2001:db8::1``
equals ``2001:DB8:0::1``), so a candidate in lower case still matches what the device displays.

Everything here is linear in the size of the trees: a node's key is worked out once (again only if
its text changes), and a view's lines are looked up by key in a dict built once per comparison, so
diffing a router's 10,000-line configuration takes a fraction of a second (``bench/config_diff.py``).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class Syntax:
    """What a platform's configuration text looks like."""

    separator: str
    """The section separator (``#`` or ``!``): skipped, and resets nesting at column 0."""
    noise: re.Pattern[str]
    """Other lines that are not configuration (``return``, ``exit``, banners)."""
    negation: str
    """The word that removes a line: ``undo`` or ``no``."""
    leave: str
    """The command that leaves a view for its parent: ``quit`` or ``exit``."""
    keep_blocks: re.Pattern[str]
    """Views that cannot be removed whole (physical interfaces): roll back their lines instead."""
    removal: re.Pattern[str] = re.compile(r"(?!)")
    """Lines removed by negating only their first group: an object's defining line (``peer X as-number N``
    is removed by ``undo peer X``, which takes every ``peer X ...`` line with it) and lines whose negation
    takes no argument (``description``)."""


@dataclass(slots=True)
class Node:
    """A configuration line and, when it opens a view, the lines inside it."""

    text: str
    children: list[Node] = field(default_factory=list)
    _key: tuple[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """:func:`line_key` of the text, worked out once per text."""
        cached = self._key
        if cached is None or cached[0] is not self.text:
            cached = self._key = (self.text, line_key(self.text))
        return cached[1]

    def child(self, key: str) -> Node | None:
        return next((node for node in self.children if node.key == key), None)


def parse(text: str, syntax: Syntax) -> list[Node]:
    """The top-level nodes of ``text`` (lines in order, each with its view's lines)."""
    root = Node("")
    stack: list[tuple[int, Node]] = [(-1, root)]
    separator, separated, noise = syntax.separator, syntax.separator + " ", syntax.noise.match
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        if stripped == separator or stripped.startswith(separated):
            if indent == 0:
                del stack[1:]
            continue
        if noise(stripped):
            continue
        while len(stack) > 1 and stack[-1][0] >= indent:
            stack.pop()
        node = Node(" ".join(stripped.split()))
        stack[-1][1].children.append(node)
        stack.append((indent, node))
    return root.children


def line_key(text: str) -> str:
    """How lines are compared: single spaces, IPv6 addresses in one spelling."""
    return " ".join(_address_key(token) for token in text.split())


def missing(running: list[Node], candidate: list[Node], syntax: Syntax) -> list[Node]:
    """The part of ``candidate`` that ``running`` lacks, as a tree (views kept only to hold lines).

    A candidate line ``undo X`` / ``no X`` is missing while the view still has ``X`` (or ``X ...``).
    """
    out: list[Node] = []
    index = _Index(running)
    for node in candidate:
        if _negates(node, syntax):
            if index.negated_present(node, syntax):
                out.append(Node(node.text))
            continue
        have = index.find(node.key)
        if have is None:
            out.append(node)
            continue
        below = missing(have.children, node.children, syntax)
        if below:
            out.append(Node(node.text, below))
    return out


@dataclass(frozen=True)
class Step:
    """One line to type, and the view it is typed in ("" for the top level), for messages."""

    line: str
    view: str


def commands(tree: list[Node], syntax: Syntax, view: str = "") -> list[Step]:
    """The lines to type, in order, to add ``tree``: each view entered, filled, then left."""
    out: list[Step] = []
    for node in tree:
        out.append(Step(node.text, view))
        if node.children:
            inner = f"{view} > {node.text}" if view else node.text
            out.extend(commands(node.children, syntax, inner))
            out.append(Step(syntax.leave, inner))
    return out


def undo_commands(before: list[Node], after: list[Node], syntax: Syntax) -> list[str]:
    """Lines that remove from ``after`` what ``before`` lacks, last first (views removed whole if allowed)."""
    out: list[str] = []
    index = _Index(before)
    for node in reversed(after):
        had = index.find(node.key)
        if had is None and not (node.children and syntax.keep_blocks.match(node.text)):
            out.append(negate(node.text, syntax))
            continue
        inner = undo_commands(had.children if had else [], node.children, syntax)
        if inner:
            out.extend([node.text, *inner, syntax.leave])
    return out


def prune(running: list[Node], made: list[Node], candidate: list[Node], syntax: Syntax,
          covered: frozenset[str] = frozenset()) -> tuple[list[Node], list[Node]]:
    """What removes the lines nxgov made that the candidate no longer has, and the running configuration after it.

    ``made`` is every line nxgov has pushed (and not removed since). A line of it that ``candidate`` lacks
    and ``running`` still has is removed in its view (:func:`removal`; a view that is not kept goes whole
    with its header); a line nxgov did not make is never typed, and negations nxgov pushed (``no bgp default
    ipv4-unicast``) are never undone. A view's removals are typed last line first (``ipv6 address`` before
    the ``ipv6 enable`` it needs), and a line that an object's removal takes with it (``peer X enable`` when
    ``undo peer X`` is typed, here or in a view above) is not typed at all. Returns the tree of lines to
    type (views entered only to hold removals) and ``running`` as the device holds it once they are typed:
    each removal takes away the lines equal to or beginning with what it negates, in its view and the
    views below, as the devices do.
    """
    want, on_device = _Index(candidate), _Index(running)
    stale = [node for node in made if not _negates(node, syntax) and on_device.find(node.key) is not None
             and want.find(node.key) is None and not (node.children and syntax.keep_blocks.match(node.text))]
    objects = covered | {_removes(node.text, syntax) for node in stale}
    removing = {id(node) for node in stale}
    typed: list[Node] = []
    left = [Node(node.text, node.children) for node in running]
    have = _Index(left)
    for node in reversed(made):
        here = have.find(node.key)
        if _negates(node, syntax) or here is None:
            continue
        if id(node) in removing:
            own = _removes(node.text, syntax)
            if any(prefix != own and _begins(node.key, prefix) for prefix in objects):
                continue
            typed.append(Node(removal(node.text, syntax)))
            left = _without(left, own)
            have = _Index(left)
            continue
        kept = want.find(node.key)
        inner, rest = prune(here.children, node.children, kept.children if kept else [], syntax, objects)
        if inner:
            typed.append(Node(node.text, inner))
            here.children = rest
    return typed, left


def removal(line: str, syntax: Syntax) -> str:
    """The line that removes ``line``: its negation, or that of its first group when :attr:`Syntax.removal` matches."""
    match = syntax.removal.match(line)
    part = next((group for group in match.groups() if group), line) if match else line
    return syntax.negation + " " + part


def negate(line: str, syntax: Syntax) -> str:
    """``undo X`` for ``X``, and ``X`` for ``undo X``."""
    prefix = syntax.negation + " "
    return line[len(prefix):] if line.startswith(prefix) else prefix + line


def differences(a: list[Node], b: list[Node]) -> list[str]:
    """Lines (as ``view > line``) in one tree but not the other, order ignored; empty when equal."""
    left, right = set(_paths(a)), set(_paths(b))
    return sorted(left ^ right)


def render(tree: list[Node], syntax: Syntax) -> list[str]:
    """The tree as the device prints it: separators between sections, one space per level."""
    out: list[str] = []
    for node in tree:
        out.append(syntax.separator)
        out.extend(_indented(node, 0))
    return out


def merged(running: list[Node], add: list[Node]) -> list[Node]:
    """``running`` with the ``add`` tree merged in (new lines at the end of their view)."""
    out = [Node(node.text, list(node.children)) for node in running]
    index = _Index(out)
    for node in add:
        have = index.find(node.key)
        if have is None:
            out.append(node)
            index.add(node)
        else:
            have.children = merged(have.children, node.children)
    return out


def unified_diff(before: list[str], after: list[str], name: str, context: int = 3) -> str:
    """An operator's unified diff of two renderings (empty when equal)."""
    lines = difflib.unified_diff(before, after, f"{name} (running)", f"{name} (candidate merged)",
                                 n=context, lineterm="")
    return "\n".join(lines)


def _indented(node: Node, depth: int) -> Iterator[str]:
    yield " " * depth + node.text
    for child in node.children:
        yield from _indented(child, depth + 1)


def _paths(tree: list[Node], prefix: str = "") -> Iterable[str]:
    for node in tree:
        path = f"{prefix}{node.key}"
        yield path
        yield from _paths(node.children, path + " > ")


class _Index:
    """A view's lines by key (the first of equal keys wins, as a scan from the top would find)."""

    def __init__(self, nodes: list[Node]) -> None:
        self._first: dict[str, Node] = {}
        for node in nodes:
            self._first.setdefault(node.key, node)
        self._sorted: list[str] | None = None

    def find(self, key: str) -> Node | None:
        return self._first.get(key)

    def add(self, node: Node) -> None:
        if self._first.setdefault(node.key, node) is node:
            self._sorted = None

    def negated_present(self, node: Node, syntax: Syntax) -> bool:
        """Whether the view has the line ``node`` negates, or one that begins with it."""
        target = line_key(negate(node.text, syntax))
        if target in self._first:
            return True
        if self._sorted is None:
            self._sorted = sorted(self._first)
        prefix = target + " "
        at = bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)


def _removes(line: str, syntax: Syntax) -> str:
    """The key of what :func:`removal` of ``line`` takes away (``peer x`` for ``peer X as-number N``)."""
    return line_key(negate(removal(line, syntax), syntax))


def _begins(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + " ")


def _without(nodes: list[Node], prefix: str) -> list[Node]:
    """``nodes`` without the lines whose key is ``prefix`` or begins with it (and their views), at every depth."""
    out: list[Node] = []
    for node in nodes:
        if _begins(node.key, prefix):
            continue
        out.append(Node(node.text, _without(node.children, prefix)) if node.children else node)
    return out


def _negates(node: Node, syntax: Syntax) -> bool:
    return not node.children and node.text.startswith(syntax.negation + " ")


_ADDRESS = re.compile(r"^(?P<address>[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?P<length>/\d{1,3})?$")


def _address_key(token: str) -> str:
    return _ipv6_key(token) if ":" in token else token


@lru_cache(maxsize=1 << 16)
def _ipv6_key(token: str) -> str:
    """The compressed spelling of an IPv6 address (or prefix) token; cached: a commit diffs the same text 3-5 times."""
    match = _ADDRESS.match(token)
    if match is None:
        return token
    try:
        address = ipaddress.IPv6Address(match["address"])
    except ValueError:
        return token
    return address.compressed + (match["length"] or "")
