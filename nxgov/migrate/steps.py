"""The lifecycle verbs: ``replicate``, ``test``, ``cutover``, ``finalize``, ``rollback`` and ``retire``, per system.

A verb for one system is: a :class:`Job` resolved from the estate, the state store and the nodes before any host
is touched (bad input stops everything: exit 2); a preflight that logs in once to the legacy host and to every
running target server (host keys trusted on first use and audited, then strict); the lifecycle move that starts
it (or a resume: the system is still in the verb's in-progress state); the department's ``pre`` hook playbooks,
nxgov's own playbook (``playbooks/migrate/<verb>.yml``), the ``post`` hooks, all through ansible-runner in the
run's own folder, every task's end recorded as a step and shown as progress; then the move that ends it. What a
failure does depends on the verb (:data:`VERBS`): a replicate stays ``replicating`` (run it again: rsync sends
only what is missing), a test goes back to ``ready-for-test``, a cutover is rolled back at once (the source
serves again) with the reason recorded. Systems run in parallel on ``workers`` threads (:func:`nxgov.runner.run`),
each failing alone.

The data path: each target pulls the data paths from the legacy host with rsync over SSH, through a reverse
tunnel that the operations host opens to the target for the run (``-R 127.0.0.1:PORT:source:22``,
:mod:`nxgov.migrate.tunnel`), logging in with the operations host's SSH agent forwarded in Ansible's session: an
agent nxgov starts for the run holding the source's key (:mod:`nxgov.migrate.agent`). Neither the source nor the
target needs a route to the other, and no key is left on either.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nxgov.audit import AuditLog
from nxgov.errors import InputError, OperationError
from nxgov.estate.loader import LoadedEstate
from nxgov.estate.model import System
from nxgov.estate.source import HOOKS_DIR
from nxgov.migrate import lifecycle, runs
from nxgov.migrate.agent import Agent
from nxgov.migrate.ansible import (
    TaskResult,
    ansible_env,
    end_masters,
    master_command,
    masters,
    run_playbook,
    ssh_options,
)
from nxgov.migrate.reach import Login, check
from nxgov.migrate.tunnel import PREFIX as TUNNEL_PREFIX
from nxgov.migrate.tunnel import command as tunnel_command
from nxgov.migrate.tunnel import tunnels
from nxgov.network.drivers.credentials import resolve
from nxgov.network.drivers.hostkeys import KnownHosts, address
from nxgov.paths import project_root
from nxgov.processes import end_leftovers
from nxgov.rates import check_bwlimit
from nxgov.runner import Hook, Outcome, RunResult, run
from nxgov.state import StateStore

log = logging.getLogger(__name__)
PLAYBOOKS = project_root() / "playbooks" / "migrate"
TUNNEL_PORT = 42022
"""The port on each target's loopback that the reverse tunnel to the legacy host's sshd listens on."""
IO_TIMEOUT_S = 60
"""rsync gives up after this long without traffic (a source cut off mid-copy fails the step, not hangs it);
``NXGOV_MIGRATE_IO_TIMEOUT`` (seconds) overrides it."""
HEALTH_RETRIES = 10
COPY_TASK = "copy the data paths from the source and take the manifests"
"""The task (playbooks/migrate/tasks/copy.yml) whose results on the source and the targets are the copy's record."""


@dataclass(frozen=True)
class Verb:
    name: str
    playbook: str
    begin: str | None
    """The lifecycle event that starts it (None: the one event is taken at the end, after the playbook)."""
    done: str
    """The event taken when it succeeded."""
    failed: str | None
    """The event taken when it failed (None: the state stays as it is)."""
    needs_service: bool
    needs_targets: bool


