"""``estate generate`` checks its options before writing anything (issue 9: a bad --name made an invalid estate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.estate.generate import generate


@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
def test_bad_name_is_refused_and_nothing_written(dry_run: bool, tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    result = nxgov("estate", "generate", "--scale", "region", "--name", "BAD NAME", "--out", str(out),
                   *(["--dry-run"] if dry_run else []))
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert "--name" in result.err and "'BAD NAME' is not a valid code" in result.err
    assert "lower-case" in result.err
    assert not out.exists()
    assert not (tmp_path / "audit.jsonl").exists() or "estate generate" not in (tmp_path / "audit.jsonl").read_text()


def test_good_name_is_used() -> None:
    assert generate("region", "ningxia-test")["estate.yaml"]["estate"] == "ningxia-test"


def test_unknown_scale_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown scale 'huge'"):
        generate("huge")
