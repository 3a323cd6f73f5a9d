"""Random structural corruptions of the Ningxia sample: every run must end valid or with located problems.

Each mutation takes one file of inventories/ningxia, changes it (delete a key, change a type,
duplicate a list item, insert an unknown key, break the YAML text) and loads the estate. The only
acceptable outcomes are a loaded estate or an EstateError whose problems each name a file and say
what is wrong. Any other exception is a defect: the CLI would show a traceback.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from nxgov.errors import EstateError
from nxgov.estate import load_estate

SAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "ningxia"
RUNS = 300


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _nodes(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _nodes(value, (*path, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _mutate(data: Any, rng: random.Random) -> str:
    paths = [p for p in _nodes(data) if p]
    path = rng.choice(paths)
    parent, last = _get(data, path[:-1]), path[-1]
    kind = rng.choice(["delete", "type", "duplicate", "unknown", "null", "swap"])
    if kind == "delete":
        del parent[last]
    elif kind == "type":
        parent[last] = rng.choice([[1, 2], {"x": 1}, 42, "text", True, 3.5, "2001:db8::/33", "640000"])
    elif kind == "duplicate" and isinstance(parent, list):
        parent.append(parent[last])
    elif kind == "unknown" and isinstance(parent, dict):
        parent[rng.choice(["colour", "nmae", "levle", "secret_key", "passwd"])] = "x"
    elif kind == "null":
        parent[last] = None
    elif kind == "swap" and isinstance(parent, list) and len(parent) > 1:
        parent[0], parent[-1] = parent[-1], parent[0]
    return f"{kind} at {path}"


def _break_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    damages: list[Callable[[str], str]] = [
        lambda s: s.replace(":", "", 1), lambda s: "\t" + s, lambda s: s + " [", lambda s: s.replace("{", "", 1),
        lambda s: "   " + s, lambda s: s + " 'unclosed", lambda s: "- " + s, lambda s: s.replace("'", "", 1),
    ]
    damage = rng.choice(damages)
    lines[i] = damage(lines[i])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(RUNS))
def test_mutated_estate_loads_or_reports_problems(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    estate = tmp_path / "ningxia"
    shutil.copytree(SAMPLE, estate)
    target = rng.choice(sorted(estate.rglob("*.yaml")))
    text = target.read_text(encoding="utf-8")
    if seed % 4 == 0:
        target.write_text(_break_text(text, rng), encoding="utf-8")
    else:
        data = yaml.safe_load(text)
        for _ in range(rng.randint(1, 3)):
            _mutate(data, rng)
        target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        load_estate(estate)
    except EstateError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file.endswith(".yaml") or Path(problem.file).is_dir(), problem
            assert problem.message and "Traceback" not in problem.message


def test_cli_never_shows_a_traceback_for_mutations(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(2026)
    for i in range(5):
        estate = tmp_path / f"e{i}"
        shutil.copytree(SAMPLE, estate)
        target = rng.choice(sorted(estate.rglob("*.yaml")))
        target.write_text(_break_text(target.read_text(encoding="utf-8"), rng), encoding="utf-8")
        result = nxgov("estate", "validate", str(estate))
        assert result.code in (0, 2), result.err
        assert "Traceback" not in result.err
        if result.code == 2:
            assert ".yaml:" in result.err
