"""No change without its audit record: every mutating command checks the audit log before it changes anything.

``AuditLog.preflight`` fails when the log cannot be written or its chain does not verify. The CLI tests
run every mutating command that runs without the lab against a log that cannot be written and against a
log with an edited record, and check the exit code, the message and that nothing changed.

Tests run as root, where file modes do not stop writes, so "cannot be written" is made two ways that fail
for root too: the log's parent is a regular file (``mkdir`` fails), and the log's path is a directory.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from nxgov.audit import AuditLog
from nxgov.errors import AuditError
from tests.conftest import ROOT, Run


def filled(path: Path, count: int) -> AuditLog:
    log = AuditLog(path, operator="alice")
    for index in range(1, count + 1):
        log.append("cloud apply", f"yinchuan/p{index}", "changed", {"index": index})
    return log


def edit(path: Path, line: int) -> None:
    """Change one field of record ``line`` (1-based), leaving its hash as it was."""
    content = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(content[line - 1])
    record["result"] = "ok" if record["result"] != "ok" else "failed"
    content[line - 1] = json.dumps(record)
    path.write_text("".join(text + "\n" for text in content), encoding="utf-8")


# --- the SDK ---------------------------------------------------------------------------------------------------


def test_preflight_passes_on_a_new_and_an_intact_log(tmp_path: Path) -> None:
    AuditLog(tmp_path / "new" / "audit.jsonl").preflight()
    log = filled(tmp_path / "audit.jsonl", 5)
    log.preflight()
    log.preflight()
    assert log.verify().ok and log.verify().records == 5


@pytest.mark.parametrize("line", [1, 3, 5])
def test_preflight_names_the_first_edited_record_and_the_fix(tmp_path: Path, line: int) -> None:
    log = filled(tmp_path / "audit.jsonl", 5)
    edit(log.path, line)
    with pytest.raises(AuditError) as raised:
        log.preflight()
    assert str(log.path) in raised.value.message and f"line {line}" in raised.value.message
    assert "edited" in raised.value.message
    assert raised.value.hint is not None and "nxgov audit verify" in raised.value.hint


def test_an_edit_in_the_part_already_checked_is_still_caught(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.jsonl", 5)
    log.preflight()
    log.append("net push", "ce-1", "changed")
    log.preflight()
    edit(log.path, 2)
    with pytest.raises(AuditError, match="line 2"):
        log.preflight()


def test_truncation_and_a_torn_last_line_are_caught(tmp_path: Path) -> None:
    log = filled(tmp_path / "audit.jsonl", 5)
    log.preflight()
    content = log.path.read_text(encoding="utf-8").splitlines()
    log.path.write_text("".join(text + "\n" for text in content[:3]), encoding="utf-8")
    with pytest.raises(AuditError, match=r"line 4 .*truncated"):
        log.preflight()
    other = filled(tmp_path / "other.jsonl", 2)
    with other.path.open("ab") as handle:
        handle.write(b'{"seq": 3, "ti')
    with pytest.raises(AuditError, match="line 3: unparseable"):
        other.preflight()


@pytest.mark.parametrize("checkpoint", ["garbage", "{}", "wrong digest"])
def test_a_damaged_checkpoint_neither_hides_a_break_nor_invents_one(tmp_path: Path, checkpoint: str) -> None:
    log = filled(tmp_path / "audit.jsonl", 4)
    log.preflight()
    sidecar = tmp_path / "audit.jsonl.verified"
    assert sidecar.exists()
    if checkpoint == "wrong digest":
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        sidecar.write_text(json.dumps({**data, "digest": "0" * 64}), encoding="utf-8")
    else:
        sidecar.write_text(checkpoint, encoding="utf-8")
    log.preflight()
    edit(log.path, 1)
    sidecar.write_text("garbage" if checkpoint == "garbage" else sidecar.read_text(encoding="utf-8"))
    with pytest.raises(AuditError, match="line 1"):
        log.preflight()


@pytest.mark.parametrize("how", ["parent is a file", "log is a directory"])
def test_preflight_refuses_a_log_that_cannot_be_written(tmp_path: Path, how: str) -> None:
    path = unwritable(tmp_path, how)
    with pytest.raises(AuditError) as raised:
        AuditLog(path).preflight()
    assert str(path) in raised.value.message
    assert raised.value.hint is not None and "--audit-log" in raised.value.hint


# --- every mutating command, through the CLI -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_known_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SSH host keys trusted by the commands under test go to the test's directory (autouse: set before the
    ``nxgov`` fixture copies the environment)."""
    monkeypatch.setenv("NXGOV_KNOWN_HOSTS", str(tmp_path / "known_hosts"))


def unwritable(tmp_path: Path, how: str) -> Path:
    """An audit log path that even root cannot write: under a regular file, or a directory itself."""
    if how == "parent is a file":
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        return blocker / "audit.jsonl"
    path = tmp_path / "audit-dir.jsonl"
    path.mkdir()
    return path


BROKEN = ["parent is a file", "log is a directory", "edited record"]


def broken_log(tmp_path: Path, how: str) -> Path:
    if how == "edited record":
        log = filled(tmp_path / "edited.jsonl", 3)
        edit(log.path, 2)
        return log.path
    return unwritable(tmp_path, how)


