"""The CLI's progress hook, driven by the real runner, renders every target and names failures."""

from __future__ import annotations

import io

from rich.console import Console

from nxgov.cli.progress import ProgressHook, make_progress
from nxgov.errors import OperationError
from nxgov.runner import Outcome, run


def _task(name: str) -> Outcome:
    if name == "ce-b":
        raise OperationError("device refused the login", "check the credentials entry")
    return Outcome(changed=name == "ce-a")


def test_progress_hook_reports_each_target_and_failures() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False)
    with make_progress(console) as progress:
        result = run(_task, ["ce-a", "ce-b", "ce-c"], name="push", hooks=[ProgressHook(progress)], workers=2)
    text = buffer.getvalue()
    assert [r.status.value for r in result.results] == ["changed", "failed", "ok"]
    assert "3/3" in text
    assert "ce-b: device refused the login" in text
    assert "1 failed" in text
