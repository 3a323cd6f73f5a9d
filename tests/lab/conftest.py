"""Session fixtures of the lab tests: the whole rehearsal lab, brought up once through ``nxgov lab up``.

Tests that build their own routers or hosts (test_frr.py, test_hosts.py) use module fixtures in their
own lab directories and run first (pytest collects this folder in name order), before the session lab
is requested; the session lab takes the lab estate's fixed names. At the end of the session the lab is
taken down with ``nxgov lab down`` and nothing it recorded may remain, unless it was running before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nxgov.lab.ledger import Ledger
from nxgov.lab.openstack import OpenStackLab, default_lab_dir
from tests.conftest import ROOT
from tests.lab.conftest_netns import leftovers


def _nxgov(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)


@pytest.fixture(scope="session")
def lab_session() -> Iterator[dict[str, object]]:
    """The lab of inventories/lab, up for the whole session; its ``nxgov lab up`` JSON report."""
    if os.geteuid() != 0:
        pytest.skip("the rehearsal lab needs root")
    lab_dir = default_lab_dir()
    was_running = OpenStackLab(lab_dir).is_running()
    up = _nxgov("-e", str(ROOT / "inventories" / "lab"), "-o", "json", "lab", "up")
    sys.stderr.write(up.stderr)
    assert up.returncode == 0, f"nxgov lab up failed:\n{up.stderr}"
    yield {"lab_dir": lab_dir, "components": json.loads(up.stdout)["components"]}
    if was_running:
        return
    recorded = Ledger(lab_dir).entries()
    down = _nxgov("lab", "down")
    assert down.returncode == 0, down.stderr
    assert not leftovers(recorded), f"the lab left things behind: {leftovers(recorded)}"
    assert Ledger(lab_dir).entries() == []


@pytest.fixture(scope="session")
def openstack_lab(lab_session: dict[str, object]) -> OpenStackLab:
    """The OpenStack regions of the session lab."""
    return OpenStackLab(Path(str(lab_session["lab_dir"])))
