"""Migration benchmark (issue 10), printed side by side with its goals (never asserted in tests).

1. On the full-scale generated estate (1,000 systems, 100 departments), with a synthetic assessment stored for
   every system (``save_assessment``; about a third depend on an earlier system of their department, one in
   twenty on a system of another department, one two-system cycle per ten departments, one in ten with no sign
   of use) and some systems moved along the lifecycle (replicating, cut over, finalized, retired):
   ``nxgov migrate plan``, ``nxgov migrate status`` and ``nxgov migrate status --plan`` end to end (subprocess,
   best of 3), their SDK calls alone (``make_plan``, ``migration_status``; best of 3) and ``nxgov estate
   validate`` on the same estate, the loading both commands sit on. Goal: plan and status under 2 s each.
2. The transfer part of the issue's benchmark (a wave of 10 systems of ~100 MB: wall time and bytes sent,
   killed at 50 % and resumed against a naive re-run, rate against a bare rsync) runs on the lab:
   ``bench/migrate_transfer.py``.

Run: ``.venv/bin/python bench/migrate.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nxgov.audit import AuditLog  # noqa: E402
from nxgov.estate import load_estate  # noqa: E402
from nxgov.estate.model import Estate  # noqa: E402
from nxgov.migrate.assessment import (  # noqa: E402
    Assessment,
    Connection,
    Disk,
    Listening,
    PathUsage,
    ZombieEvidence,
    load_assessments,
    save_assessment,
)
from nxgov.migrate.lifecycle import advance  # noqa: E402
from nxgov.migrate.plan import make_plan  # noqa: E402
from nxgov.migrate.status import migration_status  # noqa: E402
from nxgov.state import StateStore  # noqa: E402

NXGOV = ROOT / ".venv" / "bin" / "nxgov"
GOAL = 2.0
ASSESSED_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
MB = 1 << 20
STATE_AFTER = {"replicate": "replicating", "cut-over": "cut-over", "finalize": "finalized", "retire": "retired"}
TO_CUT_OVER = ("replicate", "replicated", "test", "tested", "cutover", "cut-over")


def lifecycle_events(i: int) -> tuple[str, ...]:
    """The lifecycle events system ``i`` goes through: a third of the zombies (below) retired, some others
    replicating, cut over or finalized, the rest left assessed."""
    if i % 10 == 9:
        return ("retire",) if (i // 10) % 3 == 0 else ()
    if i % 17 == 0:
        return (*TO_CUT_OVER, "finalize")
    if i % 11 == 0:
        return TO_CUT_OVER
    if i % 7 == 0:
        return ("replicate",)
    return ()


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def assessment(estate: Estate, i: int) -> Assessment:
    """A plausible assessment of system ``i``: deterministic, with some dependencies and some zombies."""
    system = estate.systems[i]
    assert system.source is not None
    siblings = [s.code for s in estate.systems if s.department == system.department]
    hosts = {s.code: s.source.host for s in estate.systems if s.source is not None}
    position = siblings.index(system.code)
    depends: set[str] = set()
    if position > 0 and i % 3 == 0:
        depends.add(siblings[position - 1])  # an earlier system of its department
    if i % 20 == 5 and i >= 50:
        depends.add(estate.systems[i - 50].code)  # a system of another department
    if (i - position) % 100 == 0 and len(siblings) > 1:  # one department in ten (10 systems each)
        depends.add(siblings[1 - position] if position < 2 else siblings[0])  # its first two: a cycle
    zombie = i % 10 == 9
    used = iso(ASSESSED_AT - timedelta(days=400 if zombie else 2))
    data = (1 + i % 40) * 1024 * MB
    return Assessment(
        system=system.code, host=system.source.host, assessed_at=iso(ASSESSED_AT), os_release="CentOS Linux 7",
        cpus=2 + i % 6, memory_bytes=(4 + i % 12) * 1024 * MB,
        disks=[Disk(mount="/", size_bytes=100 * 1024 * MB, used_bytes=30 * 1024 * MB),
               Disk(mount="/srv", size_bytes=500 * 1024 * MB, used_bytes=data)],
        paths=[PathUsage(path=p, bytes=data // len(system.source.paths), files=1000 + i, newest_change=used)
               for p in system.source.paths],
        listening=[Listening(port=22, process="sshd"), Listening(port=8080, process="java")],
        connections=[] if zombie else [Connection(local_port=40000 + n, remote=hosts.get(code, "::1"),
                                                  remote_port=5432, system=code)
                                       for n, code in enumerate(sorted(depends))],
        depends_on=sorted(depends),
        zombie=ZombieEvidence(last_login=None if zombie else used, newest_change=used,
                              connections_seen=0 if zombie else 3 + len(depends),
                              access_log_requests=None if zombie else 1000 + i),
    )


def prepare(root: Path) -> tuple[Path, Path, dict[str, int]]:
    """Generate the full-scale estate, store an assessment per system and move some along the lifecycle."""
    estate_dir, state = root / "full", root / "state.db"
    subprocess.run([str(NXGOV), "--audit-log", str(root / "audit.jsonl"), "--state", str(state), "estate",
                    "generate", "--scale", "full", "--out", str(estate_dir)], check=True, capture_output=True)
    estate = load_estate(estate_dir).estate
    audit = AuditLog(root / "audit.jsonl", operator="bench")
    moved: dict[str, int] = {}
    with StateStore.open(state) as store:
        for i, system in enumerate(estate.systems):
            if system.source is not None:
                save_assessment(store, assessment(estate, i))
        for i, system in enumerate(estate.systems):
            events = lifecycle_events(i)
            if system.source is not None and events:
                for event in events:
                    advance(store, system.code, event, audit)
                done = STATE_AFTER[events[-1]]
                moved[done] = moved.get(done, 0) + 1
    return estate_dir, state, moved


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def cli(argv: list[str], env: dict[str, str]) -> Callable[[], object]:
    def run() -> object:
        done = subprocess.run([str(NXGOV), *argv], capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"nxgov {' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
        return done
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement; the best is shown")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="nxgov-bench-") as tmp:
        root = Path(tmp)
        estate_dir, state, moved = prepare(root)
        env = {**os.environ, "NXGOV_ESTATE": str(estate_dir), "NXGOV_STATE": str(state),
               "NXGOV_AUDIT_LOG": str(root / "audit.jsonl")}
        plan_file = root / "plan.yaml"
        subprocess.run([str(NXGOV), "migrate", "plan", "--start", "2026-12-01", "--out", str(plan_file)],
                       env=env, check=True, capture_output=True)
        estate = load_estate(estate_dir).estate
        with StateStore.open(state) as store:
            assessments = load_assessments(store)
            now = datetime.now(UTC)
            start = datetime(2026, 12, 1, tzinfo=UTC)
            plan = make_plan(estate, assessments, start=start, created=iso(now))
            deps = sum(len(a.depends_on) for a in assessments.values())
            print(f"estate: {len(estate.systems)} systems in {len(estate.departments)} departments, "
                  f"{len(assessments)} assessments stored ({deps} dependencies), lifecycle moves: "
                  + ", ".join(f"{n} {state}" for state, n in sorted(moved.items())))
            print(f"plan: {len(plan.waves)} waves, {sum(len(w.systems) for w in plan.waves)} systems planned, "
                  f"{len(plan.not_planned)} not planned, {len(plan.notes)} notes\n")

            validate = best(args.runs, cli(["estate", "validate", str(estate_dir)], env))
            rows.append(("nxgov estate validate (the loading below)", f"{validate:.2f} s", "baseline"))
            for argv in (["migrate", "plan", "--start", "2026-12-01"], ["migrate", "status"],
                         ["migrate", "status", "--plan", str(plan_file)], ["--output", "json", "migrate", "plan",
                                                                           "--start", "2026-12-01"],
                         ["--output", "json", "migrate", "status"]):
                seconds = best(args.runs, cli(argv, env))
                label = " ".join(a if a != str(plan_file) else "FILE" for a in argv)
                rows.append((f"nxgov {label}", f"{seconds:.2f} s", f"goal < {GOAL:g} s"))
            sdk_plan = best(args.runs, lambda: make_plan(estate, load_assessments(store), start=start,
                                                         created=iso(now)))
            rows.append(("SDK: load_assessments + make_plan", f"{sdk_plan:.2f} s", "-"))
            sdk_status = best(args.runs, lambda: migration_status(estate, store, now))
            rows.append(("SDK: migration_status", f"{sdk_status:.2f} s", "-"))
            sdk_waves = best(args.runs, lambda: migration_status(estate, store, now, plan=plan))
            rows.append(("SDK: migration_status with the plan", f"{sdk_waves:.2f} s", "-"))
            sdk_load = best(args.runs, lambda: load_estate(estate_dir))
            rows.append(("SDK: load_estate", f"{sdk_load:.2f} s", "-"))

    header = ("benchmark (full-scale estate, 1,000 systems)", f"nxgov (best of {args.runs})", "goal / note")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
