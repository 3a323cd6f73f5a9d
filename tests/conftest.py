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
           "COLUMNS": "200"}

    def run(*args: str, cwd: Path = ROOT) -> Run:
        proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
                              capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run
