"""A private SSH agent for one migration run, holding the legacy host's key (forwarded to the targets' sessions).

The targets pull the data from the legacy host through the operations host, logging in with this agent: the key
stays on the operations host. The agent lives in a directory only the operator can enter, for one run, and is
stopped (by its PID) when the run ends. Without a key (the system's source has no credentials entry), the
operator's own agent (``SSH_AUTH_SOCK``) is used as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from nxgov.errors import OperationError

START_TIMEOUT_S = 10.0


class Agent:
    """``with Agent(key) as agent:`` ... ``agent.environment`` is what ansible's ssh needs to use it."""

    def __init__(self, key: Path | None) -> None:
        self.key = key
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self.environment: dict[str, str] = {}

    def __enter__(self) -> Agent:
        if self.key is None:
            sock = os.environ.get("SSH_AUTH_SOCK")
            self.environment = {"SSH_AUTH_SOCK": sock} if sock else {}
            return self
        self._dir = tempfile.mkdtemp(prefix="nxgov-agent-")
        sock = str(Path(self._dir) / "agent")
        self._process = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        import time

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
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
