"""The commit and rollback engine: stage a candidate, diff it against the running configuration, type the change
line by line checking every reply, and on any refusal or dropped session bring the device back and prove it.

A commit types the merge commands in configuration mode one line at a time and reads each reply up to
the next prompt. The first reply carrying the platform's error text stops it: the engine rolls the
device back to the running configuration read before the change (the undo of every line added, then
the re-add of every line lost), reads it again to prove it, and raises
:class:`~nxgov.network.drivers.errors.CommandRejectedError` with the line and the device's words. A
session that drops mid-change is reopened once and rolled back the same way; when the device cannot
be reached again the error says it needs attention and carries the last line applied.

Given what nxgov made on the device before (``made``: every line it pushed and has not removed), the diff
also finds the lines of it the candidate no longer has and the device still holds (:func:`config.prune`);
with ``prune`` they are removed first, in the same commit, so a rollback restores them too. Without it
they are only counted (:attr:`ConfigDiff.stale`).
"""

from __future__ import annotations

from collections.abc import Callable

from nxgov.errors import InputError
from nxgov.network.drivers import config
from nxgov.network.drivers.changes import CommitResult, ConfigDiff
from nxgov.network.drivers.dialect import ConfigKind, Dialect
from nxgov.network.drivers.errors import CommandRejectedError, DeviceError, RollbackError, SessionDroppedError
from nxgov.network.drivers.failures import DROPPED, describe, lost_while_reading
from nxgov.network.drivers.session import CliSession


