"""A pytest plugin: with CI set, as root, a skipped test fails the run (loaded by tests/conftest.py).

In CI as root every test must run: a skip there means a capability was decided from what a machine happened to
have installed, and it hides a failure. The allow-list names the skips that are right even then, each with why.
"""

from __future__ import annotations

import os

import pytest

SKIPS_ALLOWED_IN_CI: dict[str, str] = {}
"""Test node id -> why skipping it in CI as root is right. None today."""


def strict() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no") and os.geteuid() == 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A skipped test (not an expected failure) is reported as failed, unless allow-listed."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and strict() and item.nodeid not in SKIPS_ALLOWED_IN_CI:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"skipped in CI as root ({reason}): install what the test needs in scripts/test.sh, "
                           f"or add it to SKIPS_ALLOWED_IN_CI in tests/strict_skips.py with the reason")
