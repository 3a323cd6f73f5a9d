"""The transfer half of the migration benchmark (issue 10), on the rehearsal lab, printed side by side with its
goals (never asserted in tests).

Setup: N legacy hosts of the benchmark's own (``bench-01``..., ``2001:db8:ff20:<i>::10``, user ops, the lab's
legacy-ssh key), each filled over SSH with ``--mib`` MiB of random data in 1 MiB files under
/srv/<system>/data; a temporary estate ``bench-transfer`` (the lab estate's clouds, credentials, server_access
and flavors; one department ``benchm``; N single-placement systems alternating Yinchuan and Zhongwei, one m1.tiny
server each) with its own state store, audit log and known_hosts; ``nxgov cloud apply`` and ``nxgov migrate
assess``. The lab's OpenStack must already be running (this script never runs ``nxgov lab up`` or ``down``).

1. The wave: ``nxgov -o json migrate replicate`` of all N systems (``--workers``): wall time, bytes sent (rsync's
   own count, from the JSON copies), MiB/s.
2. Kill and resume: the targets' copies deleted, the same wave started again and SIGKILLed when about half the
   bytes are on the targets (polled over SSH), then run again. Bytes re-sent = bytes present at the kill + bytes
   sent by the re-run - total; the naive path (a re-run that copies everything again, what os-migrate users
   report) sends the total and re-sends everything that was present.
3. Against a bare rsync: the rsync command line the copy runs (``rsync_argv`` of
   playbooks/migrate/files/nxgov_data.py, the same function), issued by hand from the operations host through the
   same path (``ssh -A -R 127.0.0.1:42022:[source]:22 root@target rsync ... ops@127.0.0.1:/srv/X/data/
   /srv/X/data/``, an ssh-agent holding the legacy key), against ``nxgov migrate replicate`` of the same one
   system, each onto a fresh target directory, alternating, best of ``--rate-runs`` (each measure's best on its
   own; every run's figures are in the JSON). nxgov is timed three ways: end to end (the command's wall, estate,
   OpenStack reads and preflight logins included); the copy step, what nxgov does between starting the transfer and
   having the verified copy recorded: from the start of the copy task (its ``playbook_on_task_start`` event) to the
   copy's record in the state store (``migration_copies.taken``), the copy, both manifests and the playbook's end
   included; and the copy task alone (its duration on the target in the event stream: SSH session, rsync, the
   target's manifest). Goal: nxgov's rate at least 0.8 of rsync's, i.e. rsync's seconds / nxgov's >= 0.8.

Teardown always: the estate's cloud resources pruned, the legacy hosts removed, the temporary folder deleted.
Run as root: ``.venv/bin/python bench/migrate_transfer.py [--systems 10] [--mib 100] [--workers 4]
[--rate-runs 3] [--rate-only]`` (``--rate-only``: only 3., on the first system).
The table is printed, then the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paramiko
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nxgov.lab.hosts import LegacyHosts, LegacyHostSpec  # noqa: E402
from nxgov.migrate.steps import COPY_TASK  # noqa: E402

NXGOV = ROOT / ".venv" / "bin" / "nxgov"
LAB = Path("/var/lib/nxgov/lab")
MIB = 1 << 20
ESTATE = "bench-transfer"
DEPARTMENT = "benchm"
TUNNEL_PORT = 42022
RATE_GOAL = 0.8
KILL_AT = 0.5
_RECEIVED = re.compile(r"^Total bytes received: ([\d,]+)", re.MULTILINE)
_spec = importlib.util.spec_from_file_location("nxgov_data", ROOT / "playbooks/migrate/files/nxgov_data.py")
assert _spec is not None and _spec.loader is not None
DATA_MODULE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(DATA_MODULE)
_RSYNC_RATE = re.compile(r"^sent [\d,]+ bytes\s+received [\d,]+ bytes\s+([\d,.]+) bytes/sec", re.MULTILINE)


@dataclass
class System:
    code: str
    source: str
    node: str
    target: str = ""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def mib(n: float) -> str:
    return f"{n / MIB:,.1f} MiB"


# -- the lab -------------------------------------------------------------------------------------------------------

def openstack_running() -> tuple[bool, str]:
    """Whether every OpenStack service of the lab runs (``lab status`` exits 1 when any part, such as a legacy host
    another test stopped, is not running: only the OpenStack parts matter here)."""
    done = subprocess.run([str(NXGOV), "-o", "json", "lab", "status"], capture_output=True, text=True, check=False)
    try:
        components = json.loads(done.stdout)["components"]
    except (ValueError, KeyError):
        return False, f"nxgov lab status exited {done.returncode}: {done.stderr.strip()[-500:]}"
    parts = [c for c in components if c["component"] == "openstack"]
    down = [f"{c['name']}: {c['state']}" for c in parts if c["state"] != "running"]
    if not parts or down:
        return False, ", ".join(down) or "no openstack component"
    return True, f"{len(parts)} OpenStack services running"


def credential(entry: str) -> dict[str, Any]:
    return dict(yaml.safe_load((LAB / "credentials" / f"{entry}.yaml").read_text()))


def host_specs(systems: list[System], public_key: str) -> list[LegacyHostSpec]:
    return [LegacyHostSpec(name=s.code, address6=s.source, address4=None, system_code=s.code, user="ops",
                           authorized_key=public_key, data_files=0, service_port=8080) for s in systems]


class Shell:
    """SSH sessions kept open: the legacy hosts (strict, the lab's known_hosts) and the targets (first use)."""

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], paramiko.SSHClient] = {}

    def _client(self, host: str, user: str) -> paramiko.SSHClient:
        client = self.clients.get((host, user))
        transport = client.get_transport() if client else None
        if client is not None and transport is not None and transport.is_active():
            return client
        client = paramiko.SSHClient()
        if user == "ops":
            client.load_host_keys(str(LAB / "hosts" / "known_hosts"))
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            key = credential("legacy-ssh")["ssh_key"]
        else:
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # the benchmark's probe, not nxgov's trust
            key = credential("lab-servers")["ssh_key"]
        client.connect(host, username=user, key_filename=key, timeout=10, allow_agent=False, look_for_keys=False)
        self.clients[(host, user)] = client
        return client

    def run(self, host: str, user: str, command: str, timeout: float = 600) -> str:
        _, out, err = self._client(host, user).exec_command(command, timeout=timeout)
        text = out.read().decode()
        code = out.channel.recv_exit_status()
        if code != 0:
            raise RuntimeError(f"{user}@{host}: {command!r} exited {code}: {err.read().decode()[-500:]}")
        return text

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()


