"""The CLI's error boundary: every mistake is an exit code and a message, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Run

Nx = Callable[..., Run]

# The real entry point, with two commands a test cannot otherwise reach: one that fails unexpectedly and one
# that waits to be interrupted.
_SCRIPT = """
import sys, time
from nxgov.cli.main import app, run

@app.command("boom")
def boom() -> None:
    raise RuntimeError("something odd")

@app.command("wait")
def wait() -> None:
    print("ready", file=sys.stderr, flush=True)
    time.sleep(60)

run()
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "NXGOV_STATE": str(tmp_path / "state.db"),
            "COLUMNS": "200"}


def _script(tmp_path: Path, *args: str) -> Run:
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, cwd=ROOT,
                          env=_env(tmp_path), timeout=60)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def test_an_enormous_since_is_bad_input(nxgov: Nx) -> None:
    result = nxgov("audit", "show", "--since", "99999999999w")
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert "--since" in result.err


def test_generate_into_an_existing_file_is_bad_input(nxgov: Nx, tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("keep me\n", encoding="utf-8")
    result = nxgov("estate", "generate", "--scale", "region", "--out", str(target))
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert "not a directory" in result.err
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_generate_under_proc_is_bad_input_and_writes_nothing(nxgov: Nx) -> None:
    result = nxgov("estate", "generate", "--scale", "region", "--out", "/proc/nxgov-estate")
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert not Path("/proc/nxgov-estate").exists()


@pytest.mark.parametrize("where", ["parent-is-a-file", "directory", "proc"])
def test_cloud_plan_out_is_checked_before_reading_the_nodes(nxgov: Nx, tmp_path: Path, where: str) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    out = {"parent-is-a-file": str(tmp_path / "afile" / "plan.json"), "directory": str(tmp_path),
           "proc": "/proc/nxgov-plan.json"}[where]
    # The estate's clouds are not reachable from here: the check must come first to be seen.
    result = nxgov("cloud", "plan", "--out", out)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert "--out" in result.err
    assert "cannot write" in result.err or "is a directory" in result.err


def test_the_plan_writer_turns_an_os_error_into_bad_input(tmp_path: Path) -> None:
    from nxgov.cli.output import write_output
    from nxgov.errors import InputError

    with pytest.raises(InputError) as caught:
        write_output(tmp_path, "{}\n", "--out")
    assert caught.value.exit_code == 2
    assert str(tmp_path) in caught.value.message


def test_a_directory_as_state_store_is_bad_input(nxgov: Nx, tmp_path: Path) -> None:
    result = nxgov("--state", str(tmp_path), "net", "ipv6", "plan", "--dry-run")
    assert result.code == 2, result.err
    assert "is a directory" in result.err
    assert "Traceback" not in result.err


def test_nxgov_state_naming_a_directory_is_bad_input(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "NXGOV_STATE": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "net", "ipv6", "plan"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"the state store {tmp_path} is a directory" in proc.stderr


def test_an_unexpected_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = _script(tmp_path, "boom")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "internal error: RuntimeError: something odd" in result.err
    assert "report" in result.err


def test_an_unexpected_error_shows_the_traceback_with_vv(tmp_path: Path) -> None:
    result = _script(tmp_path, "-vv", "boom")
    assert result.code == 1
    assert "Traceback" in result.err
    assert "internal error: RuntimeError: something odd" in result.err


def test_an_unexpected_error_in_json_mode_is_a_json_document(tmp_path: Path) -> None:
    import json

    result = _script(tmp_path, "-o", "json", "boom")
    assert result.code == 1
    document = json.loads(result.out)
    assert document["ok"] is False
    assert document["error"]["type"] == "InternalError"
    assert "something odd" in document["error"]["message"]


def test_ctrl_c_exits_130_with_nxgov_message(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, "wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=_env(tmp_path))
    assert proc.stderr is not None
    assert proc.stderr.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert "Traceback" not in err
