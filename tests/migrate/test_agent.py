"""nxgov's per-run SSH agent: a real ssh-agent holding the key, ready when entered, gone when left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie not yet reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_agent_ends_by_itself_when_nxgov_is_killed(tmp_path: Path) -> None:
    """nxgov SIGKILLed in a run (no __exit__): its agent, holding the legacy key, must not stay behind."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom nxgov.migrate.agent import Agent\n"
         f"with Agent(__import__('pathlib').Path({str(key)!r})) as agent:\n"
         "    print(agent.environment['SSH_AUTH_SOCK'], flush=True)\n    time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    sock = Path(holder.stdout.readline().strip())
    watch = sock.name.removeprefix("agent.")  # ssh-agent names its socket after its command: the watch shell
    found = subprocess.run(["pgrep", "-P", watch, "ssh-agent"], capture_output=True, text=True, check=False)
    (agent,) = map(int, found.stdout.split())  # the agent, the watch shell's child
    assert sock.exists()
    holder.kill()
    holder.wait()
    deadline = time.monotonic() + 20
    while _running(agent) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(agent)  # ended by itself, within ssh-agent's 10 s check of its command
    assert not sock.parent.exists()  # and removed its socket and folder as it ended