def fill(shell: Shell, system: System, files: int) -> int:
    script = (f"set -e; cd /srv/{system.code}/data && for i in $(seq -w 1 {files}); do "
              "head -c 1048576 /dev/urandom > part-$i.bin; done; du -sb . | cut -f1")
    return int(shell.run(system.source, "ops", script).strip())


def data_bytes(shell: Shell, system: System) -> int:
    """Bytes of every file under the target's data directory (rsync's temporary and partial files included)."""
    out = shell.run(system.target, "root", f"find /srv/{system.code}/data -type f -printf '%s\\n' 2>/dev/null | "
                                           "awk '{s+=$1} END {print s+0}'")
    return int(out.strip() or 0)


def wipe(shell: Shell, system: System) -> None:
    shell.run(system.target, "root", f"rm -rf /srv/{system.code}/data")


# -- the estate and nxgov ------------------------------------------------------------------------------------------

def write_estate(folder: Path, systems: list[System]) -> None:
    lab = yaml.safe_load((ROOT / "inventories" / "lab" / "estate.yaml").read_text())
    n = len(systems)
    doc: dict[str, Any] = {
        "estate": ESTATE, "description": "迁移传输基准（bench/migrate_transfer.py，临时）",
        **{key: lab[key] for key in ("clouds", "cloud_ipv6", "operations", "credentials", "server_access",
                                     "flavors")},
        "departments": [{"code": DEPARTMENT, "name": "迁移基准（演练）",
                         "quotas": {"cores": n + 2, "ram_gb": n + 2, "instances": n + 2, "volumes_gb": 10},
                         "networks": [{"name": "app"}]}],
        "systems": [{
            "code": s.code, "name": f"传输基准 {s.code}", "department": DEPARTMENT, "level": 2,
            "placement": {"mode": "single", "node": s.node},
            "source": {"host": s.source, "user": "ops", "credentials": "legacy-ssh", "paths": [f"/srv/{s.code}/data"],
                       "health": f"http://[{s.source}]:8080/health"},
            "service": {"start": f"mkdir -p /srv/{s.code}/log && setsid -f python3 /srv/{s.code}/app/app.py "
                                 f"--port 8080 --data /srv/{s.code}/data >> /srv/{s.code}/log/app.log 2>&1",
                        "stop": f"pkill -f '[/]srv/{s.code}/app/app.py' || true"},
            "servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-lab", "network": "app"}],
        } for s in systems],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


