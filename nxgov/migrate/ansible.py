"""Run one of nxgov's playbooks (or a department's hook) through ansible-runner, one artifact folder per run.

The run's folder (``<state dir>/migrate/runs/<run id>-<system>-<verb>/``) is ansible-runner's private data
directory: the inventory nxgov generated (``inventory/hosts.json``), the extra variables, and under
``artifacts/`` the event stream, stdout and status of each playbook run in it (one ``ident`` per playbook).
Nothing secret is written there: logins are key files named by path, and the only secret-bearing thing, the
SSH agent, is a socket passed in the environment.

Ansible runs with pipelining, host keys checked strictly against nxgov's own ``known_hosts`` (the hosts were
trusted on first use, and audited, before the run: :mod:`nxgov.migrate.reach`), the Python interpreter of each
host given in the inventory (found at the preflight login, so Ansible does not discover it), and ``ansible-playbook``
taken from the Python environment nxgov runs in. Ansible's sessions to a host share one SSH connection (an OpenSSH
ControlMaster) for the run and never beyond it: nxgov opens the masters as the run starts (they log in while
ansible-playbook starts), in a directory of the run's own (:func:`masters`), short enough for a socket path,
linked from the run folder as ``ssh-masters``, and ends them when the run's playbooks are done, whatever happened
(a master kept would keep the run's SSH agent); the next run of the system ends those of a killed nxgov
(:func:`end_masters`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nxgov.errors import OperationError
from nxgov.processes import end_leftovers

MASTERS = "ssh-masters"
"""The run folder's link to the directory of the run's SSH masters."""
MASTERS_PREFIX = "nxgov-ssh-"
MASTER_IDLE_S = 60
"""A master no session uses any more ends by itself after this long (nxgov ends it before, with the run)."""
STOP_TIMEOUT_S = 5.0
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


def ssh_options(known_hosts: Path, control: Path | None = None) -> list[str]:
    """The OpenSSH client options of every connection nxgov's playbooks make (``control``: the run's directory of
    masters, see :func:`masters`) and of the copies' tunnels (no ``control``: each its own connection)."""
    sharing = (["-o", "ControlMaster=auto", "-o", f"ControlPersist={MASTER_IDLE_S}s",
                "-o", f"ControlPath={control}/%C"] if control is not None else ["-o", "ControlMaster=no"])
    return [*sharing, "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3", "-o", "ConnectTimeout=10"]


def master_command(ssh_args: Sequence[str], host: str, port: int, user: str, key: Path | None,
                   forward_agent: bool) -> list[str]:
    """The command that opens the run's SSH master to ``host`` ahead of Ansible's first session there (``ssh_args``:
    :func:`ssh_options` with the run's directory of masters; the socket's name is OpenSSH's hash of the host, port
    and user, the same as Ansible's sessions get): it backgrounds itself once logged in (``-f``)."""
    login = ["-o", "IdentitiesOnly=yes", "-i", str(key)] if key is not None else []
    return ["ssh", "-f", "-N", *ssh_args, *login, "-o", f"ForwardAgent={'yes' if forward_agent else 'no'}",
            "-p", str(port), "-l", user, host]


@contextmanager
def masters(folder: Path, commands: Callable[[Path], Sequence[list[str]]] = lambda _control: [],
            env: Mapping[str, str] | None = None) -> Iterator[Path]:
    """A directory for the run's SSH masters (in the temporary directory: a socket's path must stay under ~100
    bytes, which a run folder may not), linked from ``folder``; yields it, then ends the masters and removes it,
    also when the body fails. ``commands(directory)`` (see :func:`master_command`) are started at once, with
    ``env`` added to the environment (the run's SSH agent: a master forwards its own agent to the sessions that
    ask), and not waited for: the masters log in while ansible-playbook starts, and a session that comes before its
    master is up opens one of its own (one that fails leaves the error to Ansible's session)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    control = Path(tempfile.mkdtemp(prefix=MASTERS_PREFIX))
    try:
        (folder / MASTERS).symlink_to(control)
    except OSError:
        shutil.rmtree(control, ignore_errors=True)
        raise
    started: list[subprocess.Popen[bytes]] = []
    try:
        for argv in commands(control):
            started.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}))
        yield control
    finally:
        end_masters(folder)
        for process in started:
            process.wait()


def end_masters(folder: Path) -> list[int]:
    """End the SSH masters of the run in ``folder`` (and any session still using them; a master's process title
    names its socket in the run's directory), remove that directory and the link. Returns the PIDs ended."""
    link = folder / MASTERS
    if not link.is_symlink():
        return []
    control = Path(os.readlink(link))
    ended: list[int] = []
    if control.name.startswith(MASTERS_PREFIX):
        ended = end_leftovers(control, STOP_TIMEOUT_S)
        shutil.rmtree(control, ignore_errors=True)
    link.unlink(missing_ok=True)
    return ended


def ansible_env(known_hosts: Path, control: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every playbook run (``control``: the run's directory of SSH masters): see the module
    docstring."""
    ssh_args = ssh_options(known_hosts, control)
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