VERBS: Mapping[str, Verb] = {
    "replicate": Verb("replicate", "replicate.yml", "replicate", "replicated", None, False, True),
    "test": Verb("test", "test.yml", "test", "tested", "test-failed", True, True),
    "cutover": Verb("cutover", "cutover.yml", "cutover", "cut-over", "rollback", True, True),
    "finalize": Verb("finalize", "finalize.yml", None, "finalize", None, True, False),
    "rollback": Verb("rollback", "rollback.yml", None, "rollback", None, True, False),
    "retire": Verb("retire", "finalize.yml", None, "retire", None, True, False),
}
PLAYS: Mapping[str, list[str]] = {
    "replicate": ["copy the data paths onto each running target (rsync over SSH, only what differs)",
                  "take the SHA-256 manifests on the targets after the copy and on the source meanwhile; record "
                  "the copy"],
    "test": ["start the system on the targets", "check their health URL from the operations host",
             "stop them again (the source keeps serving, untouched)"],
    "cutover": ["stop the service at the source", "copy the last changes onto the targets",
                "check every target's manifest equals the stopped source's", "start the targets, check their health",
                "switch the service record to the targets", "(any failure: rollback at once)"],
    "finalize": ["keep the source's service stopped", "mark the legacy host retired (a file in the login's home)"],
    "rollback": ["stop the targets' service (data kept, or removed with --remove-target)",
                 "point the service record at the source", "start the source's service if it does not answer",
                 "check the source serves"],
    "retire": ["stop the zombie's service", "mark the legacy host retired (a file in the login's home)"],
}
"""What each verb's playbook does, for the dry run."""


@dataclass(frozen=True)
class Target:
    name: str
    node: str
    address: str
    health_url: str | None


@dataclass(frozen=True)
class Job:
    """Everything one verb on one system needs, resolved before any host is contacted."""

    system: System
    verb: Verb
    source: Login
    targets: list[Target]
    server_login: Login | None
    hooks: tuple[list[Path], list[Path]]
    source_key: Path | None
    remove_target: bool = False
    bwlimit: str = "0"
    """rsync's --bwlimit for the copies: 0 (no limit), or a rate such as 20M (MiB/s) or 500K."""

    @property
    def code(self) -> str:
        return self.system.code


@dataclass(frozen=True)
class StepReport:
    """What a verb did for one system (a runner result's ``data``)."""

    system: str
    verb: str
    state: str
    resumed: bool
    run: int
    artifacts: str
    copies: list[runs.Copy]
    notes: list[str]


TaskCallback = Callable[[str, TaskResult], None]


def select(loaded: LoadedEstate, codes: Sequence[str]) -> list[System]:
    """The systems named in ``codes`` (InputError, located, for an unknown one or one without a source)."""
    from nxgov.migrate.assess import select_systems

    if not codes:
        raise InputError("name the systems: --system CODE (repeatable) or --wave N with --plan FILE",
                         "see `nxgov migrate status` for where each system stands")
    return select_systems(loaded, codes)


def prepare(loaded: LoadedEstate, systems: Sequence[System], verb: str, *, remove_target: bool = False,
            bwlimit: str = "0", servers: Callable[[LoadedEstate, str], list[Any]] | None = None) -> list[Job]:
    """A :class:`Job` per system; InputError (exit 2, nothing touched) naming the system and the fix when one lacks
    what the verb needs: a source, a key to log in to it, the service's commands, the server login, running target
    servers, a hook playbook's file."""
    from nxgov.cloud.servers import system_servers
    from nxgov.migrate.assess import HostTarget, source_login

    read_servers = servers or system_servers
    rate = check_bwlimit(bwlimit)
    spec = VERBS[verb]
    estate = loaded.estate
    base = (loaded.path if loaded.path.is_dir() else loaded.path.parent).resolve()  # ansible-runner runs elsewhere
    ready = []
    for system in systems:
        source = system.source
        if source is None:
            raise InputError(f"{system.code} has no source (legacy host): there is nothing to {verb}",
                             f"add source: {{host, user, paths}} to system {system.code} in the estate")
        if spec.needs_service and system.service is None:
            raise InputError(f"{system.code}: {verb} starts or stops the system's service, and the estate does not "
                             "say how", f"add service: {{start: ..., stop: ...}} to system {system.code}")
        if not source.paths and verb in ("replicate", "cutover"):
            raise InputError(f"{system.code}: source.paths is empty, so there is no data to copy",
                             f"list the data directories in source.paths of system {system.code}")
        creds = None
        if source.credentials is not None:
            ref = estate.credentials.get(source.credentials)
            if ref is None:
                raise InputError(f"{system.code}: the estate has no credentials entry {source.credentials!r}",
                                 "add it under credentials: or fix source.credentials")
            creds = resolve(source.credentials, ref)
            if creds.ssh_key is None or creds.passphrase:
                raise InputError(f"{system.code}: credentials entry {source.credentials!r} must give an SSH key "
                                 "without a passphrase: the targets copy from the legacy host through nxgov's SSH "
                                 "agent", f"put ssh_key: in {source.credentials!r}, or drop source.credentials to use "
                                 "your own SSH agent")
        ready.append((system, source_login(HostTarget(system.code, source, creds)), creds,
                      _hooks(base, estate, system, verb)))
    with_targets = spec.needs_targets or verb == "rollback"
    server_login = _server_login(loaded) if with_targets else None
    jobs = []
    for system, login, creds, hooks in ready:
        targets = _targets(system, read_servers(loaded, system.code), spec.needs_targets) if with_targets else []
        jobs.append(Job(system, spec, login, targets, server_login, hooks, creds.ssh_key if creds else None,
                        remove_target, rate))
    return jobs


