"""What a staged change would do and what a committed one did: the results of compare_config and commit_config."""

from __future__ import annotations

from dataclasses import dataclass

from nxgov.network.drivers import config


@dataclass(frozen=True)
class ConfigDiff:
    """What a merge of the candidate would do: the lines to type (with their views) and a unified diff."""

    device: str
    steps: tuple[config.Step, ...]
    text: str
    removed: int = 0
    """Lines among the steps that remove what nxgov made and the candidate no longer has (with prune)."""
    stale: int = 0
    """Such lines left on the device because the merge does not prune."""

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(step.line for step in self.steps)

    def __bool__(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True)
class CommitResult:
    """A committed change. ``unconfirmed`` lists candidate lines the device took but does not display."""

    device: str
    commands: tuple[str, ...]
    unconfirmed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.commands)
