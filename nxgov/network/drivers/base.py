"""One interface per platform, in the spirit of NAPALM, on top of netmiko.

::

    with driver(target, options) as device:
        device.load_merge_candidate(text)
        diff = device.compare_config()      # what would be sent, and a unified diff for people
        if diff:
            device.commit_config()          # send line by line, check each reply, save; roll back on any error

A commit types the merge commands in configuration mode one line at a time and reads each reply up to
the next prompt. The first reply carrying the platform's error text stops it: the driver rolls the
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

import logging
import re
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Literal, Protocol, runtime_checkable

import paramiko
from netmiko.base_connection import BaseConnection
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadException, ReadTimeout
from netmiko.session_log import SessionLog

from nxgov.errors import InputError
from nxgov.network.drivers import config
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.errors import (
    AuthenticationError,
    CommandRejectedError,
    DeviceError,
    RollbackError,
    SessionDroppedError,
    UnreachableError,
)
from nxgov.network.drivers.hostkeys import KnownHosts

log = logging.getLogger(__name__)

ConfigKind = Literal["running", "saved"]
DROPPED = (OSError, EOFError, paramiko.SSHException, ReadException)
"""What a session that died (or stopped answering) raises from netmiko and paramiko."""
_QUESTION = re.compile(r"\[[Yy]/[Nn]\]\s*:?\s*$")
_TAIL = 4096


@dataclass(frozen=True)
class Target:
    """A device to connect to: the estate's name, platform and address, with its resolved login."""

    name: str
    platform: str
    host: str
    port: int
    credentials: Credentials


@dataclass(frozen=True)
class SessionOptions:
    """How sessions are opened: the trusted host keys, the directory of session logs (``<device>.log``,
    secrets removed; None for none), and timeouts in seconds."""

    known_hosts: KnownHosts
    session_logs: Path | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 60.0


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


@runtime_checkable
class StateReader(Protocol):
    """What a driver that can read a device's operational state offers (for ``nxgov net verify``)."""

    def interface_name(self, port: int) -> str:
        """The name the platform's renderer gives link port ``port`` by default (an estate-given name wins)."""

    def get_bgp_sessions(self) -> dict[str, str]:
        """Every IPv6 BGP neighbor (address as configured) and its session state (``Established``, ``Active``...)."""

    def get_interfaces(self) -> dict[str, bool]:
        """Every interface and whether it is operationally up."""

    def get_ipv6_routes(self) -> dict[str, tuple[str, ...]]:
        """Every IPv6 prefix in the routing table and the interfaces of its selected route's active next hops."""