def _server_login(loaded: LoadedEstate) -> Login:
    from nxgov.cloud.servers import server_login

    creds = server_login(loaded)
    return Login("the target server", "", 22, creds.username, creds, "the estate's server_access credentials",
                 "check server_access in the estate and that the servers were made with its keypair "
                 "(nxgov cloud apply)", "check that the server is up (nxgov cloud drift) and reachable from here")


def _targets(system: System, servers: list[Any], required: bool) -> list[Target]:
    running = [s for s in servers if s.status == "ACTIVE" and s.addresses]
    if required and not running:
        states = ", ".join(f"{s.name} on {s.node}: {s.status}" for s in servers) or "none declared"
        raise InputError(f"{system.code} has no running target server to migrate onto ({states})",
                         "make them with `nxgov cloud apply` (the estate's servers of the system), then run this again")
    health = system.source.health if system.source else None
    return [Target(s.name, s.node, s.addresses[0], _health_at(health, s.addresses[0])) for s in running]


def _health_at(url: str | None, address: str) -> str | None:
    """``url`` (the legacy host's health URL) with its host replaced by ``address``, port and path kept."""
    if url is None:
        return None
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _hooks(base: Path, estate: Any, system: System, verb: str) -> tuple[list[Path], list[Path]]:
    department = estate.department(system.department)
    phase = getattr(department.hooks, verb, None) if department.hooks is not None and verb != "retire" else None
    if phase is None:
        return [], []
    found: tuple[list[Path], list[Path]] = ([], [])
    for names, out in ((phase.pre, found[0]), (phase.post, found[1])):
        for name in names:
            path = base / HOOKS_DIR / name
            if not path.is_file():
                raise InputError(f"department {department.code}: hook playbook {name!r} ({verb}) is not in "
                                 f"{base / HOOKS_DIR}",
                                 f"add {path}, or remove it from hooks.{verb} of {department.code}")
            out.append(path)
    return found


def execute(jobs: Sequence[Job], *, store_path: Path, runs_dir: Path, audit_log: AuditLog, known_hosts: KnownHosts,
            workers: int = 4, hooks: Sequence[Hook] = (), on_task: TaskCallback = lambda _s, _r: None,
            io_timeout: int = IO_TIMEOUT_S) -> RunResult[Job]:
    """Run each job's verb on at most ``workers`` systems at once; each result's data is a :class:`StepReport`."""

    def task(job: Job) -> Outcome:
        with StateStore.open(store_path) as store:
            report = _one(job, store, runs_dir, audit_log, known_hosts, on_task, io_timeout)
        return Outcome(True, report)

    verb = jobs[0].verb.name if jobs else "migrate"
    return run(task, jobs, name=f"migrate {verb}", key=lambda job: job.code, workers=workers, hooks=hooks)


class StepFailed(OperationError):
    """A verb failed for one system; the message says where it stands now and what to do."""


