"""The copy's parts that need no lab: the data module's manifest (the same text as the shell pipeline it replaced),
the per-run SSH masters (made, used by a real ansible-runner run against a real sshd, ended with the run), the
interpreter found at the preflight login, and the copy's record read from the copy task's results."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nxgov.migrate import steps
from nxgov.migrate.agent import Agent
from nxgov.migrate.ansible import (
    MASTERS,
    TaskResult,
    ansible_env,
    end_masters,
    master_command,
    masters,
    run_playbook,
    ssh_options,
)
from nxgov.migrate.reach import Login, check
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.state import StateStore
from tests.conftest import ROOT
from tests.migrate.conftest import Sshd

PLAYBOOKS = ROOT / "playbooks" / "migrate"
# The manifest as playbooks/migrate/tasks/manifest.yml took it before the module did.
PIPELINE = """set -eu
for p in "$@"; do
  (cd "$p" && find . -path ./.nxgov-partial -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) \
    | sed "s#  \\./#  $p/#"
done
total=0
for p in "$@"; do
  b=$(find "$p" -path "$p/.nxgov-partial" -prune -o -type f -printf '%s\\n' | awk '{s += $1} END {printf "%.0f", s}')
  total=$((total + b))
done
echo "@@nxgov-bytes $total"
"""


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nxgov_data", PLAYBOOKS / "files" / "nxgov_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path) -> list[Path]:
    """Two data paths with nested folders, rsync's partial folder (top-level and nested), a symbolic link, an
    empty file and names sha256sum escapes."""
    first, second = tmp_path / "srv" / "data", tmp_path / "srv" / "more"
    for folder in (first / "a" / "b", first / ".nxgov-partial", first / "c" / ".nxgov-partial", second):
        folder.mkdir(parents=True)
    files = {first / "z.bin": os.urandom(3000), first / "a" / "b" / "deep.txt": b"deep\n", first / "a" / "A": b"",
             first / ".nxgov-partial" / "half.bin": b"partial", first / "c" / ".nxgov-partial" / "kept": b"kept",
             first / "back\\slash": b"b", first / "new\nline": b"n", first / "é.txt": b"utf-8",
             second / "one": b"1" * 70000}
    for path, content in files.items():
        path.write_bytes(content)
    (first / "link").symlink_to(first / "z.bin")
    return [first, second]


def test_the_manifest_is_the_text_the_shell_pipeline_printed(tree: list[Path]) -> None:
    old = subprocess.run(["sh", "-c", PIPELINE, "manifest", *map(str, tree)], capture_output=True, text=True,
                         check=True, env={**os.environ, "LC_ALL": "C.UTF-8"}).stdout
    lines = old.splitlines(keepends=True)
    text, files, total, warnings = _module().manifest([str(p) for p in tree])
    assert text == "".join(lines[:-1]) and lines[-1] == f"@@nxgov-bytes {total}\n"
    assert files == 8 == len(text.splitlines()) and warnings == []
    assert "kept" in text and "half.bin" not in text and "/link" not in text


def test_a_missing_data_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"data path {tmp_path}/gone is missing"):
        _module().manifest([str(tmp_path / "gone")])


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    """The program run as the copy task runs it: its text on the command line, its JSON arguments after it."""
    return subprocess.run([sys.executable, "-c", (PLAYBOOKS / "files" / "nxgov_data.py").read_text(), *args],
                          capture_output=True, text=True, check=False)


def test_the_program_prints_its_result_as_json_and_a_failure_on_stderr_too(tree: list[Path], tmp_path: Path) -> None:
    done = _program(json.dumps({"paths": [str(p) for p in tree]}))
    printed = json.loads(done.stdout)
    assert done.returncode == 0 and done.stderr == ""
    assert printed == {"changed": False, "warnings": [], "files": 8, "bytes": printed["bytes"],
                       "manifest": _module().manifest([str(p) for p in tree])[0]}
    gone = _program(json.dumps({"paths": [str(tmp_path / "gone")]}))
    assert gone.returncode == 1 and json.loads(gone.stdout)["failed"] is True
    assert gone.stderr == f"data path {tmp_path}/gone is missing\n"
    for bad in ["", "not json", "{}", '{"paths": "/x"}', '{"paths": []}', '{"paths": ["/x"], "copy_from": 1}']:
        done = _program(bad)
        assert done.returncode == 1 and done.stderr.startswith("nxgov_data: bad arguments: "), bad


def test_the_copy_is_the_rsync_the_benchmark_compares_against() -> None:
    argv = _module().rsync_argv({"user": "ops", "port": "42022", "known_hosts_file": "/var/lib/nxgov-migrate/x.kh",
                                 "io_timeout": "60", "bwlimit": "0"}, "/srv/x/data")
    assert argv[:8] == ["rsync", "--archive", "--delete", "--partial-dir=.nxgov-partial", "--stats",
                        "--no-human-readable", "--timeout=60", "--bwlimit=0"]
    assert argv[-2:] == ["ops@127.0.0.1:/srv/x/data/", "/srv/x/data/"]
    assert "-p 42022 -o HostKeyAlias=nxgov-source" in argv[9]


def _leftover(control: Path) -> subprocess.Popen[bytes]:
    """A process naming a socket in ``control`` on its command line, as a master's process title does."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"ssh: {control}/abc [mux]"])
    deadline = time.monotonic() + 10
    while process.pid not in _naming(control) and time.monotonic() < deadline:  # until it has exec'd
        time.sleep(0.01)
    return process


