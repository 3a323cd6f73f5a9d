"""Hostile or odd YAML in an estate file: each gives a located problem and exit 2, never a traceback or a hang.

Explicit tags are refused, except ``!!str`` (the value is text) and a standard tag saying what the value
already is (``!!int 3``, ``!!map {...}``);
merge keys (``<<``) are refused; alias expansion is bounded; nesting depth and scalar size are bounded.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nxgov.errors import EstateError
from nxgov.estate import load_estate
from tests.conftest import Run
from tests.estate.test_broken_estates import BASE

HEAD = "estate: test\n"


def _laughs(levels: int) -> str:
    text = "bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    previous = "a"
    for name in "bcdefghij"[:levels]:
        text += f"  {name}: &{name} [{', '.join(['*' + previous] * 10)}]\n"
        previous = name
    return text


CASES = [
    ("unknown-tag-on-scalar", HEAD + "clouds: !foo x\n", 2, "clouds", "YAML tag '!foo'"),
    ("int-tag-on-text", "estate: !!int abc\nclouds: {}\n", 1, "estate", "YAML tag '!!int'"),
    ("python-tag", HEAD + "clouds: !!python/name:os.system\n", 2, "clouds", "YAML tag '!!python/name:os.system'"),
    ("int-tag-on-quoted", HEAD + "clouds: {}\ndescription: !!int '123'\n", 3, "description", "YAML tag '!!int'"),
    ("tag-on-list", HEAD + "clouds: !foo [a]\n", 2, "clouds", "YAML tag '!foo'"),
    ("tag-on-map", HEAD + "clouds: !foo {a: 1}\n", 2, "clouds", "YAML tag '!foo'"),
    ("set-tag", HEAD + "clouds: !!set {a, b}\n", 2, "clouds", "YAML tag '!!set'"),
    ("tag-on-key", HEAD + "!foo clouds: {}\n", 2, "", "YAML tag '!foo'"),
    ("merge-key", "base: &base {cloud: nx-a, role: primary}\n" + HEAD
     + "clouds:\n  yinchuan:\n    <<: *base\n", 5, "clouds.yinchuan", "merge keys ('<<') are not supported"),
    ("value-key", HEAD + "clouds: {}\ndescription: =\n", 3, "description", "'=' is a YAML value key"),
    ("bad-date", HEAD + "clouds: {}\ndescription: 2026-13-45\n", 3, "description", "not a valid one"),
    ("billion-laughs", HEAD + "clouds: {}\n" + _laughs(7), None, "bomb.", "too many alias expansions"),
    ("deep-lists", HEAD + "clouds: " + "[" * 900 + "]" * 900 + "\n", 2, "clouds", "nested more than"),
    ("deep-maps", HEAD + "clouds: " + "{a: " * 900 + "1" + "}" * 900 + "\n", 2, "clouds", "nested more than"),
    ("huge-scalar", HEAD + "clouds: {}\ndescription: " + "x" * 1_000_000 + "\n", 3, "description",
     "1,000,000 characters"),
    ("control-bytes", HEAD + "clouds: {}\ndescription: a\x00b\n", 3, "", "control character"),
]


@pytest.mark.parametrize(("name", "text", "line", "path", "message"), CASES, ids=[c[0] for c in CASES])
def test_hostile_yaml_is_a_located_problem(name: str, text: str, line: int | None, path: str, message: str,
                                           tmp_path: Path, nxgov: Callable[..., Run]) -> None:
    (tmp_path / "estate.yaml").write_text(text, encoding="utf-8")
    started = time.monotonic()
    result = nxgov("-o", "json", "estate", "validate", str(tmp_path / "estate.yaml"))
    assert time.monotonic() - started < 20
    assert result.code == 2, result.err[-2000:]
    assert "Traceback" not in result.err + result.out
    located = [p for p in result.json()["problems"] if message in p["message"]]
    assert located, result.err[-2000:]
    assert located[0]["file"].endswith("estate.yaml") and located[0]["line"] == (line or located[0]["line"])
    assert located[0]["line"] and located[0]["path"].startswith(path) and located[0]["hint"]
    assert len(result.out) < 100_000, "a problem must not echo a huge value"


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """10^9 leaves in a few hundred bytes: refused once the expansion budget is spent, not built (the time it takes
    is bench/foundation.py's to measure)."""
    (tmp_path / "estate.yaml").write_text(HEAD + "clouds: {}\n" + _laughs(9), encoding="utf-8")
    with pytest.raises(EstateError) as raised:
        load_estate(tmp_path / "estate.yaml")
    assert any("too many alias expansions" in p.message for p in raised.value.problems)


def test_redundant_standard_tags_and_plain_aliases_are_honoured(tmp_path: Path) -> None:
    text = BASE.replace("estate: test", "estate: !!str test").replace(
        "  extranet: {file: /etc/nxgov/extranet.yaml}", "  extranet: &cred {file: /etc/nxgov/extranet.yaml}\n"
        "  extranet2: *cred").replace("level: 3", "level: !!int 3").replace(
        "estate: !!str test", "estate: !!str test\ndescription: !!str 2026")
    (tmp_path / "estate.yaml").write_text(text, encoding="utf-8")
    loaded = load_estate(tmp_path / "estate.yaml")
    assert loaded.estate.estate == "test" and loaded.estate.systems[0].level == 3
    assert loaded.estate.description == "2026"
    assert loaded.estate.credentials["extranet2"] == loaded.estate.credentials["extranet"]


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_load_leaves_the_garbage_collector_as_it_found_it(valid: bool, tmp_path: Path) -> None:
    (tmp_path / "estate.yaml").write_text(BASE if valid else BASE.replace("level: 3", "level: x"), encoding="utf-8")
    assert gc.isenabled()
    try:
        load_estate(tmp_path / "estate.yaml")
    except EstateError:
        assert not valid
    assert gc.isenabled()
    gc.disable()
    try:
        try:
            load_estate(tmp_path / "estate.yaml")
        except EstateError:
            assert not valid
        assert not gc.isenabled()
    finally:
        gc.enable()