def _one(job: Job, store: StateStore, runs_dir: Path, audit_log: AuditLog, known_hosts: KnownHosts,
         on_task: TaskCallback, io_timeout: int) -> StepReport:
    verb = job.verb
    event = verb.begin or verb.done
    _, resumed = lifecycle.check(store, job.code, event)
    pythons = _preflight(job, known_hosts)
    run_id, folder, interrupted = runs.start_run(store, job.code, verb.name, runs_dir)
    for earlier in interrupted:
        left = end_leftovers(earlier) + end_masters(earlier)
        if left:
            log.info("%s: stopped %d process(es) an interrupted run left running (%s)", job.code, len(left), earlier)
    if verb.begin is not None and not resumed:
        lifecycle.advance(store, job.code, verb.begin, audit_log, {"run": run_id})

    def step(result: TaskResult) -> None:
        runs.record_step(store, run_id, result.host, result.task, result.status,
                         {"message": result.message} if result.status in ("failed", "unreachable") else {})
        on_task(job.code, result)

    try:
        return _drive(job, store, run_id, folder, resumed, audit_log, known_hosts, step, io_timeout, pythons)
    except StepFailed:
        raise
    except Exception as error:
        runs.end_run(store, run_id, "failed", {"reason": str(error)})
        raise


def _preflight(job: Job, known_hosts: KnownHosts) -> dict[str, str | None]:
    """Log in to every target and to the legacy host, all at once (the first failure, in that order, is raised):
    each inventory name's Python interpreter."""
    from concurrent.futures import ThreadPoolExecutor

    logins = {**{t.name: _at(job.server_login, t.address) for t in job.targets}, _source_host(job): job.source}
    with ThreadPoolExecutor(len(logins)) as pool:
        found = list(pool.map(lambda login: check(known_hosts, job.code, login), logins.values()))
    return dict(zip(logins, found, strict=True))


def _drive(job: Job, store: StateStore, run_id: int, folder: Path, resumed: bool, audit_log: AuditLog,
           known_hosts: KnownHosts, step: Callable[[TaskResult], None], io_timeout: int,
           pythons: Mapping[str, str | None]) -> StepReport:
    verb = job.verb
    with (Agent(job.source_key) as agent, tunnels(folder, _tunnels(job, folder, known_hosts)),
          masters(folder, lambda control: _masters(job, known_hosts, control), agent.environment) as control):
        env = ansible_env(known_hosts.path, control, agent.environment)
        inventory = _inventory(job, pythons)
        extravars = _extravars(job, known_hosts, io_timeout)
        ended: list[TaskResult] = []
        recorded: list[tuple[list[runs.Copy], list[str]]] = []

        def on_task(result: TaskResult) -> None:
            """Each task's end; the copy is recorded as soon as its task has ended well on every host."""
            step(result)
            if verb.name in ("replicate", "cutover") and result.task == COPY_TASK and not recorded:
                ended.append(result)
                if len(ended) == 1 + len(job.targets) and all(r.status in ("ok", "changed") for r in ended):
                    recorded.append(_record_copies(store, run_id, job, ended))

        failure = _playbooks(job, verb.playbook, folder, inventory, extravars, env, on_task)
        copies, notes = recorded[0] if recorded else ([], [])
        if failure is None:
            _after_success(store, job)
            change = lifecycle.advance(store, job.code, verb.done, audit_log, {"run": run_id})
            runs.end_run(store, run_id, "ok", {"notes": notes})
            return StepReport(job.code, verb.name, change.target.value, resumed, run_id, str(folder), copies, notes)
        reason = failure
        if verb.name == "cutover":
            reason = _roll_back(job, store, run_id, folder, inventory, extravars, env, step, failure, audit_log)
        elif verb.failed is not None:
            lifecycle.advance(store, job.code, verb.failed, audit_log, {"run": run_id, "reason": failure})
        runs.end_run(store, run_id, "failed", {"reason": reason})
        raise StepFailed(f"{job.code}: {verb.name} failed: {reason}", _after_failure(job, reason))


def _at(login: Login | None, address: str) -> Login:
    assert login is not None
    return Login(login.what, address, login.port, login.user, login.credentials, login.using, login.fix,
                 login.reach_fix)


def _playbooks(job: Job, playbook: str, folder: Path, inventory: dict[str, Any], extravars: dict[str, Any],
               env: dict[str, str], step: Callable[[TaskResult], None]) -> str | None:
    """The pre hooks, nxgov's playbook, the post hooks, stopping at the first that fails: the failure in one
    sentence, or None."""
    pre, post = job.hooks
    sequence = [*((p, f"pre-{i}") for i, p in enumerate(pre, 1)), (PLAYBOOKS / playbook, job.verb.name),
                *((p, f"post-{i}") for i, p in enumerate(post, 1))]
    for path, ident in sequence:
        result = run_playbook(path, folder=folder, ident=ident, inventory=inventory, extravars=extravars, env=env,
                              on_task=step, forks=_forks(job))
        if not result.ok:
            failure = result.failure
            where = (f"task '{failure.task}' on {failure.host}: {failure.message}" if failure else
                     f"ansible-runner says {result.status} (rc {result.rc})")
            hook = "" if ident == job.verb.name else f"hook {path.name}: "
            return f"{hook}{where}"
    return None


