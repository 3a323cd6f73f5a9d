"""``nxgov audit show|verify`` through real processes: output, JSON documents, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import nxgov
from nxgov.audit import AuditLog

REPO = Path(nxgov.__file__).resolve().parent.parent
ENTRY = "from nxgov.cli.main import run; run()"


def nxgov_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "XDG_STATE_HOME": str(tmp_path / "xdg"),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    env.pop("NXGOV_AUDIT_LOG", None)
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    AuditLog(path, operator="alice").append("cloud apply", "yinchuan/nxdrc", "changed", {"quota": 10})
    AuditLog(path, operator="alice").append("cloud apply", "yinchuan/nxgat", "ok")
    AuditLog(path, operator="bob").append("net push", "zhongwei/core-1", "failed", {"error": "timeout"})
    AuditLog(path, operator="bob").append("backup run", "backup/db", "started")
    return path


def test_show_table(tmp_path: Path, log_path: Path) -> None:
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "audit", "show")
    assert done.returncode == 0
    for text in ("yinchuan/nxdrc", "zhongwei/core-1", "backup/db", "alice", "bob", "failed", '{"error":"timeout"}'):
        assert text in done.stdout


def test_show_json_document(tmp_path: Path, log_path: Path) -> None:
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "-o", "json", "audit", "show")
    assert done.returncode == 0
    document = as_json(done)
    assert document["schema"] == "nxgov.audit.show/1"
    assert [record["seq"] for record in document["records"]] == [1, 2, 3, 4]
    assert document["records"][0] == next(AuditLog(log_path).records()).to_dict()


@pytest.mark.parametrize(
    ("filters", "seqs"),
    [
        (["--operator", "bob"], [3, 4]),
        (["--target", "yinchuan/"], [1, 2]),
        (["--target", "zhongwei"], [3]),
        (["--limit", "2"], [3, 4]),
        (["--operator", "alice", "--limit", "1"], [2]),
        (["--since", "2h"], [1, 2, 3, 4]),
        (["--since", (datetime.now() + timedelta(hours=1)).isoformat(timespec="seconds")], []),
        (["--since", "2000-01-01T00:00:00+08:00"], [1, 2, 3, 4]),
    ],
)
def test_show_filters(tmp_path: Path, log_path: Path, filters: list[str], seqs: list[int]) -> None:
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "-o", "json", "audit", "show", *filters)
    assert done.returncode == 0, done.stderr
    assert [record["seq"] for record in as_json(done)["records"]] == seqs


def test_show_rejects_a_bad_since(tmp_path: Path, log_path: Path) -> None:
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "audit", "show", "--since", "yesterday")
    assert done.returncode == 2
    assert "--since" in done.stderr and "hint" in done.stderr


def test_verify_intact_log(tmp_path: Path, log_path: Path) -> None:
    table = nxgov_cli(tmp_path, "--audit-log", str(log_path), "audit", "verify")
    assert table.returncode == 0 and "ok" in table.stdout and "4 records" in table.stdout
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "-o", "json", "audit", "verify")
    assert done.returncode == 0
    document = as_json(done)
    assert document["schema"] == "nxgov.audit.verify/1"
    assert (document["ok"], document["records"], document["first_broken"]) == (True, 4, None)


def test_verify_broken_log_exits_1(tmp_path: Path, log_path: Path) -> None:
    content = log_path.read_text().splitlines()
    record = json.loads(content[2])
    record["details"] = {"error": "none"}
    content[2] = json.dumps(record)
    log_path.write_text("\n".join(content) + "\n")

    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "-o", "json", "audit", "verify")
    assert done.returncode == 1
    document = as_json(done)
    assert document["ok"] is False and document["records"] == 2
    assert document["first_broken"]["line"] == 3 and document["first_broken"]["seq"] == 3
    assert document["first_broken"]["reason"].startswith("edited")

    table = nxgov_cli(tmp_path, "--audit-log", str(log_path), "audit", "verify")
    assert table.returncode == 1
    assert "broken" in table.stdout and "line 3" in table.stdout


def test_truncated_log_fails_verify(tmp_path: Path, log_path: Path) -> None:
    log_path.write_text("".join(line + "\n" for line in log_path.read_text().splitlines()[:2]))
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "-o", "json", "audit", "verify")
    assert done.returncode == 1
    assert as_json(done)["first_broken"]["seq"] == 3


def test_missing_log_is_empty(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "audit.jsonl"
    shown = nxgov_cli(tmp_path, "--audit-log", str(missing), "-o", "json", "audit", "show")
    assert shown.returncode == 0 and as_json(shown)["records"] == []
    verified = nxgov_cli(tmp_path, "--audit-log", str(missing), "audit", "verify")
    assert verified.returncode == 0
    assert not missing.exists(), "reading must not create the log"


def test_show_on_a_damaged_log_reports_an_error(tmp_path: Path, log_path: Path) -> None:
    with log_path.open("a") as handle:
        handle.write("garbage\n")
    done = nxgov_cli(tmp_path, "--audit-log", str(log_path), "audit", "show")
    assert done.returncode == 1
    assert "line 5" in done.stderr and "hint" in done.stderr
