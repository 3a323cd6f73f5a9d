"""Rich progress display for the CLI: a runner hook and a step printer for long operations."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from nxgov.runner import BaseHook, RunResult, Status, TargetResult


def make_progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[last]}"), console=console, transient=False)


class ProgressHook(BaseHook):
    """One bar per runner task, advanced as each target finishes; failures are printed as they happen."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def task_started(self, name: str, targets_count: int) -> None:
        self._tasks[name] = self.progress.add_task(name, total=targets_count, last="")

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        self.progress.update(self._tasks[name], advance=1, last=f"{result.name}: {result.status}")
        if result.status is Status.failed:
            self.progress.console.print(f"[red]✗[/] {result.name}: {result.error}", soft_wrap=True)

    def task_finished(self, name: str, run_result: RunResult[Any]) -> None:
        self.progress.update(self._tasks[name], last=f"{len(run_result.failed)} failed" if run_result.failed
                             else "done")
