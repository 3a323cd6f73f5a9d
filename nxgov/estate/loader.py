"""Load an estate: read the YAML, validate every section, check cross-references, report all at once."""

from __future__ import annotations

import gc
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from nxgov.errors import EstateError, Problem
from nxgov.estate import checks
from nxgov.estate.errors import problems_from
from nxgov.estate.model import Department, Device, Estate, Extranet, Plane, Site, System
from nxgov.estate.source import Location, PathKey, Source, read_estate_files

log = logging.getLogger(__name__)

SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|private[_-]?key|api[_-]?key)")

_LISTS: dict[tuple[str, ...], type[BaseModel]] = {
    ("departments",): Department,
    ("systems",): System,
    ("extranet", "planes"): Plane,
    ("extranet", "sites"): Site,
    ("extranet", "devices"): Device,
}
_IDENTITY = {Department: "code", System: "code", Plane: "name", Site: "code", Device: "name"}


@dataclass
class LoadedEstate:
    """A validated estate, the files it came from, and where each of its parts is declared."""

    estate: Estate
    path: Path
    source: Source

    @property
    def files(self) -> list[Path]:
        return self.source.files

    def locate(self, path: PathKey) -> Location | None:
        return self.source.locate(path)


@dataclass
class Invalid:
    """Identities of items that failed validation: references to them are not reported twice."""

    names: dict[type[BaseModel], set[str]]
    header_keys: set[str]

    def has(self, model: type[BaseModel], name: str) -> bool:
        return name in self.names.get(model, set())


def load_estate(path: Path) -> LoadedEstate:
    """Load and check the estate at ``path`` (a YAML file or a directory); raise EstateError listing every problem.

    The cyclic garbage collector is paused meanwhile: loading builds hundreds of thousands of acyclic objects
    at full scale, and its repeated collections would otherwise take most of the time (2.7x, measured).
    """
    log.debug("reading the estate at %s", path)
    started = time.perf_counter()
    paused = gc.isenabled()
    gc.disable()
    try:
        loaded = _load(path)
    finally:
        if paused:
            gc.enable()
    log.info("loaded estate %s from %d file(s) in %.2f s", loaded.estate.estate, len(loaded.files),
             time.perf_counter() - started)
    return loaded


def _load(path: Path) -> LoadedEstate:
    source = read_estate_files(path)
    problems = list(source.problems)
    if source.files and not source.data and not problems:
        problems.append(source.problem((), "the estate is empty", "declare at least 'estate' and 'clouds'"))
    problems += _remove_secrets(source, source.data, ())
    estate: Estate | None = None
    if source.data:
        estate, invalid, found = _validate(source)
        problems += found
        if estate is not None:
            problems += checks.cross_check(estate, source, invalid)
    if problems:
        raise EstateError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.path)))
    assert estate is not None
    return LoadedEstate(estate=estate, path=path, source=source)


def _remove_secrets(source: Source, node: Any, path: PathKey) -> list[Problem]:
    """Refuse secret-looking keys (and drop them so they are reported once, not again as unknown keys)."""
    found: list[Problem] = []
    if isinstance(node, dict):
        for key in list(node):
            if SECRET_KEY.search(key):
                found.append(source.problem((*path, key), f"{key!r} looks like a secret: the estate holds none",
                                            "keep it in clouds.yaml/secure.yaml, or in a 0600 file or environment "
                                            "variables named by an entry of 'credentials' ({file: ...} or {env: ...})"))
                del node[key]
            else:
                found += _remove_secrets(source, node[key], (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _remove_secrets(source, item, (*path, i))
    return found


def _validate(source: Source) -> tuple[Estate | None, Invalid, list[Problem]]:
    problems: list[Problem] = []
    invalid = Invalid(names={}, header_keys=set())
    data = dict(source.data)
    extranet = data.get("extranet")
    if isinstance(extranet, dict):
        data["extranet"] = extranet = dict(extranet)
    for path, model in _LISTS.items():
        container = data if len(path) == 1 else extranet
        if not isinstance(container, dict) or path[-1] not in container:
            continue
        items = container[path[-1]]
        if not isinstance(items, list):
            problems.append(source.problem(path, f"expected a list, got {type(items).__name__}",
                                           f"write {path[-1]} as a list of items, each starting with '- '"))
            container[path[-1]] = []
            continue
        container[path[-1]] = _validate_items(source, path, model, items, invalid, problems)
    if isinstance(extranet, dict):
        extranet_model, bad = _validate_mapping(source, ("extranet",), Extranet, extranet,
                                                {"prefix": "2001:db8::/32"}, problems)
        invalid.header_keys |= {f"extranet.{k}" for k in bad}
        data["extranet"] = extranet_model
    estate, bad = _validate_mapping(source, (), Estate, data, {"estate": "invalid", "clouds": {}}, problems)
    invalid.header_keys |= bad
    return estate, invalid, problems


def _validate_items(source: Source, path: PathKey, model: type[BaseModel], items: list[Any], invalid: Invalid,
                    problems: list[Problem]) -> list[Any]:
    """Validate a list in one go; when that fails, item by item, so each bad item is reported and the rest kept."""
    try:
        return TypeAdapter(list[model]).validate_python(items)  # type: ignore[valid-type]
    except ValidationError:
        pass
    good: list[Any] = []
    for i, item in enumerate(items):
        try:
            good.append(model.model_validate(item))
        except ValidationError as exc:
            problems += problems_from(exc.errors(), source, (*path, i), model)
            ident = item.get(_IDENTITY[model]) if isinstance(item, dict) else None
            if ident is not None:
                invalid.names.setdefault(model, set()).add(str(ident))
    return good


def _validate_mapping(source: Source, path: PathKey, model: type[BaseModel], data: dict[str, Any],
                      placeholders: dict[str, Any], problems: list[Problem]) -> tuple[Any, set[str]]:
    """Validate a mapping; on errors, report them and retry without the bad keys so checks can still run."""
    try:
        return model.model_validate(data), set()
    except ValidationError as exc:
        problems += problems_from(exc.errors(), source, path, model)
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    retry = {k: v for k, v in data.items() if k not in bad and k in model.model_fields}
    for key, value in placeholders.items():
        retry.setdefault(key, value)
    try:
        return model.model_validate(retry), bad
    except ValidationError:
        return None, bad
