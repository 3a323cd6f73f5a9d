"""Translate pydantic validation errors into located problems an operator can act on."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from nxgov.errors import Problem
from nxgov.estate.source import PathKey, Source

_EXPECTED = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false", "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys", "model_attributes_type": "a mapping of keys", "list_type": "a list",
}


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest choice, or None."""
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def problems_from(errors: list[ErrorDetails], source: Source, base: PathKey, model: type[BaseModel]) -> list[Problem]:
    return [_problem(err, source, base, model) for err in errors]


def _problem(err: ErrorDetails, source: Source, base: PathKey, model: type[BaseModel]) -> Problem:
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or not _is_tag(p))
    path = (*base, *loc)
    kind, value = err["type"], err.get("input")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    hint: str | None = None
    if kind == "nxgov":
        message, hint = str(ctx["message"]), (str(ctx["hint"]) or None)
    elif kind == "missing":
        field = str(loc[-1])
        path = path[:-1]
        message = f"missing required field {field!r}"
        hint = f"add {field}: ({_description(model, loc) or 'see the estate reference in README'})"
    elif kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = sorted(owner.model_fields) if owner else []
        message = f"unknown key {loc[-1]!r}"
        guess = suggest(str(loc[-1]), allowed)
        hint = " ".join(x for x in (guess, f"allowed keys here: {', '.join(allowed)}" if allowed else None) if x)
    elif kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        message = f"{value!r} is not one of: {', '.join(choices)}"
        hint = suggest(str(value), choices)
    elif kind in _EXPECTED:
        got = _kind(value) if value is None else f"{_kind(value)} {_short(value)}"
        message = f"expected {_EXPECTED[kind]}, got {got}"
        desc = _description(model, loc)
        hint = f"{loc[-1]} is {desc}" if desc and loc and isinstance(loc[-1], str) else None
    elif kind == "string_pattern_mismatch":
        message = f"{value!r} is not a valid {loc[-1]}"
        hint = _description(model, loc)
    else:
        message = err["msg"].removeprefix("Value error, ")
        hint = _description(model, loc) if kind in ("greater_than_equal", "less_than_equal") else None
    return source.problem(path, message, hint)


def _is_tag(part: str) -> bool:
    """pydantic puts union/validator tags in ``loc``: they are not keys of the data."""
    return "[" in part or part in ("function-after", "function-before", "function-plain") or part.startswith(
        ("IPv4Network", "IPv6Network", "str", "int", "list", "dict", "literal"))


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _model_at(model: type[BaseModel], loc: PathKey) -> type[BaseModel] | None:
    """The model class whose fields the keys at ``loc`` are."""
    current: Any = model
    for part in loc:
        candidates = _unwrap(current)
        nxt: Any = None
        for cand in candidates:
            origin = typing.get_origin(cand)
            if isinstance(cand, type) and issubclass(cand, BaseModel) and isinstance(part, str):
                field = cand.model_fields.get(part)
                nxt = field.annotation if field else None
            elif origin in (list, dict):
                nxt = typing.get_args(cand)[-1]
            if nxt is not None:
                break
        if nxt is None:
            return None
        current = nxt
    found = [c for c in _unwrap(current) if isinstance(c, type) and issubclass(c, BaseModel)]
    return found[0] if found else None


def _description(model: type[BaseModel], loc: PathKey) -> str | None:
    if not loc or not isinstance(loc[-1], str):
        return None
    owner = _model_at(model, loc[:-1])
    field = owner.model_fields.get(loc[-1]) if owner else None
    return field.description if field else None


def _kind(value: Any) -> str:
    return {list: "a list", dict: "a mapping", str: "text", int: "a number", float: "a number",
            bool: "true/false", type(None): "nothing"}.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