class ChangeEngine:
    """The staged change of one device, made through ``session``. ``rollback`` is what a failed commit and
    :meth:`revert_to` call to bring the device back (default: :meth:`rollback`; a driver passes its own, so a
    subclass of it can change the step)."""

    def __init__(self, session: CliSession, dialect: Dialect, rollback: Callable[[], None] | None = None) -> None:
        self.session = session
        self._rollback = rollback or self.rollback
        self.syntax = dialect.syntax
        self.dialect = dialect
        self.device = session.target.name
        self.before: str | None = None
        """The running configuration :meth:`compare_config` read (what a rollback returns to), None before it."""
        self._candidate: list[config.Node] | None = None
        self._made: list[config.Node] = []
        self._prune = False
        self._diff: ConfigDiff | None = None
        self._save_started = False

    def get_config(self, kind: ConfigKind = "running") -> str:
        """The running or saved configuration, as the device prints it."""
        try:
            return self.session.type(self.dialect.show_commands[kind])
        except DROPPED as error:
            raise lost_while_reading(self.device, error) from error

    def load_merge_candidate(self, config_text: str, made: str | None = None, prune: bool = False) -> None:
        """Stage ``config_text`` to be merged; ``made`` and ``prune`` as the module docstring says."""
        candidate = config.parse(config_text, self.syntax)
        if not candidate:
            raise InputError(f"{self.device}: the candidate configuration is empty",
                             "render the device's configuration first (nxgov net render)")
        self._candidate = candidate
        self._made = config.parse(made or "", self.syntax)
        self._prune = prune
        self._diff = None

    def compare_config(self) -> ConfigDiff:
        """What the merge would send; reads (and keeps, as the rollback point) the running configuration."""
        candidate = self._staged()
        self.before = self.get_config("running")
        running = config.parse(self.before, self.syntax)
        removals, pruned = config.prune(running, self._made, candidate, self.syntax)
        removing = sum(1 for step in config.commands(removals, self.syntax) if self._removes(step.line))
        if not self._prune:
            removals, pruned = [], running
        todo = config.missing(pruned, candidate, self.syntax)
        after = config.merged(pruned, todo)
        text = config.unified_diff(config.render(running, self.syntax), config.render(after, self.syntax),
                                   self.device)
        steps = (*config.commands(removals, self.syntax), *config.commands(todo, self.syntax))
        self._diff = ConfigDiff(self.device, steps, text, removing if self._prune else 0,
                                0 if self._prune else removing)
        return self._diff

    def commit_config(self) -> CommitResult:
        """Send the merge line by line, checking every reply, then save; roll back and raise on any error."""
        diff = self._diff if self._diff is not None else self.compare_config()
        self._diff = None
        if not diff:
            return CommitResult(self.device, (), ())
        applied: list[str] = []
        self._save_started = False
        try:
            self._apply(diff.steps, applied)
            self._save_started = True
            self._save()
        except CommandRejectedError as rejected:
            self._restore(f"the device rejected {rejected.line!r}")
            raise
        except DROPPED as error:
            self._recover_dropped(applied, error)
        except DeviceError as failed:
            self._restore(failed.message.removeprefix(f"{self.device}: "))
            raise
        return CommitResult(self.device, diff.commands, self._unconfirmed())

    def made(self) -> str:
        """What nxgov has made on the device once the staged change is committed: the candidate, and with no
        prune also the lines it made before (left on the device), as configuration text."""
        candidate = self._staged()
        tree = candidate if self._prune else config.merged(self._made, candidate)
        return "\n".join(config.render(tree, self.syntax)) + "\n"

    def rollback(self) -> None:
        """Bring the running configuration back to :attr:`before`, and prove it.

        Undoes every line added since, re-adds every line lost, reads the configuration again and
        compares (RollbackError when it still differs); saves when the change had got as far as saving.
        """
        if self.before is None:
            raise InputError(f"{self.device}: nothing to roll back to", "compare or commit first")
        before = config.parse(self.before, self.syntax)
        self._type_all(config.undo_commands(before, self._running_tree(), self.syntax), confirm=True)
        self._type_all([step.line for step in config.commands(config.missing(self._running_tree(), before,
                                                                              self.syntax), self.syntax)])
        remaining = config.differences(before, self._running_tree())
        if remaining:
            raise RollbackError(self.device, "a rollback was needed", remaining)
        if self._save_started:
            self._save()

    def revert_to(self, before: str) -> None:
        """Bring the running configuration back to ``before`` (a configuration this device printed) and save it, in
        a later session than the change's: the rollback path, with ``before`` as the point to return to."""
        self.before = before
        self._save_started = True
        self._rollback()

    def discard_config(self) -> None:
        """Forget the staged candidate (nothing was sent: merges are typed only by commit_config)."""
        self._candidate = None
        self._diff = None

    # -- internals ----------------------------------------------------------------------------------
    def _staged(self) -> list[config.Node]:
        if self._candidate is None:
            raise InputError(f"{self.device}: no candidate loaded", "call load_merge_candidate first")
        return self._candidate

    def _unconfirmed(self) -> tuple[str, ...]:
        """Candidate lines the device does not display after a commit (read back once)."""
        candidate = self._staged()
        try:
            running = self._running_tree()
        except DROPPED as error:
            return (f"(not read back: {describe(error)})",)
        left = [step for step in config.commands(config.missing(running, candidate, self.syntax), self.syntax)
                if step.line != self.syntax.leave]
        if self._prune:  # a removal the device did not carry out
            kept = config.prune(running, self._made, candidate, self.syntax)[0]
            left += [step for step in config.commands(kept, self.syntax) if self._removes(step.line)]
        return tuple(f"{step.view} > {step.line}" if step.view else step.line for step in left)

    def _removes(self, line: str) -> bool:
        return line.startswith(self.syntax.negation + " ")

    def _apply(self, steps: tuple[config.Step, ...], applied: list[str]) -> None:
        self.session.enter_config()
        for step in steps:
            reply = self.session.type(step.line)
            refusal = self.session.refusal(step.line, reply)
            if refusal is not None:
                raise CommandRejectedError(self.device, step.line, step.view, refusal)
            applied.append(step.line)
        self.session.exit_config()

    def _save(self) -> None:
        command = self.dialect.save_command
        refusal = self.session.refusal(command, self.session.type(command, confirm=True))
        if refusal is not None:
            raise DeviceError(self.device, f"saving the configuration failed: {refusal}")

    def _type_all(self, lines: list[str], confirm: bool = False) -> None:
        """Type ``lines`` in configuration mode, going on past refusals (a rollback does its best, then checks)."""
        if not lines:
            return
        self.session.enter_config()
        for line in lines:
            reply = self.session.type(line, confirm)
            if self.session.refusal(line, reply) is not None and self._removes(line):
                self._undo_shorter(line, confirm)
        self.session.exit_config()

    def _undo_shorter(self, line: str, confirm: bool) -> None:
        """``undo description foo`` refused: try ``undo description`` (many negations take no arguments)."""
        words = line.split()
        while len(words) > 2:
            words.pop()
            shorter = " ".join(words)
            if self.session.refusal(shorter, self.session.type(shorter, confirm)) is None:
                return

    def _running_tree(self) -> list[config.Node]:
        return config.parse(self.session.type(self.dialect.show_commands["running"]), self.syntax)

    def _restore(self, reason: str) -> None:
        """Leave configuration mode and roll back; a rollback that fails becomes the error to report."""
        try:
            self.session.exit_config()
            self._rollback()
        except RollbackError as failed:
            raise RollbackError(self.device, reason, failed.remaining) from None
        except DROPPED as error:
            raise SessionDroppedError(self.device, None, describe(error), "dropped in rollback", reason) from error

    def _recover_dropped(self, applied: list[str], error: BaseException) -> None:
        """Reopen the session and roll back; raise SessionDroppedError saying whether that worked."""
        last = next((line for line in reversed(applied) if line != self.syntax.leave), None)
        cause = describe(error)
        self.session.close()
        try:
            self.session.open()
        except (DeviceError, *DROPPED) as again:
            self.session.close()
            raise SessionDroppedError(self.device, last, cause, "not reconnected", describe(again)) from error
        try:
            self._rollback()
        except RollbackError as failed:
            self.session.close()
            still = ", ".join(repr(line) for line in failed.remaining[:5])
            raise SessionDroppedError(self.device, last, cause, "rollback failed",
                                      f"still different: {still}") from error
        except (DeviceError, *DROPPED) as again:
            self.session.close()
            raise SessionDroppedError(self.device, last, cause, "rollback failed", describe(again)) from error
        raise SessionDroppedError(self.device, last, cause, "rolled back") from error
