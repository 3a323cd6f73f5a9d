"""The runner: every target gets a result, in order, within the worker bound, with hooks told everything."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nxgov.audit import AuditLog
from nxgov.errors import AuditError, OperationError
from nxgov.runner import AuditHook, BaseHook, Outcome, RunResult, SkipTarget, Status, TargetResult, run


@dataclass(frozen=True)
class Node:
    region: str
    name: str

    def __str__(self) -> str:
        return f"{self.region}/{self.name}"


def mixed_task(node: Node) -> Outcome:
    """Behaviour chosen by the node's name, so one run exercises every path."""
    time.sleep(0.01 if node.name.endswith("1") else 0.001)
    if node.name.startswith("ok"):
        return Outcome(changed=False, data={"checked": node.name})
    if node.name.startswith("chg"):
        return Outcome(changed=True, data=[node.name])
    if node.name.startswith("nx"):
        raise OperationError(f"keystone refused {node.name}", "check the region's admin credentials")
    if node.name.startswith("skip"):
        raise SkipTarget("no octavia in this region")
    if node.name.startswith("bad"):
        return "not an outcome"  # type: ignore[return-value]
    raise KeyError(node.name)


NODES = [
    Node("yinchuan", "ok1"),
    Node("yinchuan", "nx1"),
    Node("yinchuan", "chg1"),
    Node("zhongwei", "boom1"),
    Node("zhongwei", "ok2"),
    Node("zhongwei", "skip1"),
    Node("backup", "bad1"),
    Node("backup", "chg2"),
]


def test_every_target_gets_a_result_in_input_order() -> None:
    result = run(mixed_task, NODES, name="check", workers=3)
    assert [r.name for r in result.results] == [str(node) for node in NODES]
    assert [r.target for r in result.results] == NODES
    statuses = {r.name: r.status for r in result.results}
    assert statuses == {
        "yinchuan/ok1": Status.ok,
        "yinchuan/nx1": Status.failed,
        "yinchuan/chg1": Status.changed,
        "zhongwei/boom1": Status.failed,
        "zhongwei/ok2": Status.ok,
        "zhongwei/skip1": Status.skipped,
        "backup/bad1": Status.failed,
        "backup/chg2": Status.changed,
    }
    by_name = result.by_name
    assert by_name["yinchuan/ok1"].data == {"checked": "ok1"} and by_name["yinchuan/ok1"].error is None
    assert by_name["yinchuan/chg1"].data == ["chg1"]
    assert by_name["yinchuan/nx1"].error == "keystone refused nx1\n  hint: check the region's admin credentials"
    assert by_name["zhongwei/boom1"].error == "KeyError: 'boom1'"
    assert by_name["backup/bad1"].error is not None and by_name["backup/bad1"].error.startswith("TypeError")
    assert by_name["zhongwei/skip1"].data == "no octavia in this region"
    assert all(r.duration_s >= 0.001 for r in result.results)
    assert not result.ok
    assert [r.name for r in result.failed] == ["yinchuan/nx1", "zhongwei/boom1", "backup/bad1"]
    assert [r.name for r in result.changed] == ["yinchuan/chg1", "backup/chg2"]


def test_a_run_without_failures_is_ok() -> None:
    result = run(lambda n: Outcome(changed=n > 2), [1, 2, 3], name="numbers")
    assert result.ok and [r.status for r in result.results] == [Status.ok, Status.ok, Status.changed]
    assert run(mixed_task, [], name="nothing").ok


def test_custom_key_and_duplicate_names() -> None:
    result = run(lambda n: Outcome(False), NODES[:2], name="k", key=lambda n: n.name)
    assert list(result.by_name) == ["ok1", "nx1"]
    with pytest.raises(ValueError, match=r"unique.*yinchuan/ok1"):
        run(mixed_task, [NODES[0], NODES[0]], name="dup")
    with pytest.raises(ValueError, match="workers"):
        run(mixed_task, NODES, name="none", workers=0)