class Nxgov:
    def __init__(self, work: Path, estate: Path) -> None:
        self.work, self.estate = work, estate
        self.env = {**os.environ, "NXGOV_STATE": str(work / "state.db"), "NXGOV_AUDIT_LOG": str(work / "audit.jsonl"),
                    "NXGOV_KNOWN_HOSTS": str(work / "known_hosts"), "OS_CLIENT_CONFIG_FILE": str(LAB / "clouds.yaml"),
                    "COLUMNS": "200"}

    def argv(self, *args: str) -> list[str]:
        return [str(NXGOV), "-e", str(self.estate), *args]

    def run(self, *args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env, timeout=timeout,
                              check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"nxgov {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
                               f"\n{done.stdout[-2000:]}")
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        log = open(self.work / f"killed-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 (closed with the process)
        return subprocess.Popen(self.argv(*args), text=True, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def replicate(self, codes: list[str], workers: int) -> tuple[float, dict[str, Any]]:
        argv = ["-o", "json", "migrate", "replicate", *(a for c in codes for a in ("--system", c)),
                "--workers", str(workers), "--yes"]
        start = time.perf_counter()
        done = self.run(*argv)
        wall = time.perf_counter() - start
        report = json.loads(done.stdout)
        bad = [c for s in report["systems"] for c in s["copies"] if not c["matches_source"]]
        if len(report["systems"]) != len(codes) or bad:
            raise RuntimeError(f"replicate did not copy every system faithfully: {report}")
        return wall, report


def copies(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for s in report["systems"] for c in s["copies"]]


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def copy_step(report: dict[str, Any], state: Path) -> dict[str, float]:
    """A one-system run's copy from its ansible-runner events and its record: the copy step (the copy task's start
    to the copy recorded in the state store), the copy task on the target alone and on the source (its manifest),
    the time from the task's last end on a host to the record, rsync's own bytes/s."""
    (system,) = report["systems"]
    folder = Path(system["artifacts"]) / "artifacts" / "replicate" / "job_events"
    source = f"source-{system['system']}"
    started: datetime | None = None
    ended: list[datetime] = []
    task_s = source_s = rate = 0.0
    for path in folder.glob("*.json"):
        event = json.loads(path.read_text())
        data = event.get("event_data") or {}
        if data.get("task") != COPY_TASK:
            continue
        if event.get("event") == "playbook_on_task_start":
            started = _time(event["created"])
        elif event.get("event") == "runner_on_ok":
            ended.append(_time(event["created"]))
            if data.get("host") == source:
                source_s = float(data.get("duration") or 0.0)
                continue
            task_s = float(data.get("duration") or 0.0)
            printed = json.loads(str((data.get("res") or {}).get("stdout") or "{}"))  # the copy program's result
            found = _RSYNC_RATE.search(str(printed.get("stdout", "")))
            rate = float(found.group(1).replace(",", "")) if found else 0.0
    with sqlite3.connect(state) as db:
        (taken,) = db.execute("SELECT taken FROM migration_copies WHERE run = ?", (system["run"],)).fetchone()
    if started is None or not task_s or not ended:
        raise RuntimeError(f"no copy task in the events of {folder}")
    return {"copy_step_s": (_time(taken) - started).total_seconds(), "copy_task_s": task_s,
            "source_task_s": source_s, "recorded_after_s": (_time(taken) - max(ended)).total_seconds(),
            "rsync_rate": rate}


def mine(marker: str) -> list[int]:
    """PIDs of processes whose command line names this run's temporary folder (what a killed nxgov left)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            with suppress(OSError):
                if marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(proc.name))
    return pids


# -- the bare rsync ------------------------------------------------------------------------------------------------

@contextmanager
def agent(work: Path, key: str) -> Iterator[dict[str, str]]:
    """An ssh-agent of the benchmark's own (killed by its PID at the end) holding ``key``."""
    sock = work / "agent.sock"
    out = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True, check=True).stdout
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", out).group(1))  # type: ignore[union-attr]
    try:
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", key], env=env, check=True, capture_output=True)
        yield env
    finally:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def bare_rsync(work: Path, env: dict[str, str], system: System) -> tuple[float, int, float]:
    """The copy's rsync issued by hand through the same path: (wall seconds, bytes received, rsync's bytes/s)."""
    known = f"/var/lib/nxgov-migrate/bench-rsync-{system.code}.known_hosts"
    host_key = (LAB / "hosts" / system.code / "ssh_host_ed25519_key.pub").read_text().split()[:2]
    data = f"/srv/{system.code}/data"
    line = shlex.quote("nxgov-source " + " ".join(host_key))
    rsync = shlex.join(DATA_MODULE.rsync_argv({"user": "ops", "port": TUNNEL_PORT, "known_hosts_file": known,
                                               "io_timeout": 60, "bwlimit": "0"}, data))
    remote = f"mkdir -p {data} /var/lib/nxgov-migrate && printf '%s\\n' {line} > {known} && {rsync}"
    argv = ["ssh", "-A", "-i", credential("lab-servers")["ssh_key"], "-o", "IdentitiesOnly=yes",
            "-o", "ControlMaster=no", "-o", f"UserKnownHostsFile={work / 'bench_known_hosts'}",
            "-o", "StrictHostKeyChecking=accept-new", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "ExitOnForwardFailure=yes", "-R", f"127.0.0.1:{TUNNEL_PORT}:[{system.source}]:22",
            f"root@{system.target}", remote]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=900)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"bare rsync exited {done.returncode}: {done.stderr[-2000:]}")
    received = _RECEIVED.search(done.stdout)
    rate = _RSYNC_RATE.search(done.stdout)
    return (wall, int(received.group(1).replace(",", "")) if received else 0,
            float(rate.group(1).replace(",", "")) if rate else 0.0)


