"""A private SSH agent for one migration run, holding the legacy host's key (forwarded to the targets' sessions).

The targets pull the data from the legacy host through the operations host, logging in with this agent: the key
stays on the operations host. The agent lives in a directory only the operator can enter, for one run, and is
stopped (by its PID) when the run ends. Without a key (the system's source has no credentials entry), the
operator's own agent (``SSH_AUTH_SOCK``) is used as it is.

The agent cannot outlive nxgov, however nxgov ends: ssh-agent runs a watch shell as its command, reading a pipe
nxgov holds; when nxgov ends (SIGKILL included) the pipe closes, the shell exits, and ssh-agent, its command gone,
exits within 10 s and removes its socket and the socket's directory (its own, made by it). A killed run leaves no
agent holding the legacy host's key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from nxgov.errors import OperationError

START_TIMEOUT_S = 10.0
WATCH = 'echo "$SSH_AGENT_PID $SSH_AUTH_SOCK"; read -r _'
"""ssh-agent's command: says where the agent is, then waits until nxgov's end of its stdin closes."""


class Agent:
    """``with Agent(key) as agent:`` ... ``agent.environment`` is what ansible's ssh needs to use it."""

    def __init__(self, key: Path | None) -> None:
        self.key = key
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._sock: Path | None = None
        self.environment: dict[str, str] = {}

    def __enter__(self) -> Agent:
        if self.key is None:
            sock = os.environ.get("SSH_AUTH_SOCK")
            self.environment = {"SSH_AUTH_SOCK": sock} if sock else {}
            return self
        self._process = subprocess.Popen(["ssh-agent", "sh", "-c", WATCH], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self._process.stdout is not None
        said = self._process.stdout.readline().decode(errors="replace").split(maxsplit=1)
        if len(said) != 2 or not said[0].isdigit():
            self.__exit__(None, None, None)
            raise OperationError("ssh-agent did not start", "check that openssh-client is installed")
        self._pid, sock = int(said[0]), said[1].strip()
        self._sock = Path(sock)
        try:
            self._wait(sock)
            added = subprocess.run(["ssh-add", "-q", str(self.key)], env={**os.environ, "SSH_AUTH_SOCK": sock},
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=START_TIMEOUT_S)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        if added.returncode != 0:
            self.__exit__(None, None, None)
            raise OperationError(f"ssh-add could not load the legacy host's key {self.key} into nxgov's agent",
                                 "check that the file is an unencrypted OpenSSH private key readable by you")
        self.environment = {"SSH_AUTH_SOCK": sock}
        return self

    def _wait(self, sock: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        env = {**os.environ, "SSH_AUTH_SOCK": sock}
        while not Path(sock).exists() or subprocess.run(  # the socket is made before the agent listens on it:
                ["ssh-add", "-l"], env=env, stdin=subprocess.DEVNULL, capture_output=True,  # 2 = cannot connect
                timeout=START_TIMEOUT_S).returncode == 2:
            if (self._process is not None and self._process.poll() is not None) or time.monotonic() > deadline:
                raise OperationError("ssh-agent did not start", "check that openssh-client is installed")
            time.sleep(0.02)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pid is not None:  # the agent first (its watch shell alive, the PID cannot be another's yet)
            with suppress(ProcessLookupError):  # ended already (its watch shell ended by someone else)
                os.kill(self._pid, signal.SIGTERM)
            deadline = time.monotonic() + START_TIMEOUT_S
            while self._sock is not None and self._sock.parent.exists() and time.monotonic() < deadline:
                time.sleep(0.01)  # it removes its socket and the socket's directory as it ends
            self._pid = self._sock = None
        if self._process is not None:
            try:
                self._process.communicate(timeout=START_TIMEOUT_S)  # closes the pipe: the watch shell ends
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