def assert_refused(done: Run, log: Path, how: str) -> None:
    assert done.code == 1, (done.code, done.out, done.err)
    assert "Traceback" not in done.err
    text = " ".join(done.err.split())
    assert str(log) in text
    if how == "edited record":
        assert "line 2" in text and "nxgov audit verify" in text
    else:
        assert "--audit-log" in text


def estate_copy(tmp_path: Path) -> Path:
    """inventories/ningxia with its extranet credentials in a 0600 file of the test's own."""
    estate = tmp_path / "estate"
    shutil.copytree(ROOT / "inventories" / "ningxia", estate)
    credentials = tmp_path / "extranet.yaml"
    credentials.write_text("username: ops\npassword: not-a-real-password\n", encoding="utf-8")
    credentials.chmod(0o600)
    main = estate / "estate.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace("/etc/nxgov/extranet.yaml", str(credentials)),
                    encoding="utf-8")
    return estate


def numbering(state: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(state) as connection:
        return connection.execute("SELECT rowid, * FROM numbering ORDER BY estate, kind, key").fetchall()


@pytest.mark.parametrize("how", BROKEN)
def test_estate_generate_writes_nothing(nxgov: Callable[..., Run], tmp_path: Path, how: str) -> None:
    log = broken_log(tmp_path, how)
    out = tmp_path / "generated"
    done = nxgov("--audit-log", str(log), "estate", "generate", "--out", str(out), "--scale", "region")
    assert_refused(done, log, how)
    assert not out.exists()


@pytest.mark.parametrize("how", BROKEN)
def test_net_ipv6_plan_stores_nothing(nxgov: Callable[..., Run], tmp_path: Path, how: str) -> None:
    log = broken_log(tmp_path, how)
    state = tmp_path / "fresh.db"
    done = nxgov("--audit-log", str(log), "--state", str(state), "net", "ipv6", "plan")
    assert_refused(done, log, how)
    assert not state.exists() or numbering(state) == []


@pytest.mark.parametrize("how", BROKEN)
def test_net_ipv6_plan_release_releases_nothing(nxgov: Callable[..., Run], tmp_path: Path, how: str) -> None:
    assert nxgov("net", "ipv6", "plan").code == 0
    before = numbering(tmp_path / "state.db")
    assert any(row[3] == "640104" for row in before)
    log = broken_log(tmp_path, how)
    done = nxgov("--audit-log", str(log), "net", "ipv6", "plan", "--release", "640104")
    assert_refused(done, log, how)
    assert numbering(tmp_path / "state.db") == before


@pytest.mark.parametrize("how", BROKEN)
def test_net_push_touches_no_device(nxgov: Callable[..., Run], tmp_path: Path, how: str) -> None:
    estate = estate_copy(tmp_path)
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    (candidates / "ce-640100-a.cfg").write_text("sysname ce-640100-a\n", encoding="utf-8")
    log = broken_log(tmp_path, how)
    done = nxgov("-e", str(estate), "--audit-log", str(log), "net", "push", "-d", "ce-640100-a",
                 "--candidates", str(candidates), "--yes")
    assert_refused(done, log, how)
    assert not (tmp_path / "sessions").exists() and not (tmp_path / "known_hosts").exists()


@pytest.mark.parametrize("how", BROKEN)
def test_net_backup_archives_nothing(nxgov: Callable[..., Run], tmp_path: Path, how: str) -> None:
    estate = estate_copy(tmp_path)
    log = broken_log(tmp_path, how)
    archive = tmp_path / "archive"
    done = nxgov("-e", str(estate), "--audit-log", str(log), "net", "backup", "-d", "ce-640100-a",
                 "--archive", str(archive))
    assert_refused(done, log, how)
    assert not archive.exists() and not (tmp_path / "known_hosts").exists()


@pytest.mark.parametrize("how", BROKEN)
def test_cloud_apply_of_a_saved_plan_contacts_no_node(nxgov: Callable[..., Run], tmp_path: Path, how: str) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({
        "schema": "nxgov.cloud.plan/1", "estate": "ningxia", "created": "2026-11-27T00:00:00+00:00",
        "fingerprint": "0" * 64, "prune": False, "nodes": ["yinchuan"], "warnings": [], "unpruned": 0,
        "changes": [{"action": "update", "reason": "cores: 8 → 16", "fields": {"cores": [8, 16]},
                     "desired": {"kind": "quota_compute", "node": "yinchuan", "department": "nxdrc", "name": "nxdrc",
                                 "system": None, "attrs": {"cores": 16, "ram": 32768, "instances": 10}, "id": None},
                     "actual": {"kind": "quota_compute", "node": "yinchuan", "department": "nxdrc", "name": "nxdrc",
                                "system": None, "attrs": {"cores": 8, "ram": 32768, "instances": 10}, "id": "p1"}}],
    }), encoding="utf-8")
    log = broken_log(tmp_path, how)
    done = nxgov("--audit-log", str(log), "cloud", "apply", str(plan))
    assert_refused(done, log, how)
    assert "yinchuan" not in done.err, "no node was read"
