"""The audit log: hash chain, tamper detection, concurrent appenders, redaction, filters, file modes."""

from __future__ import annotations

import getpass
import itertools
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import nxgov
from nxgov.audit import GENESIS, AuditLog, AuditRecord, VerifyReport, record_hash, redact
from nxgov.errors import AuditError

REPO = Path(nxgov.__file__).resolve().parent.parent


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.jsonl"


def filled(path: Path, count: int = 10) -> AuditLog:
    log = AuditLog(path, operator="alice")
    for index in range(1, count + 1):
        log.append("cloud apply", f"yinchuan/project-{index}", "changed", {"index": index})
    return log


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, content: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in content), encoding="utf-8")


def forged(seq: int, prev: str) -> str:
    """A well-formed record with a correct hash of its own, as an attacker with the code could make."""
    fields = {
        "seq": seq,
        "time": datetime.now(UTC).isoformat(timespec="microseconds"),
        "operator": "mallory",
        "command": "cloud apply",
        "target": "yinchuan/forged",
        "result": "ok",
        "details": {},
        "prev": prev,
    }
    fields["hash"] = record_hash(fields)
    return json.dumps(fields)


def test_chain_links_every_record_and_verifies(log_path: Path) -> None:
    log = filled(log_path, 25)
    records = list(log.records())
    assert [record.seq for record in records] == list(range(1, 26))
    assert records[0].prev == GENESIS
    for before, after in itertools.pairwise(records):
        assert after.prev == before.hash
    for record in records:
        assert record.hash == record_hash(record.to_dict())
    report = log.verify()
    assert report.ok and report.records == 25 and report.first_broken is None


def test_record_fields(log_path: Path) -> None:
    record = AuditLog(log_path).append("net push", "yinchuan/core-1", "dry-run", {"lines": 3})
    assert record.operator == getpass.getuser()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", record.time)
    assert abs(record.timestamp - datetime.now(UTC)) < timedelta(seconds=5)
    on_disk = json.loads(lines(log_path)[0])
    assert on_disk == record.to_dict()
    assert AuditLog(log_path, operator="bob").append("net push", "x", "ok").operator == "bob"


def test_unknown_result_is_refused(log_path: Path) -> None:
    with pytest.raises(ValueError, match="result"):
        AuditLog(log_path).append("net push", "x", "success")


@pytest.mark.parametrize("k", [1, 5, 10])
def test_edited_record_is_reported_at_its_line(log_path: Path, k: int) -> None:
    log = filled(log_path)
    content = lines(log_path)
    record = json.loads(content[k - 1])
    record["result"] = "failed"
    content[k - 1] = json.dumps(record)
    write_lines(log_path, content)
    report = log.verify()
    assert not report.ok and report.first_broken is not None
    assert (report.first_broken.line, report.first_broken.seq) == (k, k)
    assert report.first_broken.reason.startswith("edited")
    assert report.records == k - 1


@pytest.mark.parametrize("k", [1, 4, 9])
def test_deleted_record_is_reported_where_it_was(log_path: Path, k: int) -> None:
    log = filled(log_path)
    content = lines(log_path)
    del content[k - 1]
    write_lines(log_path, content)
    broken = log.verify().first_broken
    assert broken is not None
    assert broken.line == k
    assert broken.reason.startswith("deleted")
    assert f"expected seq {k}" in broken.reason


def test_forged_record_with_recomputed_hash_is_caught_by_seq(log_path: Path) -> None:
    log = filled(log_path)
    content = lines(log_path)
    k = 4
    content.insert(k - 1, forged(seq=k, prev=json.loads(content[k - 2])["hash"]))
    write_lines(log_path, content)
    broken = log.verify().first_broken
    assert broken is not None
    assert broken.line == k + 1, "the forgery itself fits; the genuine record after it does not"
    assert broken.reason.startswith("inserted")
    assert f"expected seq {k + 1}" in broken.reason


def test_forged_record_that_does_not_chain_is_caught_by_prev(log_path: Path) -> None:
    log = filled(log_path)
    content = lines(log_path)
    content[5] = forged(seq=6, prev="f" * 64)
    write_lines(log_path, content)
    broken = log.verify().first_broken
    assert broken is not None
    assert (broken.line, broken.seq) == (6, 6)
    assert "prev hash mismatch" in broken.reason


