"""Fixtures of the cloud tests: the running lab (brought up if needed, never torn down: others use it), a
throw-away estate per test with its own estate name and department codes, and the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAB_ESTATE = ROOT / "inventories" / "lab" / "estate.yaml"
ENTRY = "from nxgov.cli.main import run; run()"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(scope="session")
def lab_clouds(openstack_lab: Any) -> Path:
    """The clouds.yaml of the session's OpenStack lab."""
    return Path(openstack_lab.env()["OS_CLIENT_CONFIG_FILE"])


def lab_shape(name: str) -> dict[str, Any]:
    """The lab estate with its own estate name and department/system codes (``<name>d``, ``<name>e``)."""
    doc: dict[str, Any] = yaml.safe_load(LAB_ESTATE.read_text(encoding="utf-8"))
    doc["estate"] = name
    doc.pop("extranet", None)
    rename = {"labdrc": f"{name}d", "labedu": f"{name}e"}
    for dept in doc["departments"]:
        dept["code"] = rename[dept["code"]]
    for system in doc["systems"]:
        system["department"] = rename[system["department"]]
        system["code"] = system["code"].replace("labdrc", f"{name}d").replace("labedu", f"{name}e")
    return doc


@dataclass
class LabEstate:
    path: Path
    doc: dict[str, Any]
    name: str

    def write(self) -> None:
        self.path.write_text(yaml.safe_dump(self.doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def estate(tmp_path: Path, lab_clouds: Path, cli: Callable[..., Run]) -> Iterator[LabEstate]:
    """A lab-shaped estate of its own; at the end everything it made is pruned away (projects included)."""
    name = "t" + secrets.token_hex(3)
    made = LabEstate(tmp_path / "estate.yaml", lab_shape(name), name)
    made.write()
    yield made
    made.doc["departments"], made.doc["systems"] = [], []
    made.write()
    cli("cloud", "apply", "--prune", "--yes", estate=made.path)


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Run]:
    clouds = os.environ.get("NXGOV_TEST_CLOUDS", "/var/lib/nxgov/lab/clouds.yaml")
    env = {**os.environ, "NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "NXGOV_STATE": str(tmp_path / "state.db"),
           "COLUMNS": "200", "OS_CLIENT_CONFIG_FILE": clouds}

    def run(*args: str, estate: Path | None = None, extra_env: dict[str, str] | None = None,
            timeout: float = 600) -> Run:
        pre = ["-e", str(estate)] if estate is not None else []
        proc = subprocess.run([sys.executable, "-c", ENTRY, *pre, *args], capture_output=True, text=True, cwd=ROOT,
                              env={**env, **(extra_env or {})}, timeout=timeout)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run
