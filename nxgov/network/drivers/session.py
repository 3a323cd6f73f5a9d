"""One SSH session with one device, through netmiko: log in (host keys checked, session logged without secrets),
type a line and read the reply up to the next prompt, enter and leave configuration mode."""

from __future__ import annotations

import logging
from pathlib import Path

from netmiko.base_connection import BaseConnection
from netmiko.session_log import SessionLog

from nxgov.errors import InputError
from nxgov.network.drivers import replies
from nxgov.network.drivers.dialect import Dialect
from nxgov.network.drivers.errors import DeviceError
from nxgov.network.drivers.failures import login_error
from nxgov.network.drivers.target import SessionOptions, Target

log = logging.getLogger(__name__)


class CliSession:
    """A session with ``target`` speaking ``dialect``; :meth:`open` logs in, :meth:`type` converses."""

    def __init__(self, target: Target, options: SessionOptions, dialect: Dialect) -> None:
        self.target = target
        self.options = options
        self.dialect = dialect
        self.prompt = ""
        """The prompt the last reply ended with."""
        self._conn: BaseConnection | None = None
        self._typed_at = ""
        self._end = replies.reply_end(dialect.prompt)

    @property
    def log_path(self) -> Path | None:
        """Where this device's session is logged (appended to), if anywhere."""
        return self.options.session_log(self.target.name)

    @property
    def connection(self) -> BaseConnection:
        if self._conn is None:
            raise InputError(f"{self.target.name}: the session is not open", "call open() or use the driver in a with")
        return self._conn

    def open(self) -> None:
        """Log in (UnreachableError, AuthenticationError or HostKeyChangedError when that fails).

        A key not known yet is trusted on first use (:meth:`KnownHosts.first_use`); netmiko then holds the session
        to the trusted keys with its own options."""
        target, creds, known = self.target, self.target.credentials, self.options.known_hosts
        timeout = self.options.connect_timeout
        log.debug("%s: opening an SSH session to %s:%d as %s", target.name, target.host, target.port, creds.username)
        try:
            known.first_use(target.name, target.host, target.port, timeout)
            self._conn = self.dialect.connection_class(
                host=target.host, port=target.port, username=creds.username, password=creds.password or "",
                use_keys=creds.ssh_key is not None, key_file=str(creds.ssh_key) if creds.ssh_key else None,
                passphrase=creds.passphrase, allow_agent=False, conn_timeout=timeout, auth_timeout=timeout,
                banner_timeout=timeout, session_log=self._session_log(), **known.netmiko_options(),
            )
        except Exception as error:
            mapped = login_error(target, str(known.path), error)
            log.debug("%s: login failed: %s", target.name, mapped)
            if mapped is error:
                raise
            raise mapped from error
        log.info("%s: SSH session open (%s)", target.name, target.platform)

    def close(self) -> None:
        if self._conn is not None:
            log.debug("%s: closing the SSH session", self.target.name)
            self._conn.disconnect()
            self._conn = None

    def type(self, line: str, confirm: bool = False) -> str:
        """Type ``line`` and return the reply up to the next prompt (answering yes to a question if ``confirm``)."""
        conn = self.connection
        conn.write_channel(conn.normalize_cmd(line))
        reply = replies.read_reply(conn, self._end, self.options.command_timeout)
        if replies.QUESTION.search(reply):
            if not confirm:
                raise DeviceError(self.target.name, f"{line!r} asked a question: {reply.strip().splitlines()[-1]}",
                                  "nxgov answers questions only when saving and rolling back; change the candidate")
            reply += self.type("y")
        self._typed_at, self.prompt = self.prompt, replies.last_line(reply)
        return replies.after_echo(reply, line)

    def refusal(self, line: str, reply: str) -> str | None:
        """The device's words when ``reply`` (to ``line``, just typed) refuses it."""
        return replies.refusal(self.dialect.error, line, reply, self._typed_at)

    def enter_config(self) -> None:
        """Enter configuration mode with one exchange (netmiko's config_mode takes four)."""
        command = self.dialect.config_commands[0]
        self.type(command)
        if not self.dialect.config_prompt.search(self.prompt):
            raise DeviceError(self.target.name, f"{command!r} did not open configuration mode "
                              f"(the prompt is {self.prompt!r})", "check the account's privilege level")

    def exit_config(self) -> None:
        self.type(self.dialect.config_commands[1])

    def _session_log(self) -> SessionLog | None:
        path = self.log_path
        if path is None:
            return None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        secrets = {f"secret{index}": secret for index, secret in enumerate(self.target.credentials.secrets)}
        return SessionLog(file_name=str(path), file_mode="append", no_log=secrets, record_writes=True)
