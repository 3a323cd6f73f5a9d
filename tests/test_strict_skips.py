"""The strict-skip plugin: in CI as root a skip fails the run; elsewhere it stays a skip."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]

SAMPLE = """
import pytest

def test_skips():
    pytest.skip("a tool is not installed")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False

def test_passes():
    pass
"""


@pytest.mark.parametrize(("ci", "failed", "skipped"), [("true", 1, 0), ("", 0, 1)])
def test_a_skip_fails_only_in_ci_as_root(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str,
                                         failed: int, skipped: int) -> None:
    if os.geteuid() != 0:
        failed, skipped = 0, 1
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(SAMPLE)
    result = pytester.runpytest_inprocess("-p", "tests.strict_skips")
    result.assert_outcomes(passed=1, failed=failed, skipped=skipped, xfailed=1)
    if failed:
        result.stdout.fnmatch_lines(["*skipped in CI as root (Skipped: a tool is not installed)*"])
