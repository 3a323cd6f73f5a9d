"""Walking an estate directory: odd entries give located problems (or are skipped), never a traceback or a hang.

A *.yaml name that cannot be read (a symbolic link to nothing, a pipe) is a problem; other names are never
opened; a directory that cannot be listed is a problem, one that vanishes mid-walk is skipped.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nxgov.estate import source
from nxgov.estate.source import read_estate_files
from tests.conftest import Run
from tests.estate.test_broken_estates import BASE


def _estate_dir(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    root.mkdir()
    (root / "estate.yaml").write_text(BASE, encoding="utf-8")
    return root


def test_dangling_link_named_yaml_is_a_located_problem(tmp_path: Path, nxgov: Callable[..., Run]) -> None:
    root = _estate_dir(tmp_path)
    (root / "x.yaml").symlink_to(root / "gone.yaml")
    result = nxgov("-o", "json", "estate", "validate", str(root))
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    problems = [p for p in result.json()["problems"] if p["file"].endswith("x.yaml")]
    assert problems and "cannot read the file" in problems[0]["message"] and "link" in problems[0]["hint"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_pipe_named_yaml_is_refused_without_hanging(tmp_path: Path, nxgov: Callable[..., Run]) -> None:
    root = _estate_dir(tmp_path)
    os.mkfifo(root / "x.yaml")
    result = nxgov("-o", "json", "estate", "validate", str(root))
    assert result.code == 2, result.err
    problems = [p for p in result.json()["problems"] if p["file"].endswith("x.yaml")]
    assert problems and "not a regular file" in problems[0]["message"]
    result = nxgov("estate", "validate", str(root / "x.yaml"))
    assert result.code == 2 and "not a regular file" in result.err and "Traceback" not in result.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_other_names_are_never_opened(tmp_path: Path, nxgov: Callable[..., Run]) -> None:
    root = _estate_dir(tmp_path)
    (root / "notes.txt").symlink_to(root / "gone.txt")
    os.mkfifo(root / "queue")
    (root / "linked-dir").symlink_to(tmp_path / "no-such-dir")
    result = nxgov("estate", "validate", str(root))
    assert result.code == 0, result.err


def test_unlisted_and_vanished_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _estate_dir(tmp_path)
    for name in ("locked", "vanished"):
        (root / name).mkdir()
        (root / name / "more.yaml").write_text("estate: test\n", encoding="utf-8")
    scandir = os.scandir

    def flaky(path: Any) -> Iterator[os.DirEntry[str]]:
        name = Path(path).name
        if name in ("locked", "vanished"):
            code = errno.EACCES if name == "locked" else errno.ENOENT
            raise OSError(code, os.strerror(code), str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", flaky)
    found = read_estate_files(root)
    assert found.files == [root / "estate.yaml"]
    assert [(Path(p.file).name, p.message) for p in found.problems] == [
        ("locked", f"cannot list the directory: {os.strerror(errno.EACCES)}")]


def test_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _estate_dir(tmp_path)
    for i in range(5):
        (root / f"n{i}.txt").touch()
    monkeypatch.setattr(source, "MAX_ENTRIES", 4)
    found = read_estate_files(root)
    assert not found.files and len(found.problems) == 1 and "more than 4 files" in found.problems[0].message
