"""Shared test helpers: run the real CLI in a subprocess, with its own audit log and state store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.strict_skips"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def nxgov(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``nxgov ARGS`` as a real process; the audit log and state live in tmp_path."""
    env = {**os.environ, "NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "NXGOV_STATE": str(tmp_path / "state.db"),
           "NXGOV_KNOWN_HOSTS": str(tmp_path / "known_hosts"), "COLUMNS": "200"}

    def run(*args: str, cwd: Path = ROOT) -> Run:
        proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
                              capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


# The lab tests' own state store and audit log (the lab's IPv6 plan lands there, not in root's real store).
LAB_TEST_ENV = {"NXGOV_STATE": "/tmp/nxgov-lab-tests/state.db", "NXGOV_AUDIT_LOG": "/tmp/nxgov-lab-tests/audit.jsonl",
                "NXGOV_KNOWN_HOSTS": "/tmp/nxgov-lab-tests/known_hosts"}


def _nxgov_root(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **LAB_TEST_ENV}
    return subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)


@pytest.fixture(scope="session")
def openstack_lab():  # type: ignore[no-untyped-def]
    """The lab's OpenStack regions, up for the whole session (``nxgov lab up --only openstack``).

    At the end of the session the whole lab is taken down with ``nxgov lab down`` and nothing it recorded
    may remain, unless the lab was already running when the session started (then it is left as found).
    Tests that build their own routers and hosts (tests/lab/test_frr.py, test_hosts.py) need the extranet
    part down; the full lab (``lab_session``) is requested only after them (pytest runs files in name order).
    """
    from nxgov.lab.ledger import Ledger
    from nxgov.lab.openstack import OpenStackLab, default_lab_dir
    from tests.lab.conftest_netns import leftovers

    if os.geteuid() != 0:
        pytest.skip("the rehearsal lab needs root")
    lab = OpenStackLab(default_lab_dir())
    was_running = lab.is_running() or Path("/sys/class/net/nxl-mgmt").exists()
    up = _nxgov_root("-e", str(ROOT / "inventories" / "lab"), "-o", "json", "lab", "up", "--only", "openstack")
    sys.stderr.write(up.stderr)
    assert up.returncode == 0, f"nxgov lab up --only openstack failed:\n{up.stderr}"
    yield lab
    if was_running:
        return
    recorded = Ledger(lab.lab_dir).entries()
    down = _nxgov_root("lab", "down")
    assert down.returncode == 0, down.stderr
    assert not leftovers(recorded), f"the lab left things behind: {leftovers(recorded)}"
    assert Ledger(lab.lab_dir).entries() == []


@pytest.fixture(scope="session")
def lab_session(openstack_lab) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The whole lab of inventories/lab (``nxgov lab up``): its JSON report. Taken down with openstack_lab."""
    up = _nxgov_root("-e", str(ROOT / "inventories" / "lab"), "-o", "json", "lab", "up")
    sys.stderr.write(up.stderr)
    assert up.returncode == 0, f"nxgov lab up failed:\n{up.stderr}"
    return {"lab_dir": openstack_lab.lab_dir, "components": json.loads(up.stdout)["components"]}
