"""nxgov's per-run SSH agent: a real ssh-agent holding the key, ready when entered, gone when left."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from nxgov.errors import OperationError
from nxgov.migrate.agent import Agent


def test_the_agent_holds_the_key_when_entered_and_is_gone_after(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nxgov-agent-test", "-f", str(key)],
                   check=True)
    for _ in range(10):  # entered straight after start: the socket must already accept (it once raced)
        with Agent(key) as agent:
            sock = agent.environment["SSH_AUTH_SOCK"]
            listed = subprocess.run(["ssh-add", "-l"], env={**os.environ, "SSH_AUTH_SOCK": sock},
                                    capture_output=True, text=True, check=False)
            assert listed.returncode == 0 and "nxgov-agent-test" in listed.stdout
        assert not Path(sock).exists() and not Path(sock).parent.exists()


def test_a_key_ssh_add_refuses_is_an_operation_error_naming_it(tmp_path: Path) -> None:
    key = tmp_path / "not-a-key"
    key.write_text("not a key\n")
    key.chmod(0o600)
    with pytest.raises(OperationError, match="could not load the legacy host's key"), Agent(key):
        pass


def test_without_a_key_the_operators_own_agent_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/user/0/operator-agent")
    with Agent(None) as agent:
        assert agent.environment == {"SSH_AUTH_SOCK": "/run/user/0/operator-agent"}