class Driver:
    """A session with one device. Subclasses set the platform's commands, texts and netmiko class."""

    platform: ClassVar[str]
    connection_class: ClassVar[type[BaseConnection]]
    syntax: ClassVar[config.Syntax]
    show_commands: ClassVar[dict[ConfigKind, str]]
    error: ClassVar[re.Pattern[str]]
    """Matches a reply line in which the device refuses a command."""
    prompt: ClassVar[str]
    """Matches the prompt at the end of what the device printed."""
    config_commands: ClassVar[tuple[str, str]]
    """The commands that enter and leave configuration mode."""
    config_prompt: ClassVar[re.Pattern[str]]
    """Matches a prompt of configuration mode."""

    def __init__(self, target: Target, options: SessionOptions) -> None:
        self.target = target
        self.options = options
        self._conn: BaseConnection | None = None
        self._candidate: list[config.Node] | None = None
        self._made: list[config.Node] = []
        self._prune = False
        self._before: str | None = None
        self._diff: ConfigDiff | None = None
        self._reply_end = re.compile(f"(?:{self.prompt}|{_QUESTION.pattern})")
        self._prompt = ""
        self._typed_at = ""
        self._save_started = False

    # -- session ------------------------------------------------------------------------------------
    def open(self) -> None:
        """Log in (UnreachableError, AuthenticationError or HostKeyChangedError when that fails)."""
        creds = self.target.credentials
        conn = self.connection_class(
            host=self.target.host, port=self.target.port, username=creds.username, password=creds.password or "",
            use_keys=creds.ssh_key is not None, key_file=str(creds.ssh_key) if creds.ssh_key else None,
            passphrase=creds.passphrase, allow_agent=False, conn_timeout=self.options.connect_timeout,
            auth_timeout=self.options.connect_timeout, banner_timeout=self.options.connect_timeout,
            session_log=self._session_log(), auto_connect=False,
        )
        known, name = self.options.known_hosts, self.target.name
        # netmiko builds its paramiko client in _build_ssh_client: use ours (trust on first use, then strict)
        conn._build_ssh_client = lambda: known.client(name)  # type: ignore[method-assign]
        log.debug("%s: opening an SSH session to %s:%d as %s", name, self.target.host, self.target.port,
                  creds.username)
        try:
            conn._open()
        except Exception as error:
            conn.disconnect()
            mapped = self._login_error(error)
            log.debug("%s: login failed: %s", name, mapped)
            if mapped is error:
                raise
            raise mapped from error
        log.info("%s: SSH session open (%s)", name, self.target.platform)
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            log.debug("%s: closing the SSH session", self.target.name)
            self._conn.disconnect()
            self._conn = None

    def __enter__(self) -> Driver:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def session_log_path(self) -> Path | None:
        """Where this device's session is logged (appended to), if anywhere."""
        logs = self.options.session_logs
        return logs / f"{self.target.name}.log" if logs is not None else None

    # -- NAPALM-like interface ----------------------------------------------------------------------
    def get_config(self, kind: ConfigKind = "running") -> str:
        """The running or saved configuration, as the device prints it."""
        try:
            return self._show(self.show_commands[kind])
        except DROPPED as error:
            raise self._lost_while_reading(error) from error

    def load_merge_candidate(self, config_text: str, made: str | None = None, prune: bool = False) -> None:
        """Stage ``config_text`` (in the device's display format) to be merged into the running configuration.

        ``made`` is what nxgov made on the device before (see the module docstring); with ``prune`` the lines
        of it that ``config_text`` lacks are removed in the same change.
        """
        candidate = config.parse(config_text, self.syntax)
        if not candidate:
            raise InputError(f"{self.target.name}: the candidate configuration is empty",
                             "render the device's configuration first (nxgov net render)")
        self._candidate = candidate
        self._made = config.parse(made or "", self.syntax)
        self._prune = prune
        self._diff = None

    def compare_config(self) -> ConfigDiff:
        """What the merge would send; reads (and keeps, as the rollback point) the running configuration."""
        if self._candidate is None:
            raise InputError(f"{self.target.name}: no candidate loaded", "call load_merge_candidate first")
        self._before = self.get_config("running")
        running = config.parse(self._before, self.syntax)
        removals, pruned = config.prune(running, self._made, self._candidate, self.syntax)
        removing = sum(1 for step in config.commands(removals, self.syntax) if self._removes(step.line))
        if not self._prune:
            removals, pruned = [], running
        todo = config.missing(pruned, self._candidate, self.syntax)
        after = config.merged(pruned, todo)
        text = config.unified_diff(config.render(running, self.syntax), config.render(after, self.syntax),
                                   self.target.name)
        steps = (*config.commands(removals, self.syntax), *config.commands(todo, self.syntax))
        self._diff = ConfigDiff(self.target.name, steps, text, removing if self._prune else 0,
                                0 if self._prune else removing)
        return self._diff

    def commit_config(self) -> CommitResult:
        """Send the merge line by line, checking every reply, then save; roll back and raise on any error."""
        diff = self._diff if self._diff is not None else self.compare_config()
        self._diff = None
        if not diff:
            return CommitResult(self.target.name, (), ())
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
            self._restore(failed.message.removeprefix(f"{self.target.name}: "))
            raise
        return CommitResult(self.target.name, diff.commands, self._unconfirmed())

    def _unconfirmed(self) -> tuple[str, ...]:
        """Candidate lines the device does not display after a commit (read back once)."""
        assert self._candidate is not None
        try:
            running = self._running_tree()
        except DROPPED as error:
            return (f"(not read back: {_describe(error)})",)
        left = [step for step in config.commands(config.missing(running, self._candidate, self.syntax), self.syntax)
                if step.line != self.syntax.leave]
        if self._prune:  # a removal the device did not carry out
            kept = config.prune(running, self._made, self._candidate, self.syntax)[0]
            left += [step for step in config.commands(kept, self.syntax) if self._removes(step.line)]
        return tuple(f"{step.view} > {step.line}" if step.view else step.line for step in left)

    def _removes(self, line: str) -> bool:
        return line.startswith(self.syntax.negation + " ")

    def made(self) -> str:
        """What nxgov has made on the device once the staged change is committed: the candidate, and with no
        prune also the lines it made before (left on the device), as configuration text."""
        if self._candidate is None:
            raise InputError(f"{self.target.name}: no candidate loaded", "call load_merge_candidate first")
        tree = self._candidate if self._prune else config.merged(self._made, self._candidate)
        return "\n".join(config.render(tree, self.syntax)) + "\n"

    def rollback(self) -> None:
        """Bring the running configuration back to what :meth:`compare_config` read, and prove it.

        Undoes every line added since, re-adds every line lost, reads the configuration again and
        compares (RollbackError when it still differs); saves when the change had got as far as saving.
        """
        if self._before is None:
            raise InputError(f"{self.target.name}: nothing to roll back to", "compare or commit first")
        before = config.parse(self._before, self.syntax)
        self._type_all(config.undo_commands(before, self._running_tree(), self.syntax), confirm=True)
        self._type_all([step.line for step in config.commands(config.missing(self._running_tree(), before,
                                                                              self.syntax), self.syntax)])
        remaining = config.differences(before, self._running_tree())
        if remaining:
            raise RollbackError(self.target.name, "a rollback was needed", remaining)
        if self._save_started:
            self._save()

    @property
    def before(self) -> str | None:
        """The running configuration :meth:`compare_config` read (what a rollback returns to), None before it."""
        return self._before

    def revert_to(self, before: str) -> None:
        """Bring the running configuration back to ``before`` (a configuration this device printed) and save it,
        in a later session than the change's (``net push --confirm-within`` unconfirmed): :meth:`rollback`'s
        path, with ``before`` as the point to return to; RollbackError when the device still differs."""
        self._before = before
        self._save_started = True
        self.rollback()

    def cli(self, command: str) -> str:
        """The device's reply to one show command (UnreachableError when the session is lost meanwhile)."""
        try:
            return self._show(command)
        except DROPPED as error:
            raise UnreachableError(self.target.name, f"the session was lost during {command!r} "
                                   f"({_describe(error)})", "check the link to the device and retry") from error

    def discard_config(self) -> None:
        """Forget the staged candidate (nothing was sent: merges are typed only by commit_config)."""
        self._candidate = None
        self._diff = None

    # -- platform hooks -----------------------------------------------------------------------------
    def enter_config(self) -> None:
        """Enter configuration mode with one exchange (netmiko's config_mode takes four)."""
        command = self.config_commands[0]
        self._type(command)
        if not self.config_prompt.search(self._prompt):
            raise DeviceError(self.target.name, f"{command!r} did not open configuration mode "
                              f"(the prompt is {self._prompt!r})", "check the account's privilege level")

    def exit_config(self) -> None:
        self._type(self.config_commands[1])

    def save_command(self) -> str:
        raise NotImplementedError

    # -- internals ----------------------------------------------------------------------------------
    @property
    def connection(self) -> BaseConnection:
        if self._conn is None:
            raise InputError(f"{self.target.name}: the session is not open", "call open() or use the driver in a with")
        return self._conn

    def _show(self, command: str) -> str:
        return self._type(command)

    def _apply(self, steps: tuple[config.Step, ...], applied: list[str]) -> None:
        self.enter_config()
        for step in steps:
            reply = self._type(step.line)
            refusal = self._refusal(step.line, reply)
            if refusal is not None:
                raise CommandRejectedError(self.target.name, step.line, step.view, refusal)
            applied.append(step.line)
        self.exit_config()

    def _save(self) -> None:
        reply = self._type(self.save_command(), confirm=True)
        refusal = self._refusal(self.save_command(), reply)
        if refusal is not None:
            raise DeviceError(self.target.name, f"saving the configuration failed: {refusal}")

    def _type(self, line: str, confirm: bool = False) -> str:
        """Type ``line`` and return the reply up to the next prompt (answering yes to a question if ``confirm``)."""
        conn = self.connection
        conn.write_channel(conn.normalize_cmd(line))
        reply = self._read_reply()
        if _QUESTION.search(reply):
            if not confirm:
                raise DeviceError(self.target.name, f"{line!r} asked a question: {reply.strip().splitlines()[-1]}",
                                  "nxgov answers questions only when saving and rolling back; change the candidate")
            reply += self._type("y")
        self._typed_at, self._prompt = self._prompt, reply.rstrip().rsplit("\n", 1)[-1].strip()
        return _after_echo(reply, line)

    def _read_reply(self) -> str:
        """Read until the output ends with a prompt or a question, sleeping until data arrives (no polling)."""
        conn, channel = self.connection, self.connection.remote_conn
        assert isinstance(channel, paramiko.Channel)
        deadline = time.monotonic() + self.options.command_timeout
        output = ""
        while True:
            output += conn.read_channel()
            if self._reply_end.search(output[-_TAIL:]):
                return output
            if channel.closed or (channel.eof_received and not channel.recv_ready()):
                raise EOFError("the device closed the session")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReadTimeout(f"no prompt within {self.options.command_timeout:.0f} s")
            select.select([channel], [], [], min(remaining, 0.5))

    def _refusal(self, line: str, reply: str) -> str | None:
        """The device's words when ``reply`` refuses ``line``, pointing at the part it objected to."""
        lines = reply.splitlines()
        for index, text in enumerate(lines):
            if self.error.search(text):
                caret = lines[index - 1] if index and lines[index - 1].strip() == "^" else ""
                column = caret.index("^") - len(self._typed_at) if caret else -1
                near = f" (at {line[column:]!r})" if 0 <= column < len(line) else ""
                return text.strip() + near
        return None

    def _type_all(self, lines: list[str], confirm: bool = False) -> None:
        """Type ``lines`` in configuration mode, going on past refusals (a rollback does its best, then checks)."""
        if not lines:
            return
        self.enter_config()
        for line in lines:
            reply = self._type(line, confirm)
            if self._refusal(line, reply) is not None and line.startswith(self.syntax.negation + " "):
                self._undo_shorter(line, confirm)
        self.exit_config()

    def _undo_shorter(self, line: str, confirm: bool) -> None:
        """``undo description foo`` refused: try ``undo description`` (many negations take no arguments)."""
        words = line.split()
        while len(words) > 2:
            words.pop()
            if self._refusal(" ".join(words), self._type(" ".join(words), confirm)) is None:
                return

    def _running_tree(self) -> list[config.Node]:
        return config.parse(self._show(self.show_commands["running"]), self.syntax)

    def _lost_while_reading(self, error: BaseException) -> UnreachableError:
        return UnreachableError(self.target.name, f"the session was lost while reading the configuration "
                                f"({_describe(error)}); nothing was changed", "check the link to the device and retry")

    def _restore(self, reason: str) -> None:
        """Leave configuration mode and roll back; a rollback that fails becomes the error to report."""
        try:
            self.exit_config()
            self.rollback()
        except RollbackError as failed:
            raise RollbackError(self.target.name, reason, failed.remaining) from None
        except DROPPED as error:
            raise SessionDroppedError(self.target.name, None, _describe(error), "dropped in rollback",
                                      reason) from error

    def _recover_dropped(self, applied: list[str], error: BaseException) -> None:
        """Reopen the session and roll back; raise SessionDroppedError saying whether that worked."""
        last = next((line for line in reversed(applied) if line != self.syntax.leave), None)
        cause = _describe(error)
        self.close()
        try:
            self.open()
        except (DeviceError, *DROPPED) as again:
            self.close()
            raise SessionDroppedError(self.target.name, last, cause, "not reconnected", _describe(again)) from error
        try:
            self.rollback()
        except RollbackError as failed:
            self.close()
            still = ", ".join(repr(line) for line in failed.remaining[:5])
            raise SessionDroppedError(self.target.name, last, cause, "rollback failed",
                                      f"still different: {still}") from error
        except (DeviceError, *DROPPED) as again:
            self.close()
            raise SessionDroppedError(self.target.name, last, cause, "rollback failed", _describe(again)) from error
        raise SessionDroppedError(self.target.name, last, cause, "rolled back") from error

    def _session_log(self) -> SessionLog | None:
        path = self.session_log_path
        if path is None:
            return None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        secrets = {f"secret{index}": secret for index, secret in enumerate(self.target.credentials.secrets)}
        return SessionLog(file_name=str(path), file_mode="append", no_log=secrets, record_writes=True)

    def _login_error(self, error: BaseException) -> BaseException:
        name, where = self.target.name, f"{self.target.host} port {self.target.port}"
        if isinstance(error, DeviceError):
            return error
        if isinstance(error, NetmikoAuthenticationException | paramiko.AuthenticationException):
            return AuthenticationError(name, f"{where} refused the login as {self.target.credentials.username!r}",
                                       "check the device's credentials entry in the estate (file or environment)")
        if isinstance(error, NetmikoTimeoutException | OSError | EOFError | paramiko.SSHException | ReadException):
            return UnreachableError(name, f"cannot reach {where}: {_describe(error)}",
                                    "check that the device is up and that its host and port in the estate are right")
        return error


def _after_echo(reply: str, line: str) -> str:
    """The device's reply without the echo of the typed line and without the prompt that ends it."""
    lines = reply.replace("\r", "").split("\n")[:-1]
    if lines and line.strip() and lines[0].strip().endswith(line.strip()):
        lines = lines[1:]
    return "\n".join(lines)


def _describe(error: BaseException) -> str:
    """A one-line reason for a transport failure (netmiko's own messages are pages long), or nxgov's own message."""
    if isinstance(error, DeviceError):
        return error.message.removeprefix(f"{error.device}: ")
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, NetmikoTimeoutException):
        text = str(error)
        if "TCP connection to device failed" in text:
            return "TCP connection failed (refused or timed out)"
        return " ".join(text.split())[:200]
    if isinstance(error, ReadException):
        return "the device stopped answering"
    if isinstance(error, EOFError):
        return "the connection was closed"
    return " ".join(str(error).split())[:200] or type(error).__name__
