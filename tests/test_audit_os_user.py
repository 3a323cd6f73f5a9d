"""Who did it: every audit record names the OS account beside the operator the command declared."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from nxgov.audit import GENESIS, AuditLog, canonical_json, record_hash
from tests.conftest import ROOT, Run

ME = pwd.getpwuid(os.getuid()).pw_name


def old_records(path: Path, count: int) -> None:
    """A log as nxgov wrote it before records had ``os_user``: records, and the head anchor."""
    prev, content = GENESIS, []
    for seq in range(1, count + 1):
        fields = {"seq": seq, "time": "2026-01-01T00:00:00.000000+00:00", "operator": "alice",
                  "command": "cloud apply", "target": f"yinchuan/p{seq}", "result": "changed", "details": {},
                  "prev": prev}
        fields["hash"] = prev = record_hash(fields)
        content.append(canonical_json(fields) + "\n")
    path.write_text("".join(content), encoding="utf-8")
    path.with_name(path.name + ".head").write_text(canonical_json({"seq": count, "hash": prev}), encoding="utf-8")


def test_the_os_account_is_recorded_beside_the_declared_operator(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", operator="somebody-else")
    record = log.append("net push", "ce-1", "changed")
    assert (record.operator, record.os_user) == ("somebody-else", ME)
    on_disk = json.loads((tmp_path / "audit.jsonl").read_text(encoding="utf-8"))
    assert on_disk["os_user"] == ME and on_disk == record.to_dict()
    assert next(log.records()).os_user == ME


def test_the_os_account_does_not_come_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "USER": "mallory", "LOGNAME": "mallory", "LNAME": "mallory", "USERNAME": "mallory",
           "PYTHONPATH": str(ROOT)}
    script = "import sys; from pathlib import Path; from nxgov.audit import AuditLog; " \
             "AuditLog(Path(sys.argv[1])).append('net push', 'x', 'ok')"
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "audit.jsonl")], env=env, check=True)
    record = next(AuditLog(tmp_path / "audit.jsonl").records())
    assert record.operator == "mallory", "the declared operator defaults to the login name"
    assert record.os_user == ME


def test_the_os_account_is_covered_by_the_hash(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for index in range(3):
        log.append("net push", f"ce-{index}", "ok")
    content = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(content[1])
    record["os_user"] = "somebody-else"
    content[1] = json.dumps(record)
    (tmp_path / "audit.jsonl").write_text("".join(line + "\n" for line in content), encoding="utf-8")
    broken = log.verify().first_broken
    assert broken is not None and (broken.line, broken.seq) == (2, 2) and broken.reason.startswith("edited")


def test_records_written_before_the_field_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    old_records(path, 3)
    log = AuditLog(path, operator="bob")
    assert log.verify().ok
    log.append("net push", "ce-1", "changed")
    report = log.verify()
    assert report.ok and report.records == 4
    assert [r.os_user for r in log.records()] == [None, None, None, ME]
    assert "os_user" not in next(log.records()).to_dict()
    content = path.read_text(encoding="utf-8").splitlines()
    newest = json.loads(content[3])
    del newest["os_user"]
    content[3] = json.dumps(newest)
    path.write_text("".join(line + "\n" for line in content), encoding="utf-8")
    broken = log.verify().first_broken
    assert broken is not None and broken.line == 4, "removing the field from a new record is an edit"


def test_audit_show_lists_the_os_account(nxgov: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "shown.jsonl"
    old_records(path, 1)
    AuditLog(path, operator="declared-op").append("net push", "ce-1", "changed")
    table = nxgov("--audit-log", str(path), "audit", "show")
    assert table.code == 0, table.err
    assert "os user" in table.out
    row = next(line for line in table.out.splitlines() if "ce-1" in line)
    assert "declared-op" in row and ME in row
    document = nxgov("--audit-log", str(path), "-o", "json", "audit", "show").json()
    assert [r.get("os_user") for r in document["records"]] == [None, ME]