def test_the_runs_masters_directory_is_linked_and_everything_in_it_ended_after(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "000001-x-replicate"
    with masters(folder) as control:
        assert (folder / MASTERS).resolve() == control.resolve() and len(str(control)) < 40
        assert oct(control.stat().st_mode & 0o777) == "0o700"
        master = _leftover(control)
    assert master.wait(timeout=10) != 0
    assert not control.exists() and not (folder / MASTERS).is_symlink()
    assert end_masters(folder) == []


def test_a_killed_runs_masters_are_ended_by_the_next_run(tmp_path: Path) -> None:
    """nxgov killed: the link stays in the run folder; the next run's cleanup (end_masters) finds the masters."""
    folder = tmp_path / "000002-x-replicate"
    folder.mkdir()
    control = Path(subprocess.run(["mktemp", "-d", "/tmp/nxgov-ssh-XXXXXXXX"], capture_output=True, text=True,
                                  check=True).stdout.strip())
    (folder / MASTERS).symlink_to(control)
    master = _leftover(control)
    assert end_masters(folder) == [master.pid]
    assert master.wait(timeout=10) != 0 and not control.exists()


def test_the_tunnels_never_share_a_connection_and_ansibles_sessions_do(tmp_path: Path) -> None:
    assert "ControlMaster=no" in ssh_options(tmp_path / "known_hosts")
    args = shlex.split(ansible_env(tmp_path / "known_hosts", tmp_path / "m")["ANSIBLE_SSH_ARGS"])
    assert {"ControlMaster=auto", f"ControlPath={tmp_path}/m/%C"} <= set(args) and "ControlMaster=no" not in args


def _naming(control: Path) -> list[int]:
    """The processes with ``control`` on their command line."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if str(control).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
    return found


def _login(sshd: Sshd, host: str) -> Login:
    return Login("the test host", host, sshd.port, sshd.user, Credentials(sshd.user, ssh_key=sshd.client_key),
                 "the test key", "fix the key", "start sshd")


def test_a_real_run_shares_one_connection_per_host_and_its_master_ends_with_it(real_sshd: Sshd, tmp_path: Path,
                                                                              tree: list[Path]) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    python = check(known, "nxdrc-oa", _login(real_sshd, "127.0.0.1"))
    assert python is not None and Path(python).is_file()  # found at the preflight login: no discovery in the run
    playbook = tmp_path / "play" / "manifest.yml"
    playbook.parent.mkdir()
    (playbook.parent / "files").symlink_to(PLAYBOOKS / "files")
    copy = f"    - ansible.builtin.import_tasks: {PLAYBOOKS / 'tasks' / 'copy.yml'}\n"
    playbook.write_text("- hosts: source\n  gather_facts: false\n  tasks:\n" + copy * 2
                        + "    - name: the forwarded agent\n      ansible.builtin.command: ssh-add -l\n")
    inventory = {"all": {"children": {
        "source": {"hosts": {"h": {"ansible_host": "127.0.0.1", "ansible_port": real_sshd.port,
                                   "ansible_user": real_sshd.user, "ansible_python_interpreter": python,
                                   "ansible_ssh_private_key_file": str(real_sshd.client_key),
                                   "ansible_ssh_extra_args": "-o ForwardAgent=yes"}}},
        "targets": {"hosts": {}}}}}
    folder = tmp_path / "run"

    def master(control: Path) -> list[list[str]]:
        return [master_command(ssh_options(known.path, control), "127.0.0.1", real_sshd.port, real_sshd.user,
                               real_sshd.client_key, True)]

    with Agent(real_sshd.client_key) as agent, masters(folder, master, agent.environment) as control:
        deadline = time.monotonic() + 20
        while not any(control.iterdir()) and time.monotonic() < deadline:  # nxgov's master is up: the run uses it
            time.sleep(0.05)
        result = run_playbook(playbook, folder=folder, ident="t", inventory=inventory,
                              extravars={"nxgov_paths": [str(p) for p in tree]},
                              env=ansible_env(known.path, control, agent.environment), forks=2)
        sockets = list(control.iterdir())
        alive = _naming(control)
    assert result.ok, [r.res for r in result.results]
    assert [r.task for r in result.results[:2]] == [steps.COPY_TASK] * 2
    assert [steps.copy_result(r.res)["manifest"] for r in result.results[:2]] == [
        _module().manifest([str(p) for p in tree])[0]] * 2
    assert [r.status for r in result.results[:2]] == ["ok", "ok"]  # the source only hashes: nothing changed
    assert "test-client" in result.results[2].res["stdout"]  # the run's agent, forwarded by nxgov's master
    assert len(sockets) == 1 and len(alive) == 1  # one master, alive
    log = (real_sshd.directory / "sshd.log").read_text()
    assert log.count("Accepted publickey") == 2  # the preflight and nxgov's master (the run's two tasks use it)
    assert not control.exists() and _naming(control) == []


def _job(targets: list[str]) -> steps.Job:
    from nxgov.estate.model import System

    system = System.model_validate({"code": "nxdrc-oa", "name": "x", "department": "nxdrc", "level": 2,
                                    "placement": {"mode": "single", "node": "yinchuan"},
                                    "source": {"host": "2001:db8::10", "user": "ops", "paths": ["/srv/oa/data"]}})
    login = Login("the legacy host", "2001:db8::10", 22, "ops", None, "", "", "")
    return steps.Job(system, steps.VERBS["replicate"], login,
                     [steps.Target(name, "yinchuan", f"2001:db8::{i}", None) for i, name in enumerate(targets, 1)],
                     None, ([], []), None)


def _result(host: str, printed: dict[str, Any]) -> TaskResult:
    """The copy task's result on ``host`` whose program printed ``printed``."""
    return TaskResult(host, steps.COPY_TASK, "ok", {"rc": 0, "stdout": json.dumps(printed), "stderr": ""})


def test_the_copy_is_recorded_from_the_copy_tasks_results(tmp_path: Path) -> None:
    manifest = "ab  /srv/oa/data/x\n"
    results = [_result("app-1", {"manifest": manifest, "files": 1, "bytes": 10, "received": 1234}),
               _result("app-2", {"manifest": manifest + "cd  /srv/oa/data/y\n", "files": 2, "bytes": 20,
                                 "received": 99}),
               _result("source-nxdrc-oa", {"manifest": manifest, "files": 1, "bytes": 10})]
    with StateStore.open(tmp_path / "state.db") as store:
        run_id = store.connection.execute(
            "INSERT INTO migration_runs (system, verb, started, outcome, pid, pid_started, artifacts, detail) "
            "VALUES ('nxdrc-oa', 'replicate', '', 'running', 1, '', '', '{}')").lastrowid
        assert run_id is not None
        copies, notes = steps._record_copies(store, run_id, _job(["app-1", "app-2"]), results)
    assert [(c.host, c.files, c.bytes, c.bytes_sent, c.matches_source) for c in copies] == [
        ("app-1", 1, 10, 1234, True), ("app-2", 2, 20, 99, False)]
    assert notes == ["app-2: 1 manifest lines differ from the source's (it changed during the copy); the cutover "
                     "copies the rest with the source stopped"]
    unreadable = TaskResult("app-1", steps.COPY_TASK, "ok", {"rc": 0, "stdout": "python3: not found"})
    assert steps.copy_result(unreadable.res) == {} == steps.copy_result({"stdout": "[1]"})


def test_the_inventory_names_each_hosts_interpreter_and_leaves_unknown_ones_to_ansible() -> None:
    job = _job(["app-1", "app-2"])
    job = steps.Job(job.system, job.verb, job.source, job.targets,
                    Login("the target server", "", 22, "root", Credentials("root", ssh_key=Path("/k")), "", "", ""),
                    job.hooks, None)
    inventory = steps._inventory(job, {"app-1": "/usr/bin/python3.11", "app-2": None,
                                       "source-nxdrc-oa": "/usr/bin/python3"})
    groups = inventory["all"]["children"]
    assert groups["source"]["hosts"]["source-nxdrc-oa"]["ansible_python_interpreter"] == "/usr/bin/python3"
    assert groups["targets"]["hosts"]["app-1"]["ansible_python_interpreter"] == "/usr/bin/python3.11"
    assert "ansible_python_interpreter" not in groups["targets"]["hosts"]["app-2"]
