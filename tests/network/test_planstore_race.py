"""Concurrent ``net ipv6 plan`` runs on one state store: load, compute and save are one write transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from nxgov.network.ipv6plan import PlanOutcome, compute_plan
from nxgov.network.planstore import load_allocations, plan_ipv6
from nxgov.state import StateStore
from tests.conftest import Run
from tests.network.estates import sample, without


def together(store_path: Path, jobs: list[Callable[[StateStore], PlanOutcome]]) -> list[PlanOutcome | BaseException]:
    """Run each job on its own thread and store connection, all released at the same instant."""
    start = threading.Barrier(len(jobs))
    results: list[PlanOutcome | BaseException] = [RuntimeError("did not run")] * len(jobs)

    def worker(index: int) -> None:
        with StateStore.open(store_path) as store:
            start.wait()
            try:
                results[index] = jobs[index](store)
            except BaseException as error:
                results[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_planners_started_together_both_succeed_and_allocate_once(tmp_path: Path) -> None:
    estate = sample("ningxia")
    results = together(tmp_path / "state.db", [lambda store: plan_ipv6(store, estate)] * 4)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    outcomes = [r for r in results if isinstance(r, PlanOutcome)]
    assert sorted(o.counts()["new"] for o in outcomes) == [0, 0, 0, 274], "one run allocates, the others keep"
    with StateStore.open(tmp_path / "state.db") as store:
        stored = load_allocations(store, "ningxia")
    assert len(stored) == 274
    assert not compute_plan(estate, stored).changed
    assert {(a.kind, a.key): a.value for a in stored} == {(a.kind, a.key): a.value for a in outcomes[0].allocations}


def test_a_release_and_a_return_at_once_lose_nothing(tmp_path: Path) -> None:
    """Site 640104 was removed (its site block and ASN reserved). One planner releases it while another plans
    the estate it is back in. Run one after the other, either the release frees the numbers and the return numbers the
    site anew, or the return restores them and the release frees them: never a restore that is not stored."""
    base, removed = sample("ningxia"), without(sample("ningxia"), "640104")
    with StateStore.open(tmp_path / "state.db") as store:
        plan_ipv6(store, base)
        plan_ipv6(store, removed)
    for _ in range(5):
        release, back = together(tmp_path / "state.db", [
            lambda store: plan_ipv6(store, removed, release=["640104"]),
            lambda store: plan_ipv6(store, base),
        ])
        assert isinstance(release, PlanOutcome) and isinstance(back, PlanOutcome), (release, back)
        with StateStore.open(tmp_path / "state.db") as store:
            stored = [a for a in load_allocations(store, "ningxia") if a.key == "640104"]
            if [a for a in back.restored if a.key == "640104"]:
                assert {a.state for a in release.released} == {"active"}, "the release ran second: it saw the restore"
                assert stored == []
                plan_ipv6(store, base)
            else:
                assert {a.state for a in release.released} == {"reserved"}
                assert {(a.kind, a.key) for a in back.new} == {("site", "640104"), ("asn", "640104")}
                assert stored and {a.state for a in stored} == {"active"}
            plan_ipv6(store, removed)


def test_two_cli_planners_started_together(nxgov: Callable[..., Run], tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    env_args = ["--state", str(tmp_path / "race.db"), "--audit-log", str(tmp_path / "race.jsonl")]
    procs = [subprocess.Popen([sys.executable, "-c", "from nxgov.cli.main import run; run()", *env_args,
                               "-o", "json", "net", "ipv6", "plan"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    done = [(proc.wait(timeout=120), *proc.communicate()) for proc in procs]
    assert [code for code, _, _ in done] == [0, 0], [err for _, _, err in done]
    assert all("Traceback" not in err and "IntegrityError" not in err for _, _, err in done)
    with sqlite3.connect(tmp_path / "race.db") as connection:
        assert connection.execute("SELECT count(*) FROM numbering").fetchone() == (274,)
    news = sorted(Run(0, out, "").json()["counts"]["new"] for _, out, _ in done)
    assert news == [0, 274]
    audit = nxgov("--audit-log", str(tmp_path / "race.jsonl"), "-o", "json", "audit", "show")
    assert [r["command"] for r in audit.json()["records"]] == ["net ipv6 plan"], "one change, one record"
