"""The SDK logs through ``logging``; the CLI shows warnings by default, -v info, -vv debug, all on stderr."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, Run

Nx = Callable[..., Run]

# Third-party libraries warn through logging (keystoneauth, paramiko) or the warnings module (urllib3).
_THIRD_PARTY = """
import logging, warnings
from nxgov.cli.main import app, run

@app.command("noisy")
def noisy() -> None:
    logging.getLogger("keystoneauth1.session").warning("Failure: %s", "oops")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTPS connection")
    warnings.warn("Unverified HTTPS request", stacklevel=1)

run()
"""


def _noisy(tmp_path: Path, *args: str) -> Run:
    env = {**os.environ, "NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "NXGOV_STATE": str(tmp_path / "state.db")}
    proc = subprocess.run([sys.executable, "-c", _THIRD_PARTY, *args, "noisy"], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def test_the_sdk_configures_no_logging() -> None:
    import nxgov.cloud.transport
    import nxgov.estate.loader
    import nxgov.network.drivers.session

    for module in (nxgov.cloud.transport, nxgov.network.drivers.session, nxgov.estate.loader):
        assert isinstance(module.log, logging.Logger)
        assert module.log.name == module.__name__
        assert module.log.handlers == []


def test_third_party_warnings_are_formatted_by_nxgov(tmp_path: Path) -> None:
    result = _noisy(tmp_path)
    assert result.code == 0, result.err
    assert "warning: keystoneauth1.session: Failure: oops" in result.err
    assert "warning: py.warnings:" in result.err and "Unverified HTTPS request" in result.err
    assert "Starting new HTTPS connection" not in result.err
    assert result.out == ""


def test_vv_shows_third_party_info(tmp_path: Path) -> None:
    result = _noisy(tmp_path, "-vv")
    assert "info: urllib3.connectionpool: Starting new HTTPS connection" in result.err


def test_verbosity_levels_through_the_cli(nxgov: Nx) -> None:
    quiet = nxgov("estate", "validate")
    info = nxgov("-v", "estate", "validate")
    debug = nxgov("-vv", "estate", "validate")
    assert "info:" not in quiet.err and "debug:" not in quiet.err
    assert "info: nxgov.estate.loader: loaded estate ningxia" in info.err
    assert "debug:" not in info.err
    assert "debug: nxgov.estate.loader:" in debug.err


def test_logs_never_reach_stdout_in_json_mode(nxgov: Nx) -> None:
    result = nxgov("-o", "json", "-vv", "estate", "validate")
    assert result.code == 0, result.err
    assert json.loads(result.out)["ok"] is True
    assert "info: nxgov.estate.loader" in result.err
