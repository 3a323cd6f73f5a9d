"""Run one of nxgov's playbooks (or a department's hook) through ansible-runner, one artifact folder per run.

The run's folder (``<state dir>/migrate/runs/<run id>-<system>-<verb>/``) is ansible-runner's private data
directory: the inventory nxgov generated (``inventory/hosts.json``), the extra variables, and under
``artifacts/`` the event stream, stdout and status of each playbook run in it (one ``ident`` per playbook).
Nothing secret is written there: logins are key files named by path, and the only secret-bearing thing, the
SSH agent, is a socket passed in the environment.

Ansible runs with pipelining, host keys checked strictly against nxgov's own ``known_hosts`` (the hosts were
trusted on first use, and audited, before the run: :mod:`nxgov.migrate.reach`), no SSH connection sharing
between runs (a persisted master would keep an old run's agent), and ``ansible-playbook`` taken from the Python
environment nxgov runs in.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nxgov.errors import OperationError

EVENT_STATUS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_unreachable": "unreachable",
                "runner_on_skipped": "skipped"}


@dataclass(frozen=True)
class TaskResult:
    """One task's end on one host, from the event stream."""

    host: str
    task: str
    status: str
    """ok, changed, failed, unreachable or skipped (a failure the playbook ignores is ``ok``)."""
    res: Mapping[str, Any]

    @property
    def message(self) -> str:
        """What went wrong, in one line: the module's msg, or the command's last stderr line, or its rc (of the
        first item that failed, for a task that loops)."""
        res = self.res
        items = [item for item in res.get("results") or [] if isinstance(item, dict) and item.get("failed")]
        if items:
            res = items[0]
        text = str(res.get("stderr") or "").strip().splitlines()
        msg = str(res.get("msg") or "").strip()
        if text and (not msg or msg.startswith("non-zero return code")):
            return f"{text[-1][:300]} (exit {res.get('rc')})"
        return (msg.splitlines() or [""])[0][:300] or f"exit {res.get('rc')}"


@dataclass
class PlaybookResult:
    playbook: str
    status: str
    """ansible-runner's: successful, failed, timeout or canceled."""
    rc: int
    results: list[TaskResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    @property
    def failure(self) -> TaskResult | None:
        return next((r for r in self.results if r.status in ("failed", "unreachable")), None)

    def registered(self, host: str, task: str) -> Mapping[str, Any] | None:
        """The result of ``task`` on ``host`` (the last one, for a task that looped)."""
        found = [r.res for r in self.results if r.host == host and r.task == task and r.status != "skipped"]
        return found[-1] if found else None


def ssh_options(known_hosts: Path) -> list[str]:
    """The OpenSSH client options of every connection nxgov's playbooks make (and of the copies' tunnels)."""
    return ["-o", "ControlMaster=no", "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3", "-o", "ConnectTimeout=10"]


def ansible_env(known_hosts: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every playbook run: see the module docstring."""
    ssh_args = ssh_options(known_hosts)
    bindir = str(Path(sys.executable).parent)
    return {
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_ARGS": shlex.join(ssh_args),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_SYSTEM_WARNINGS": "False",
        "ANSIBLE_TIMEOUT": "15",
        "PATH": f"{bindir}:/usr/sbin:/usr/bin:/sbin:/bin",
        **(extra or {}),
    }


def run_playbook(playbook: Path, *, folder: Path, ident: str, inventory: Mapping[str, Any],
                 extravars: Mapping[str, Any], env: Mapping[str, str],
                 on_task: Callable[[TaskResult], None] = lambda _r: None, forks: int = 5) -> PlaybookResult:
    """Run ``playbook`` with ansible-runner in ``folder`` (artifacts under ``folder/artifacts/ident``); ``on_task``
    is called as each task ends on each host (from the event stream, as it happens)."""
    import ansible_runner

    results: list[TaskResult] = []

    def handle(event: dict[str, Any]) -> bool:
        status = EVENT_STATUS.get(str(event.get("event")))
        if status is not None:
            data = event.get("event_data") or {}
            res = data.get("res") or {}
            if status == "ok" and res.get("changed"):
                status = "changed"
            if status == "failed" and data.get("ignore_errors"):
                status = "ok"
            result = TaskResult(str(data.get("host", "")), str(data.get("task", "")), status,
                                res if isinstance(res, dict) else {})
            results.append(result)
            on_task(result)
        return True

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        runner = ansible_runner.run(
            private_data_dir=str(folder), playbook=str(playbook), ident=ident, inventory=dict(inventory),
            extravars=dict(extravars), envvars=dict(env), event_handler=handle, quiet=True, forks=forks,
            settings={"suppress_ansible_output": True})
    except Exception as error:  # ansible-runner's own failures (a folder it cannot write, no ansible-playbook)
        raise OperationError(f"ansible-runner could not run {playbook.name}: {error}",
                             f"see {folder}; check that ansible-core is installed with nxgov") from error
    if runner.rc == 127:
        raise OperationError(f"ansible-playbook was not found to run {playbook.name}",
                             "reinstall nxgov with its dependencies (ansible-core comes with it)")
    return PlaybookResult(playbook.name, str(runner.status), int(runner.rc), results)
