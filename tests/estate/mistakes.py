"""One mistake edited into a valid estate, and the checks that `estate validate` locates it: exit 2, the file and
line of the edit, the field path, what was wrong and the hint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import Run


@dataclass(frozen=True)
class Case:
    name: str
    old: str
    new: str
    path: str
    message: str
    hint: str = ""
    line_offset: int | None = 0  # the reported line, counted from the edit; None: not checked


def expected_line(base: str, case: Case) -> int | None:
    """The line `estate validate` reports ``case`` at in ``base`` edited (None: not checked)."""
    if case.line_offset is None:
        return None
    return base[: base.index(case.old)].count("\n") + 1 + case.line_offset


def assert_located(base: str, case: Case, tmp_path: Path, nxgov: Callable[..., Run]) -> Run:
    """Write ``base`` with ``case`` edited in as ``tmp_path/estate.yaml``, validate it through the CLI and check the
    mistake is reported where it was made; the CLI's result."""
    assert case.old in base, f"case {case.name} does not apply to BASE"
    text = base.replace(case.old, case.new, 1)
    estate = tmp_path / "estate.yaml"
    estate.write_text(text, encoding="utf-8")

    result = nxgov("estate", "validate", str(estate))

    assert result.code == 2, result.err
    assert case.message in result.err
    if case.hint:
        assert case.hint in result.err
    located = [ln for ln in result.err.splitlines() if case.message in ln]
    assert located and "estate.yaml:" in located[0], result.err
    if case.path:
        assert case.path in located[0], result.err
    line = expected_line(base, case)
    if line is not None:
        assert f"estate.yaml:{line}:" in located[0], located[0]
    return result