class Recorder(BaseHook):
    """Records every call, and checks that the runner never calls two hooks at once."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.inside = 0
        self.overlapped = False

    def _record(self, *event: Any) -> None:
        self.inside += 1
        self.overlapped |= self.inside > 1
        time.sleep(0.001)
        self.events.append(event)
        self.inside -= 1

    def task_started(self, name: str, targets_count: int) -> None:
        self._record("task_started", name, targets_count)

    def target_started(self, name: str, target_key: str) -> None:
        self._record("target_started", name, target_key)

    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        self._record("target_finished", name, result.name, result.status)

    def task_finished(self, name: str, run_result: RunResult[Any]) -> None:
        self._record("task_finished", name, run_result)


def test_hooks_see_every_event_one_at_a_time() -> None:
    first, second = Recorder(), Recorder()
    result = run(mixed_task, NODES, name="check", workers=4, hooks=[first, second])
    for hook in (first, second):
        assert not hook.overlapped
        assert hook.events[0] == ("task_started", "check", len(NODES))
        assert hook.events[-1] == ("task_finished", "check", result)
        middle = hook.events[1:-1]
        assert len(middle) == 2 * len(NODES)
        for node in NODES:
            started = middle.index(("target_started", "check", str(node)))
            finished = middle.index(("target_finished", "check", str(node), result.by_name[str(node)].status))
            assert started < finished
    assert first.events == second.events


def test_concurrency_never_exceeds_workers() -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def task(_: int) -> Outcome:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.03)
        with lock:
            running -= 1
        return Outcome(changed=False)

    run(task, list(range(15)), name="bounded", workers=3)
    assert peak == 3
    peak = 0
    run(task, list(range(4)), name="wide", workers=8)
    assert peak == 4


class FailingHook(BaseHook):
    def target_finished(self, name: str, result: TargetResult[Any]) -> None:
        raise AuditError("disk full")


def test_a_failing_hook_stops_the_run_and_cancels_waiting_targets() -> None:
    started: list[int] = []

    def task(n: int) -> Outcome:
        started.append(n)
        time.sleep(0.02)
        return Outcome(changed=True)

    with pytest.raises(AuditError, match="disk full"):
        run(task, list(range(20)), name="stop", workers=2, hooks=[FailingHook()])
    assert len(started) < 20


def test_audit_hook_writes_one_record_per_target(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", operator="alice")
    run(mixed_task, NODES, name="quotas", workers=4, hooks=[AuditHook(log, "cloud apply")])
    records = {record.target: record for record in log.records()}
    assert sorted(records) == sorted(str(node) for node in NODES)
    assert [r.seq for r in log.records()] == list(range(1, len(NODES) + 1))
    assert {target: r.result for target, r in records.items()} == {
        "yinchuan/ok1": "ok",
        "yinchuan/nx1": "failed",
        "yinchuan/chg1": "changed",
        "zhongwei/boom1": "failed",
        "zhongwei/ok2": "ok",
        "zhongwei/skip1": "ok",
        "backup/bad1": "failed",
        "backup/chg2": "changed",
    }
    assert all(r.command == "cloud apply" and r.operator == "alice" for r in records.values())
    assert records["yinchuan/nx1"].details["error"].startswith("keystone refused nx1")
    assert records["zhongwei/boom1"].details["error"] == "KeyError: 'boom1'"
    assert records["zhongwei/skip1"].details["skipped"] == "no octavia in this region"
    assert "error" not in records["yinchuan/ok1"].details
    assert log.verify().ok


def test_audit_hook_dry_run(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    run(mixed_task, NODES[:3], name="plan", hooks=[AuditHook(log, "cloud apply", dry_run=True)])
    assert {r.target: r.result for r in log.records()} == {
        "yinchuan/ok1": "dry-run",
        "yinchuan/nx1": "failed",
        "yinchuan/chg1": "dry-run",
    }


def test_audit_hook_refuses_to_start_on_a_damaged_log(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("cloud apply", "x", "ok")
    log.append("cloud apply", "y", "ok")
    (tmp_path / "audit.jsonl").write_text((tmp_path / "audit.jsonl").read_text().splitlines()[0] + "\n")
    touched: list[Node] = []

    def task(node: Node) -> Outcome:
        touched.append(node)
        return Outcome(changed=True)

    with pytest.raises(AuditError):
        run(task, NODES, name="apply", hooks=[AuditHook(log, "cloud apply")])
    assert touched == []


def test_audit_hook_refuses_to_start_on_an_edited_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for name in ("x", "y", "z"):
        log.append("cloud apply", name, "ok")
    content = (tmp_path / "audit.jsonl").read_text().splitlines()
    content[0] = content[0].replace('"result":"ok"', '"result":"failed"')
    (tmp_path / "audit.jsonl").write_text("".join(line + "\n" for line in content))
    touched: list[Node] = []

    def task(node: Node) -> Outcome:
        touched.append(node)
        return Outcome(changed=True)

    with pytest.raises(AuditError, match="line 1"):
        run(task, NODES, name="apply", hooks=[AuditHook(log, "cloud apply")])
    assert touched == []