def test_swapped_records_are_reported_as_reordered(log_path: Path) -> None:
    log = filled(log_path)
    content = lines(log_path)
    content[2], content[3] = content[3], content[2]
    write_lines(log_path, content)
    broken = log.verify().first_broken
    assert broken is not None
    assert (broken.line, broken.seq) == (3, 4)
    assert broken.reason.startswith("reordered")
    assert "expected seq 3" in broken.reason and "line 4" in broken.reason


def test_truncated_tail_is_caught_by_the_head_anchor(log_path: Path) -> None:
    log = filled(log_path)
    write_lines(log_path, lines(log_path)[:7])
    report = log.verify()
    assert not report.ok and report.records == 7
    assert report.first_broken is not None
    assert (report.first_broken.line, report.first_broken.seq) == (8, 8)
    assert "8..10" in report.first_broken.reason and report.first_broken.reason.startswith("deleted")
    with pytest.raises(AuditError, match="damaged") as refused:
        log.append("cloud apply", "yinchuan/x", "ok")
    assert refused.value.hint and "--audit-log" in refused.value.hint
    assert len(lines(log_path)) == 7, "appending would have hidden the truncation"


def test_emptied_log_is_caught_by_the_head_anchor(log_path: Path) -> None:
    log = filled(log_path, 3)
    log_path.write_bytes(b"")
    broken = log.verify().first_broken
    assert broken is not None and "1..3" in broken.reason


def test_missing_head_anchor_is_reported(log_path: Path) -> None:
    log = filled(log_path, 3)
    log.head_path.unlink()
    broken = log.verify().first_broken
    assert broken is not None and "head anchor" in broken.reason and "missing" in broken.reason
    with pytest.raises(AuditError, match="head anchor"):
        log.append("cloud apply", "yinchuan/x", "ok")


def test_append_interrupted_before_the_head_update_still_verifies(log_path: Path) -> None:
    log = filled(log_path, 3)
    head_before = log.head_path.read_bytes()
    log.append("cloud apply", "yinchuan/p", "ok")
    log.head_path.write_bytes(head_before)
    assert log.verify().ok
    log.append("cloud apply", "yinchuan/q", "ok")
    assert log.verify() == VerifyReport(ok=True, records=5, first_broken=None)


@pytest.mark.parametrize("garbage", ["this is not json", "", '{"seq": 4}', "[1, 2]"])
def test_garbage_line_is_reported_at_its_line(log_path: Path, garbage: str) -> None:
    log = filled(log_path)
    content = lines(log_path)
    content.insert(3, garbage)
    write_lines(log_path, content)
    broken = log.verify().first_broken
    assert broken is not None
    assert (broken.line, broken.seq) == (4, None)
    assert broken.reason.startswith("unparseable")
    with pytest.raises(AuditError, match="line 4"):
        list(log.records())


def test_torn_last_write_is_reported_and_blocks_appends(log_path: Path) -> None:
    log = filled(log_path, 3)
    with log_path.open("ab") as handle:
        handle.write(b'{"command":"cloud ap')
    broken = log.verify().first_broken
    assert broken is not None and broken.line == 4 and broken.reason.startswith("unparseable")
    with pytest.raises(AuditError, match="last line"):
        log.append("cloud apply", "yinchuan/x", "ok")


def test_absent_log_is_empty_and_valid(log_path: Path) -> None:
    log = AuditLog(log_path)
    assert list(log.records()) == []
    assert log.verify().ok and log.verify().records == 0


def test_long_records_are_chained_across_tail_chunks(log_path: Path) -> None:
    log = AuditLog(log_path)
    for index in range(3):
        log.append("config archive", f"zhongwei/fw-{index}", "changed", {"diff": "x" * 10_000 + str(index)})
    assert log.verify().ok
    assert [r.seq for r in log.records()] == [1, 2, 3]


APPENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from nxgov.audit import AuditLog
    log = AuditLog(Path(sys.argv[1]), operator=sys.argv[2])
    for index in range(int(sys.argv[3])):
        log.append("cloud apply", f"{sys.argv[2]}/{index}", "ok", {"index": index})
    """
)


def test_concurrent_processes_keep_the_chain_while_readers_verify(log_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    workers = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(log_path), f"proc{n}", "500"], env=env)
        for n in range(4)
    ]
    checks = []
    while any(worker.poll() is None for worker in workers):
        checks.append(AuditLog(log_path).verify())
        time.sleep(0.05)
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0, 0]
    assert len(checks) > 3 and all(check.ok for check in checks), "a reader never sees a half-written log"
    records = list(AuditLog(log_path).records())
    assert [record.seq for record in records] == list(range(1, 2001))
    for n in range(4):
        mine = [record.details["index"] for record in records if record.operator == f"proc{n}"]
        assert mine == list(range(500)), "each process's records are all there, in its own order"
    report = AuditLog(log_path).verify()
    assert report.ok and report.records == 2000


def test_secrets_never_reach_the_file(log_path: Path) -> None:
    secret = "S3cr3t-Pa55"
    token = "gAAAAA-keystone-token"
    AuditLog(log_path).append(
        "cloud apply",
        f"yinchuan/{secret}",
        "failed",
        {
            "OS_PASSWORD": "hunter2-key-value",
            "auth": {"Token": token, "user": "admin"},
            "servers": [{"admin_pass": "fine", "db_credentials": ["x-cred-1"]}, ("api_key", "not-a-key-name")],
            "error": f"login failed with password {secret} for admin",
            "private_key": {"pem": "-----BEGIN RSA-----"},
        },
        secrets=[secret],
    )
    data = log_path.read_bytes() + AuditLog(log_path).head_path.read_bytes()
    for leaked in (secret, token, "hunter2-key-value", "x-cred-1", "BEGIN RSA"):
        assert leaked.encode() not in data
    record = next(AuditLog(log_path).records())
    assert record.details["auth"] == {"Token": "***", "user": "admin"}
    assert record.details["error"] == "login failed with password *** for admin"
    assert record.details["servers"][1] == ["api_key", "not-a-key-name"], "only keys are matched, not values"
    assert record.target == "yinchuan/***"
    assert AuditLog(log_path).verify().ok


def test_redact_is_recursive_and_json_safe() -> None:
    value = {"a": ("x-abc-y", {"Secret": 1}), "path": Path("/etc/abc"), 3: [None, True, 1.5]}
    assert redact(value, secrets=["abc", ""]) == {
        "a": ["x-***-y", {"Secret": "***"}],
        "path": "/etc/***",
        "3": [None, True, 1.5],
    }


def test_records_filters(log_path: Path) -> None:
    log = AuditLog(log_path, operator="alice")
    log.append("cloud apply", "yinchuan/nxdrc", "changed")
    log.append("cloud apply", "yinchuan/nxdrc-test", "ok")
    log.append("cloud apply", "yinchuan", "ok")
    AuditLog(log_path, operator="bob").append("net push", "zhongwei/core-1", "failed")
    middle = datetime.now(UTC)
    AuditLog(log_path, operator="bob").append("net push", "yinchuan/core-1/ge0", "ok")

    def seqs(since: datetime | None = None, operator: str | None = None, target: str | None = None) -> list[int]:
        return [record.seq for record in log.records(since=since, operator=operator, target=target)]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs(operator="bob") == [4, 5]
    assert seqs(target="yinchuan/nxdrc") == [1]
    assert seqs(target="yinchuan/") == [1, 2, 5]
    assert seqs(target="yinchuan") == [1, 2, 3, 5]
    assert seqs(target="yinchuan/core-1") == [5]
    assert seqs(since=middle) == [5]
    assert seqs(since=middle, operator="alice") == []
    with pytest.raises(ValueError, match="timezone"):
        list(log.records(since=datetime.now()))


def test_files_are_private(log_path: Path) -> None:
    log = filled(log_path, 2)
    assert stat.S_IMODE(log_path.parent.stat().st_mode) == 0o700
    for path in (log_path, log.head_path, log.lock_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_unwritable_location_names_the_path_and_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    target = blocker / "audit.jsonl"
    with pytest.raises(AuditError) as raised:
        AuditLog(target).append("cloud apply", "x", "ok")
    assert str(target) in raised.value.message
    assert raised.value.hint is not None
    assert "--audit-log" in raised.value.hint and "NXGOV_AUDIT_LOG" in raised.value.hint


def test_preflight_checks_without_writing(log_path: Path) -> None:
    log = filled(log_path, 2)
    log.preflight()
    assert len(lines(log_path)) == 2
    write_lines(log_path, lines(log_path)[:1])
    with pytest.raises(AuditError):
        log.preflight()


def test_audit_record_round_trips() -> None:
    fields: dict[str, Any] = {
        "seq": 1, "time": "2025-01-01T00:00:00.000000+00:00", "operator": "a", "command": "c", "target": "t",
        "result": "ok", "details": {}, "prev": GENESIS,
    }
    record = AuditRecord(**fields, hash=record_hash(fields))
    assert AuditRecord(**record.to_dict()) == record
