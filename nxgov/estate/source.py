"""Read YAML into plain data while remembering where every key and value came from.

This is the only place nxgov parses estate YAML. Each value gets a :class:`Location` keyed by its
path (``("systems", 3, "placement", "primary")``) so every later check can point the operator at a
file and line. A directory estate is the merge of its YAML files: mappings merge key by key, lists
concatenate, and a scalar set to two different values in two files is a problem.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml.resolver

from nxgov.errors import Problem

PathKey = tuple[str | int, ...]

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings an estate file may have (the estate itself needs 6)."""
MAX_SCALAR = 65_536
"""Longest text value or key, in characters."""
MAX_ALIAS_NODES = 100_000
"""How many more values than it has characters a file may hold through aliases (``*name``): a file can
spell out at most one value per character, so this bounds a "billion laughs" and no real estate meets it."""
MAX_ENTRIES = 100_000
"""Most files and directories an estate directory may hold, all levels together: the walk stops there."""
HOOKS_DIR = "hooks"
"""The folder of an estate directory holding the departments' migration hook playbooks (not read as the estate)."""

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.SafeLoader("")
_IMPLICIT_TAG: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = yaml.resolver.Resolver().resolve
_YAML_TAG = "tag:yaml.org,2002:"
_STR_TAG = _YAML_TAG + "str"
_SEQ_TAG = _YAML_TAG + "seq"
_MAP_TAG = _YAML_TAG + "map"
_MERGE_TAG = _YAML_TAG + "merge"
_VALUE_TAG = _YAML_TAG + "value"
# Characters YAML 1.1 does not allow in a stream (control characters, surrogates, U+FFFE/U+FFFF).
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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
    try:
        is_dir = stat.S_ISDIR(root.stat().st_mode)
    except OSError as exc:
        missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
        source.problems.append(Problem(display(root), None, "", "no such file or directory" if missing else
                                       f"cannot read it: {exc.strerror}",
                                       "pass --estate PATH (a YAML file or a directory of YAML files)"))
        return source
    files = _yaml_files(root, source.problems) if is_dir else [root]
    if files is None:
        return source
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


def _yaml_files(root: Path, problems: list[Problem]) -> list[Path] | None:
    """The *.yaml and *.yml names under ``root``, sorted (None when there are too many entries to be an estate);
    ``root/hooks`` (the departments' hook playbooks, :data:`HOOKS_DIR`) is not estate data and is left out.

    Only names are listed here: each file is opened, and refused if unreadable or not a regular file, when it is
    read. A directory that cannot be listed is a problem (it may hide estate files); one that vanishes is skipped,
    and so are symbolic links to directories.
    """
    unlistable: list[Problem] = []

    def unlisted(exc: OSError) -> None:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            unlistable.append(Problem(display(Path(exc.filename or root)), None, "",
                                      f"cannot list the directory: {exc.strerror}",
                                      "check its permissions: estate files in it would be missed"))

    files: list[Path] = []
    entries = 0
    for folder, dirs, names in os.walk(root, onerror=unlisted):
        if Path(folder) == root and HOOKS_DIR in dirs:
            dirs.remove(HOOKS_DIR)
        entries += len(dirs) + len(names)
        if entries > MAX_ENTRIES:
            problems.append(Problem(display(root), None, "", f"the directory holds more than {MAX_ENTRIES:,} "
                                    "files and directories: not an estate directory",
                                    "point --estate at an estate directory such as inventories/ningxia"))
            return None
        files += [Path(folder, n) for n in names if n.endswith((".yaml", ".yml"))]
    problems += unlistable
    return sorted(files)


@dataclass(frozen=True)
class PlainYaml:
    """One YAML file read as the estate's files are: its data, where each path starts, and its problems."""

    data: Any
    marks: _Marks | None
    problems: list[Problem]


def read_plain_yaml(file: Path) -> PlainYaml:
    """Read one YAML file with the estate's refusals and limits (tags, merge keys, alias expansions, depth, size).

    For other files nxgov reads that must be plain data (credentials files). ``data`` is None when the file could
    not be read at all; otherwise refused values are left out and each is in ``problems``.
    """
    problems: list[Problem] = []
    parsed = _read_one(file, problems)
    return PlainYaml(None, None, problems) if parsed is None else PlainYaml(*parsed, problems)