def _roll_back(job: Job, store: StateStore, run_id: int, folder: Path, inventory: dict[str, Any],
               extravars: dict[str, Any], env: dict[str, str], step: Callable[[TaskResult], None], failure: str,
               audit_log: AuditLog) -> str:
    """A failed cutover: run the rollback playbook at once; the system is rolled back when the source serves."""
    result = run_playbook(PLAYBOOKS / "rollback.yml", folder=folder, ident="rollback", inventory=inventory,
                          extravars=extravars, env=env, on_task=step, forks=_forks(job))
    if not result.ok:
        where = result.failure.message if result.failure else result.status
        return (f"{failure}; the automatic rollback failed too ({where}): the source may be stopped, run "
                f"`nxgov migrate rollback --system {job.code}`")
    _serving(store, job, "source")
    lifecycle.advance(store, job.code, "rollback", audit_log, {"run": run_id, "automatic": True, "reason": failure})
    return f"{failure}; rolled back automatically: the source serves again"


def _after_success(store: StateStore, job: Job) -> None:
    if job.verb.name == "cutover":
        _serving(store, job, "target")
    elif job.verb.name == "rollback":
        _serving(store, job, "source")


def _serving(store: StateStore, job: Job, side: str) -> None:
    """nxgov's service record of the job's system: the source serves, or the targets do."""
    addresses = [job.source.host] if side == "source" else [t.address for t in job.targets]
    runs.set_service_record(store, job.code, job.system.service.name if job.system.service else None, addresses, side)


def _after_failure(job: Job, reason: str) -> str:
    name = job.verb.name
    if name == "replicate":
        return (f"fix the cause, then run `nxgov migrate replicate --system {job.code}` again: it resumes, sending "
                "only what is not there yet")
    if name == "test":
        return f"the system is ready-for-test again; fix the cause and run `nxgov migrate test --system {job.code}`"
    if name == "cutover":
        return (f"see `nxgov migrate runs --system {job.code}`; fix the cause, then replicate, test and cut over "
                "again")
    return f"fix the cause and run `nxgov migrate {name} --system {job.code}` again (nothing moved in the lifecycle)"


def _source_host(job: Job) -> str:
    """The legacy host's name in the inventory."""
    return f"source-{job.code}"


def _forks(job: Job) -> int:
    """Enough for the source and every target at once (the copy task runs on all of them together)."""
    return max(5, 1 + len(job.targets))


def _inventory(job: Job, pythons: Mapping[str, str | None]) -> dict[str, Any]:
    """The Ansible inventory of one job: generated from the estate and the nodes, never written by hand.
    ``pythons``: each host's Python interpreter found at the preflight login (a host without one is left to
    Ansible's discovery)."""
    import sys

    source = job.source
    src: dict[str, Any] = {"ansible_host": source.host, "ansible_port": source.port, "ansible_user": source.user,
                           "nxgov_health_url": job.system.source.health if job.system.source else None}
    if job.source_key is not None:
        src["ansible_ssh_private_key_file"] = str(job.source_key)
    targets: dict[str, Any] = {}
    for target in job.targets:
        login = job.server_login
        assert login is not None and login.credentials is not None
        targets[target.name] = {
            "ansible_host": target.address, "ansible_user": login.user,
            "ansible_ssh_private_key_file": str(login.credentials.ssh_key),
            "ansible_ssh_extra_args": "-o ForwardAgent=yes",
            "nxgov_node": target.node, "nxgov_health_url": target.health_url}
    for name, host in [(_source_host(job), src), *targets.items()]:
        if pythons.get(name):
            host["ansible_python_interpreter"] = pythons[name]
    return {"all": {
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
        "children": {"source": {"hosts": {_source_host(job): src}}, "targets": {"hosts": targets}}}}


