"""A device configuration: a tree of views, rendered as VRP and Comware print it.

The root holds global lines and blocks (``interface X``, ``bgp N``); a block holds lines and nested
blocks (``ipv6-family unicast`` under ``bgp``). Rendering puts ``#`` between sections and indents
one space per level, ending with ``return``, exactly like ``display current-configuration``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

OrderKey = Callable[["str | Block"], tuple[Any, ...]]


@dataclass
class Block:
    """One view's configuration: ``header`` is the command that enters it ("" for the root)."""

    kind: str
    header: str = ""
    items: list[str | Block] = field(default_factory=list)

    def blocks(self) -> Iterator[Block]:
        return (item for item in self.items if isinstance(item, Block))

    def lines(self) -> Iterator[str]:
        return (item for item in self.items if isinstance(item, str))

    def find(self, header: str) -> Block | None:
        return next((b for b in self.blocks() if b.header == header), None)

    def enter(self, kind: str, header: str) -> Block:
        """The sub-block ``header``, created empty when missing."""
        found = self.find(header)
        if found is None:
            found = Block(kind, header)
            self.items.append(found)
        return found

    def set_line(self, line: str, key: str | None) -> None:
        """Add ``line``; when ``key`` is given, it replaces the line that starts with the same key."""
        if line in self.items:
            return
        if key is not None:
            for index, item in enumerate(self.items):
                if isinstance(item, str) and (item == key or item.startswith(key + " ")):
                    self.items[index] = line
                    return
        self.items.append(line)

    def undo(self, prefix: str) -> None:
        """Remove every line equal to or starting with ``prefix``, here and in nested blocks."""
        self.items = [i for i in self.items if not (isinstance(i, str) and (i == prefix or i.startswith(prefix + " ")))]
        for block in self.blocks():
            block.undo(prefix)

    def remove_block(self, header: str) -> None:
        self.items = [i for i in self.items if not (isinstance(i, Block) and i.header == header)]

    def first(self, keyword: str) -> str | None:
        """The argument of the first line ``<keyword> <arg>`` (e.g. the sysname)."""
        return next((line.split(" ", 1)[1] for line in self.lines() if line.startswith(keyword + " ")), None)

    def to_json(self) -> dict[str, Any]:
        items = [i if isinstance(i, str) else i.to_json() for i in self.items]
        return {"kind": self.kind, "header": self.header, "items": items}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Block:
        items: list[str | Block] = [i if isinstance(i, str) else cls.from_json(i) for i in data["items"]]
        return cls(str(data["kind"]), str(data["header"]), items)


def render(root: Block, order: OrderKey, preamble: tuple[str, ...] = ()) -> list[str]:
    """The configuration as the device prints it, one string per line."""
    out = list(preamble)
    for item in sorted(root.items, key=order):
        out.append("#")
        out.extend([f" {item}"] if isinstance(item, str) else _render_block(item, 0))
    out.extend(["#", "return"])
    return out


def render_view(block: Block) -> list[str]:
    """``display this``: the current view alone (the root prints its global lines)."""
    if not block.header:
        return ["#", *(f" {line}" for line in block.lines()), "#", "return"]
    return ["#", *_render_block(block, 0), "#", "return"]


def _render_block(block: Block, depth: int) -> list[str]:
    pad = " " * depth
    out = [f"{pad}{block.header}"]
    for item in block.items:
        if isinstance(item, str):
            out.append(f"{pad} {item}")
        else:
            out.append(f"{pad} #")
            out.extend(_render_block(item, depth + 1))
    return out