# -- the benchmark -------------------------------------------------------------------------------------------------

def lab_pytest_runs() -> bool:
    """Whether a pytest runs that may use the lab (one run with ``-m "not lab"`` does not)."""
    listed = subprocess.run(["pgrep", "-af", "pytest"], capture_output=True, text=True, check=False).stdout
    return any("not lab" not in line and any(word.rsplit("/", 1)[-1] == "pytest" for word in line.split()[1:])
               for line in listed.splitlines())


def wait_for_quiet_lab(limit: float) -> None:
    """Others run the lab's end-to-end tests: wait until no pytest that may use the lab runs (polled every 30 s)."""
    deadline = time.monotonic() + limit
    while lab_pytest_runs():
        if time.monotonic() > deadline:
            raise SystemExit(f"pytest still runs against the lab after {limit:.0f} s; try again later")
        say("pytest is running (someone uses the lab): waiting 30 s")
        time.sleep(30)


def measure(args: argparse.Namespace, work: Path, systems: list[System], shell: Shell, nx: Nxgov,
            figures: dict[str, Any]) -> None:
    if not args.rate_only:
        wave_and_resume(args, work, systems, shell, nx, figures)
    rate(args, work, systems[0], figures["source_bytes"] // len(systems), shell, nx, figures)


def wave_and_resume(args: argparse.Namespace, work: Path, systems: list[System], shell: Shell, nx: Nxgov,
                    figures: dict[str, Any]) -> None:
    codes = [s.code for s in systems]

    # 1. The wave.
    say(f"wave: replicate {len(codes)} systems, --workers {args.workers}")
    wall, report = nx.replicate(codes, args.workers)
    got = copies(report)
    total, sent = sum(c["bytes"] for c in got), sum(c["bytes_sent"] for c in got)
    figures["wave"] = {"seconds": round(wall, 2), "bytes": total, "bytes_sent": sent,
                       "mib_per_s": round(total / MIB / wall, 1)}
    say(f"wave: {mib(total)} in {wall:.1f} s, {sent:,} bytes sent")
    wall2, again = nx.replicate(codes, args.workers)
    figures["wave_again"] = {"seconds": round(wall2, 2), "bytes_sent": sum(c["bytes_sent"] for c in copies(again))}

    # 2. Killed at ~50 % and resumed.
    for system in systems:
        wipe(shell, system)
    say(f"kill: the wave again onto empty targets, SIGKILL at {KILL_AT:.0%} of {mib(total)}")
    proc = nx.start("-o", "json", "migrate", "replicate", *(a for c in codes for a in ("--system", c)),
                    "--workers", str(args.workers), "--yes")
    started = time.perf_counter()
    present = 0
    while proc.poll() is None and time.perf_counter() - started < 900:
        present = sum(data_bytes(shell, s) for s in systems)
        if present >= KILL_AT * total:
            break
        time.sleep(0.3)
    if proc.poll() is not None:
        raise RuntimeError(f"the wave ended (exit {proc.returncode}) before it could be killed")
    at_kill = present
    # nxgov SIGKILLed, and at once what it started (ansible-playbook and its ssh sessions, in their own sessions:
    # left alone they finish the copy in flight), as when the operations host goes down.
    os.kill(proc.pid, signal.SIGKILL)
    left: dict[int, str] = {}
    for _ in range(3):
        for pid in mine(str(work)):
            with suppress(OSError):
                left.setdefault(pid, Path(f"/proc/{pid}/comm").read_text().strip())
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    proc.wait()
    killed_after = time.perf_counter() - started
    time.sleep(3)  # the killed run's SSH sessions close; rsync on the targets keeps its partial files
    previous, present = -1, sum(data_bytes(shell, s) for s in systems)
    while present != previous:  # settled: nothing still writing
        time.sleep(1)
        previous, present = present, sum(data_bytes(shell, s) for s in systems)
    say(f"kill: {mib(present)} present ({present / total:.0%}; {mib(at_kill)} when killed after "
        f"{killed_after:.1f} s; also killed: {', '.join(sorted(left.values())) or 'nothing'}); resuming")
    wall3, resumed = nx.replicate(codes, args.workers)
    resent_sent = sum(c["bytes_sent"] for c in copies(resumed))
    figures["resume"] = {
        "killed_after_s": round(killed_after, 1), "present_bytes": present, "total_bytes": total,
        "rerun_seconds": round(wall3, 2), "rerun_bytes_sent": resent_sent,
        "resent_bytes": present + resent_sent - total, "naive_rerun_bytes_sent": total, "naive_resent_bytes": present,
        "also_killed": sorted(left.values()),
        "resumed_systems": sum(1 for s in resumed["systems"] if s["resumed"]),
    }



def rate(args: argparse.Namespace, work: Path, one: System, source_bytes: int, shell: Shell, nx: Nxgov,
         figures: dict[str, Any]) -> None:
    """3. One system: nxgov against a bare rsync through the same path."""
    nx_runs: list[dict[str, float]] = []
    rsync_runs: list[dict[str, float]] = []
    size = 0
    with agent(work, credential("legacy-ssh")["ssh_key"]) as env:
        for run in range(args.rate_runs):
            say(f"rate: run {run + 1} of {args.rate_runs} ({one.code}, {mib(source_bytes)})")
            wipe(shell, one)
            seconds, single = nx.replicate([one.code], 1)
            (copy,) = copies(single)
            size = copy["bytes"]
            nx_runs.append({"seconds": seconds, **copy_step(single, work / "state.db")})
            wipe(shell, one)
            seconds, received, rate = bare_rsync(work, env, one)
            if data_bytes(shell, one) != size:
                raise RuntimeError("the bare rsync did not copy the same bytes")
            rsync_runs.append({"seconds": seconds, "bytes_received": received, "rsync_rate": rate})
            last = nx_runs[-1]
            say(f"rate: nxgov {last['seconds']:.2f} s end to end, copy step {last['copy_step_s']:.2f} s (copy task "
                f"{last['copy_task_s']:.2f} s, source's {last['source_task_s']:.2f} s, recorded "
                f"{last['recorded_after_s']:.2f} s after); bare rsync {seconds:.2f} s")

    def best(runs: list[dict[str, float]], key: str, high: bool = False) -> float:
        return max(r[key] for r in runs) if high else min(r[key] for r in runs)

    rsync_s = best(rsync_runs, "seconds")
    nx_s, step_s, task_s = best(nx_runs, "seconds"), best(nx_runs, "copy_step_s"), best(nx_runs, "copy_task_s")
    figures["rate"] = {
        "system": one.code, "bytes": size, "runs": {"nxgov": nx_runs, "rsync": rsync_runs},
        "nxgov_seconds": round(nx_s, 2), "nxgov_mib_per_s": round(size / nx_s / MIB, 1),
        "nxgov_copy_step_seconds": round(step_s, 2), "nxgov_copy_step_mib_per_s": round(size / step_s / MIB, 1),
        "nxgov_copy_task_seconds": round(task_s, 2),
        "nxgov_rsync_reported_mib_per_s": round(best(nx_runs, "rsync_rate", True) / MIB, 1),
        "rsync_seconds": round(rsync_s, 2), "rsync_mib_per_s": round(size / rsync_s / MIB, 1),
        "rsync_reported_mib_per_s": round(best(rsync_runs, "rsync_rate", True) / MIB, 1),
        "ratio": round(rsync_s / nx_s, 2), "copy_step_ratio": round(rsync_s / step_s, 2),
        "copy_task_ratio": round(rsync_s / task_s, 2),
    }


def wave_rows(figures: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    wave, again, res = figures["wave"], figures["wave_again"], figures["resume"]
    n = len(figures["systems"])
    return [
        (f"wave of {n} x {args.mib} MiB (--workers {args.workers}): wall", f"{wave['seconds']:.1f} s", "", "-"),
        ("  bytes sent (rsync's count) / on the targets", f"{wave['bytes_sent']:,} / {wave['bytes']:,}", "", "-"),
        ("  rate", f"{wave['mib_per_s']:.1f} MiB/s", "", "-"),
        ("  the same wave again (nothing changed)", f"{again['seconds']:.1f} s, {again['bytes_sent']:,} B sent",
         "", "-"),
        (f"killed at {res['present_bytes'] / res['total_bytes']:.0%} ({res['killed_after_s']:.0f} s in), re-run: "
         "bytes sent", f"{res['rerun_bytes_sent']:,}", f"{res['naive_rerun_bytes_sent']:,}", "-"),
        ("  bytes re-sent (present at the kill + re-run's - total)", f"{res['resent_bytes']:,}",
         f"{res['naive_resent_bytes']:,}", "much less than naive"),
        ("  re-run wall", f"{res['rerun_seconds']:.1f} s", "", "-"),
    ]


def table(figures: dict[str, Any], args: argparse.Namespace) -> None:
    rate = figures["rate"]
    rows = [] if args.rate_only else wave_rows(figures, args)
    rows += [
        (f"one system ({mib(rate['bytes'])}), fresh target, best of {args.rate_runs}: end to end",
         f"{rate['nxgov_seconds']:.2f} s, {rate['nxgov_mib_per_s']:.1f} MiB/s",
         f"{rate['rsync_seconds']:.2f} s, {rate['rsync_mib_per_s']:.1f} MiB/s",
         f"ratio {rate['ratio']:.2f} (goal >= {RATE_GOAL})"),
        ("  the copy step (copy task's start to the verified copy recorded)",
         f"{rate['nxgov_copy_step_seconds']:.2f} s, {rate['nxgov_copy_step_mib_per_s']:.1f} MiB/s", "",
         f"ratio {rate['copy_step_ratio']:.2f} (goal >= {RATE_GOAL})"),
        ("  the copy task alone (on the target: session, rsync, manifest)", f"{rate['nxgov_copy_task_seconds']:.2f} s",
         "", f"ratio {rate['copy_task_ratio']:.2f}"),
        ("  rsync's own rate", f"{rate['nxgov_rsync_reported_mib_per_s']:.1f} MiB/s",
         f"{rate['rsync_reported_mib_per_s']:.1f} MiB/s", "-"),
    ]
    header = ("work", "nxgov", "naive re-run / bare rsync", "goal / note")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=10, help="systems in the wave (1-50)")
    parser.add_argument("--mib", type=int, default=100, help="MiB of data per system (1 MiB files; at most 400)")
    parser.add_argument("--workers", type=int, default=4, help="replicate's --workers for the wave")
    parser.add_argument("--rate-runs", type=int, default=3, help="runs of the one-system comparison (best shown)")
    parser.add_argument("--rate-only", action="store_true", help="only the one-system comparison (3.), no wave")
    parser.add_argument("--wait", type=float, default=1200, help="seconds to wait for the lab's pytest runs to end")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the benchmark makes legacy hosts in the lab", file=sys.stderr)
        return 2
    if not 1 <= args.systems <= 50 or not 1 <= args.mib <= 400:
        parser.error("--systems 1-50, --mib 1-400 (a legacy host's /srv is a 512 MiB tmpfs)")
    running, detail = openstack_running()
    if not running:
        print(f"the lab's OpenStack is not running ({detail}): start it with `nxgov -e inventories/lab lab up` "
              "(this benchmark never starts or stops the lab)", file=sys.stderr)
        return 2
    wait_for_quiet_lab(args.wait)

    systems = [System(f"bench-{i:02d}", f"2001:db8:ff20:{i}::10", "yinchuan" if i % 2 else "zhongwei")
               for i in range(1, args.systems + 1)]
    figures: dict[str, Any] = {"systems": [s.code for s in systems], "mib_per_system": args.mib,
                               "workers": args.workers, "machine_cores": os.cpu_count()}
    hosts = LegacyHosts(LAB)
    work = Path(tempfile.mkdtemp(prefix="nxgov-bench-transfer-"))
    estate = work / "estate"
    nx = Nxgov(work, estate)
    shell = Shell()
    applied = False
    began = time.perf_counter()
    try:
        say(f"setup: {len(systems)} legacy hosts ({detail})")
        public = Path(credential("legacy-ssh")["ssh_key"] + ".pub").read_text().strip()
        hosts.up(host_specs(systems, public))
        figures["source_bytes"] = sum(fill(shell, s, args.mib) for s in systems)
        say(f"setup: {mib(figures['source_bytes'])} of random data on the sources; cloud apply")
        write_estate(estate, systems)
        applied = True
        nx.run("cloud", "apply", "--yes")
        nx.run("-o", "json", "migrate", "assess")
        os.environ["OS_CLIENT_CONFIG_FILE"] = nx.env["OS_CLIENT_CONFIG_FILE"]
        from nxgov.cloud.servers import system_servers
        from nxgov.estate import load_estate

        loaded = load_estate(estate)
        for system in systems:
            (server,) = [s for s in system_servers(loaded, system.code) if s.status == "ACTIVE"]
            system.target = server.addresses[0]
        say(f"setup done in {time.perf_counter() - began:.0f} s; targets: "
            + ", ".join(f"{s.code}@{s.node} {s.target}" for s in systems))
        measure(args, work, systems, shell, nx, figures)
    finally:
        shell.close()
        for pid in mine(str(work)):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if applied:
            say("teardown: pruning the estate's cloud resources")
            doc = yaml.safe_load((estate / "estate.yaml").read_text())
            doc["departments"], doc["systems"] = [], []
            (estate / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
            pruned = nx.run("cloud", "apply", "--prune", "--yes", check=False)
            if pruned.returncode != 0:
                say(f"teardown: prune exited {pruned.returncode}: {pruned.stderr[-1500:]}")
        say("teardown: removing the legacy hosts")
        hosts.remove([s.code for s in systems])
        shutil.rmtree(work, ignore_errors=True)
        say(f"total {time.perf_counter() - began:.0f} s")
    table(figures, args)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