def _tunnels(job: Job, folder: Path, known_hosts: KnownHosts) -> dict[str, list[str]]:
    """The tunnel commands of a job that copies data (replicate, cutover): one per target."""
    if job.verb.name not in ("replicate", "cutover"):
        return {}
    login = job.server_login
    assert login is not None and login.credentials is not None and login.credentials.ssh_key is not None
    return {t.name: tunnel_command(ssh_options(known_hosts.path), folder / f"{TUNNEL_PREFIX}{t.name}.log", t.address,
                                   login.user, login.credentials.ssh_key, TUNNEL_PORT, job.source.host,
                                   job.source.port)
            for t in job.targets}


def _masters(job: Job, known_hosts: KnownHosts, control: Path) -> list[list[str]]:
    """The commands that open the run's SSH masters to the legacy host (unless the verb's playbook does not go there:
    ``test``) and the targets, logging in as the inventory does."""
    args = ssh_options(known_hosts.path, control)
    login = job.server_login
    commands = [] if job.verb.name == "test" else [
        master_command(args, job.source.host, job.source.port, job.source.user, job.source_key, False)]
    if login is not None and login.credentials is not None:
        commands += [master_command(args, t.address, login.port, login.user, login.credentials.ssh_key, True)
                     for t in job.targets]
    return commands


def _extravars(job: Job, known_hosts: KnownHosts, io_timeout: int) -> dict[str, Any]:
    system = job.system
    service = system.service
    source = system.source
    assert source is not None
    keys = known_hosts.trusted(address(job.source.host, job.source.port))
    known_line = "\n".join(f"nxgov-source {key.get_name()} {key.get_base64()}" for key in keys.values())
    return {
        "nxgov_system": system.code, "nxgov_verb": job.verb.name,
        "nxgov_paths": [p.rstrip("/") or "/" for p in source.paths],
        "nxgov_start": service.start if service else "", "nxgov_stop": service.stop if service else "",
        "nxgov_source_user": source.user, "nxgov_source_address": str(source.host),
        "nxgov_source_known_host": known_line, "nxgov_tunnel_port": TUNNEL_PORT, "nxgov_io_timeout": io_timeout,
        "nxgov_bwlimit": job.bwlimit,
        "nxgov_health_retries": HEALTH_RETRIES,
        "nxgov_record_file": (service.records or "") if service else "",
        "nxgov_record_name": (service.name or "") if service else "",
        "nxgov_target_addresses": [t.address for t in job.targets],
        "nxgov_remove_target": job.remove_target,
        "nxgov_retired_note": f"{system.code}: retired by nxgov migrate {job.verb.name}; nothing here was deleted. "
                              f"Targets: {', '.join(t.name for t in job.targets) or 'none (retired)'}",
    }


def copy_result(res: Mapping[str, Any]) -> dict[str, Any]:
    """What the copy task's program (playbooks/migrate/files/nxgov_data.py) printed on one host: its JSON result
    (empty when it printed none)."""
    try:
        found = json.loads(str(res.get("stdout") or ""))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _record_copies(store: StateStore, run_id: int, job: Job,
                   results: Sequence[TaskResult]) -> tuple[list[runs.Copy], list[str]]:
    """Each target's copy from the copy task's results (:data:`COPY_TASK`, on the source and the targets): bytes sent
    (rsync's own count), its manifest against the source's."""
    found = {r.host: copy_result(r.res) for r in results if r.task == COPY_TASK}
    source_text = str(found.get(_source_host(job), {}).get("manifest", ""))
    source_sha = hashlib.sha256(source_text.encode()).hexdigest()
    out, notes = [], []
    for target in job.targets:
        copied = found.get(target.name)
        if copied is None or "manifest" not in copied:
            continue
        text = str(copied["manifest"])
        copy = runs.Copy(job.code, target.name, runs.now(), int(copied.get("files", 0)), int(copied.get("bytes", 0)),
                         int(copied.get("received", 0)), hashlib.sha256(text.encode()).hexdigest(), source_sha)
        runs.record_copy(store, run_id, copy, text)
        out.append(copy)
        if not copy.matches_source:
            differ = len(set(text.splitlines()) ^ set(source_text.splitlines()))
            notes.append(f"{target.name}: {differ} manifest lines differ from the source's (it changed during the "
                         "copy); the cutover copies the rest with the source stopped")
    return out, notes