def _read_one(file: Path, problems: list[Problem]) -> tuple[Any, _Marks] | None:
    name = display(file)
    try:
        raw = _read_regular(file)
    except OSError as exc:
        hint = ("restore it, or remove the name (a symbolic link to nothing?)" if exc.errno == errno.ENOENT
                else "check its permissions")
        problems.append(Problem(name, None, "", f"cannot read the file: {exc.strerror}", hint))
        return None
    if raw is None:
        problems.append(Problem(name, None, "", "not a regular file (a pipe, socket or device?)",
                                "an estate file is a regular YAML file: remove or rename this one"))
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
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        problems.append(Problem(name, line, "", f"a control character (U+{ord(bad.group()):04X}) YAML does not allow "
                                "in a file", "remove it: an estate file is text", column=bad.start() -
                                text.rfind("\n", 0, bad.start())))
        return None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        problems.append(Problem(name, None, "", f"nested more than {MAX_DEPTH} levels deep",
                                "flatten the lists and mappings: the estate needs a few levels only"))
        return None
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
    walker = _Walker(name, problems, len(text))
    try:
        return walker.value(node, ()), walker.marks
    except _Abandon:
        return None


def _read_regular(file: Path) -> bytes | None:
    """The bytes of ``file``, or None if it is not a regular file (opened without blocking: a pipe would hang)."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read()


class _Abandon(Exception):
    """The rest of the file is not read: the problem that says why is already recorded."""


_REFUSED = object()


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


class _Walker:
    """Turn a composed YAML node tree into plain data, recording locations and duplicate keys.

    Refused, each with a located problem: explicit tags (but ``!!str``, which makes any value text, and a
    standard tag that repeats what the value is anyway, such as ``!!int 3``), merge keys (``<<``), value keys (``=``),
    text longer than :data:`MAX_SCALAR`; the file is abandoned when it nests deeper than :data:`MAX_DEPTH`
    or its aliases make it hold more than :data:`MAX_ALIAS_NODES` values beyond its size in characters.
    """

    def __init__(self, file: str, problems: list[Problem], size: int) -> None:
        self.file = file
        self.problems = problems
        self.marks = _Marks(file)
        self._active: set[int] = set()
        self._budget = self._left = size + MAX_ALIAS_NODES

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def value(self, node: yaml.Node, path: PathKey) -> Any:
        self._left -= 1
        if self._left < 0:
            self._problem(node, path, f"too many alias expansions: the aliases (*name) make the file hold more than "
                          f"{self._budget:,} values", "write the values out, or nest fewer aliases in aliases")
            raise _Abandon
        self.marks.marks.setdefault(path, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            text: str = node.value
            if node.tag == _STR_TAG and len(text) <= MAX_SCALAR:
                return text
            scalar = self._scalar(node, path)
            return None if scalar is _REFUSED else scalar
        if node.tag != (_SEQ_TAG if isinstance(node, yaml.SequenceNode) else _MAP_TAG):
            self._tag_problem(node, path)
            return None
        if len(path) >= MAX_DEPTH:
            self._problem(node, path, f"nested more than {MAX_DEPTH} levels deep",
                          "flatten the lists and mappings: the estate needs a few levels only")
            raise _Abandon
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

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> Any:
        """The scalar's value, or _REFUSED (with a problem recorded)."""
        value: str = node.value
        if len(value) > MAX_SCALAR:
            self._problem(node, path, f"a value of {len(value):,} characters (at most {MAX_SCALAR:,})",
                          "keep long content out of the estate and refer to it by a path or URL")
            return _REFUSED
        if node.tag == _STR_TAG:
            return value
        if node.tag != (_STR_TAG if node.style else _IMPLICIT_TAG(yaml.ScalarNode, value, (True, False))):
            self._tag_problem(node, path)
            return _REFUSED
        if node.tag in (_MERGE_TAG, _VALUE_TAG):
            self._problem(node, path, f"{value!r} is a YAML {node.tag.removeprefix(_YAML_TAG)} key",
                          f"quote it to mean the text: '{value}'")
            return _REFUSED
        try:
            return _CONSTRUCTOR.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self._problem(node, path, f"{value!r} reads as a YAML {node.tag.removeprefix(_YAML_TAG)} but is not "
                          f"a valid one ({exc})", f"quote it to mean the text: '{value}'")
            return _REFUSED

    def _tag_problem(self, node: yaml.Node, path: PathKey) -> None:
        self._problem(node, path, f"YAML tag {_tag_name(node.tag)!r} is not allowed: the estate is plain data",
                      "remove the tag (quote the value if it is meant as text)")

    def _mapping(self, node: yaml.Node, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._problem(key_node, path, "merge keys ('<<') are not supported",
                              "write the keys out in this mapping (an alias may stand for a whole value: key: *name)")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                key = None
            elif key_node.tag == _STR_TAG and len(key_node.value) <= MAX_SCALAR:
                key = key_node.value
            else:
                key = self._scalar(key_node, path)
            if key is _REFUSED:
                continue
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
