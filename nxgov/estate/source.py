"""Read YAML into plain data while remembering where every key and value came from.

This is the only place nxgov parses estate YAML. Each value gets a :class:`Location` keyed by its
path (``("systems", 3, "placement", "primary")``) so every later check can point the operator at a
file and line. A directory estate is the merge of its YAML files: mappings merge key by key, lists
concatenate, and a scalar set to two different values in two files is a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nxgov.errors import Problem

PathKey = tuple[str | int, ...]

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.SafeLoader("")
_STR_TAG = "tag:yaml.org,2002:str"
# First characters with which a plain YAML 1.1 scalar may resolve to something other than text
# (numbers, booleans, null, timestamps, merge and value keys).
_MAYBE_NOT_TEXT = frozenset("0123456789+-.~<=yYnNtTfFoO")


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The C loader with a fast path for plain scalars that can only be text (most of an estate)."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and (not implicit[0] or (value and value[0] not in _MAYBE_NOT_TEXT)):
            return _STR_TAG
        return str(super().resolve(kind, value, implicit))


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int


class _Marks:
    """One file's parser marks by path; turned into :class:`Location` only when looked up."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[PathKey, yaml.Mark] = {}

    def __getitem__(self, key: PathKey) -> Location:
        mark = self.marks[key]
        return Location(self.file, mark.line + 1, mark.column + 1)


@dataclass
class Source:
    """Merged data of one estate plus the location of every path in it."""

    data: dict[str, Any] = field(default_factory=dict)
    marks: dict[PathKey, tuple[str, yaml.Mark]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def locate(self, path: PathKey) -> Location | None:
        """The location of ``path`` or of its nearest ancestor that exists in the files."""
        for end in range(len(path), -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return Location(found[0], found[1].line + 1, found[1].column + 1)
        return None

    def problem(self, path: PathKey, message: str, hint: str | None = None) -> Problem:
        loc = self.locate(path)
        return Problem(
            file=loc.file if loc else (display(self.files[0]) if self.files else "<estate>"),
            line=loc.line if loc else None,
            column=loc.column if loc else None,
            path=format_path(path),
            message=message,
            hint=hint,
        )


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def display(path: Path) -> str:
    """A path as the operator typed it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_estate_files(root: Path) -> Source:
    """Read ``root`` (a YAML file, or a directory of them, searched recursively) into one Source."""
    source = Source()
    if not root.exists():
        source.problems.append(Problem(display(root), None, "", "no such file or directory",
                                       "pass --estate PATH (a YAML file or a directory of YAML files)"))
        return source
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()) \
        if root.is_dir() else [root]
    if not files:
        source.problems.append(Problem(display(root), None, "", "the directory holds no YAML files (*.yaml, *.yml)",
                                       "point --estate at an estate directory such as inventories/ningxia"))
        return source
    source.files = files
    for file in files:
        parsed = _read_one(file, source.problems)
        if parsed is not None:
            _merge_file(source, file, *parsed)
    return source


def _read_one(file: Path, problems: list[Problem]) -> tuple[Any, _Marks] | None:
    name = display(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        problems.append(Problem(name, None, "", f"cannot read the file: {exc.strerror}", "check its permissions"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, line, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                                "save the file as UTF-8 (e.g. iconv -f GBK -t UTF-8)"))
        return None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        problems.append(Problem(name, None, "", "the file is empty",
                                "add estate content or remove the file from the estate directory"))
        return None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        problems.append(Problem(name, mark.line + 1 if mark else None, "", f"YAML syntax error: {what}",
                                "check indentation, quotes and ':' after keys near this line",
                                column=mark.column + 1 if mark else None))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(name, None, "", f"YAML error: {exc}", "fix the YAML syntax"))
        return None
    if node is None:
        problems.append(Problem(name, None, "", "the file is empty", "add estate content"))
        return None
    walker = _Walker(name, problems)
    return walker.value(node, ()), walker.marks


class _Walker:
    """Turn a composed YAML node tree into plain data, recording locations and duplicate keys."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.marks = _Marks(file)
        self._active: set[int] = set()

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def value(self, node: yaml.Node, path: PathKey) -> Any:
        self.marks.marks.setdefault(path, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR_TAG else _CONSTRUCTOR.construct_object(node)
        if id(node) in self._active:
            self._problem(node, path, "a YAML alias refers to itself", "remove the recursive anchor/alias")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: yaml.Node, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _CONSTRUCTOR.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)
            if not isinstance(key, str):
                self._problem(key_node, path, f"a key must be text, not {type(key).__name__} {key!r}",
                              "quote the key")
                continue
            if key in seen:
                self._problem(key_node, (*path, key), f"duplicate key {key!r} (first set at line {seen[key]})",
                              "keep one of the two; YAML would silently use the last")
                continue
            seen[key] = key_node.start_mark.line + 1
            self.marks.marks[(*path, key)] = key_node.start_mark
            out[key] = self.value(value_node, (*path, key))
        return out

    def _problem(self, node: yaml.Node, path: PathKey, message: str, hint: str) -> None:
        loc = self._loc(node)
        self.problems.append(Problem(self.file, loc.line, format_path(path), message, hint, column=loc.column))


def _merge_file(source: Source, file: Path, data: Any, locations: _Marks) -> None:
    name = display(file)
    if not isinstance(data, dict):
        source.problems.append(Problem(name, 1, "", f"the top level must be a mapping of keys, not {_kind(data)}",
                                       "start the file with keys such as 'departments:' or 'extranet:'"))
        return
    offsets: dict[PathKey, int] = {}
    _merge(source, source.data, data, (), locations, offsets)
    for key, mark in locations.marks.items():
        source.marks.setdefault(_shift(key, offsets) if offsets else key, (name, mark))


def _merge(source: Source, into: dict[str, Any], new: dict[str, Any], path: PathKey,
           locations: _Marks, offsets: dict[PathKey, int]) -> None:
    """Merge ``new`` into ``into``; record where concatenated lists start in ``offsets``."""
    for key, value in new.items():
        here = (*path, key)
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            _merge(source, into[key], value, here, locations, offsets)
        elif isinstance(into[key], list) and isinstance(value, list):
            offsets[here] = len(into[key])
            into[key].extend(value)
        elif into[key] != value:
            first = source.locate(here)
            loc = locations[here]
            source.problems.append(Problem(
                loc.file, loc.line, format_path(here),
                f"set again with a different value (first set in {first.file}:{first.line})" if first else
                "set again with a different value",
                "declare it in one file only", column=loc.column))


def _shift(key: PathKey, offsets: dict[PathKey, int]) -> PathKey:
    """Re-index a path of one file to its place in the merged lists (only top-down string paths concatenate)."""
    for i, part in enumerate(key):
        if isinstance(part, int):
            offset = offsets.get(key[:i])
            return key if not offset else (*key[:i], part + offset, *key[i + 1:])
    return key


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__)
