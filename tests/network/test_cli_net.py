"""``nxgov net ipv6 plan|show|export`` and ``nxgov net render`` through real processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, Run

# The group is registered here too, so these tests run whether or not cli/main.py has added it yet.
_MAIN = """
from nxgov.cli import net
from nxgov.cli.main import app, run
if not any(group.name == "net" for group in app.registered_groups):
    app.add_typer(net.app, name="net")
run()
"""
NINGXIA = str(ROOT / "inventories" / "ningxia")

Nx = Callable[..., Run]


@pytest.fixture
def nx(tmp_path: Path) -> Nx:
    env = {**os.environ, "NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "NXGOV_STATE": str(tmp_path / "state.db"),
           "NXGOV_ESTATE": NINGXIA, "COLUMNS": "200"}

    def run(*args: str) -> Run:
        proc = subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True, cwd=tmp_path,
                              env=env, timeout=120)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def audit_records(tmp_path: Path) -> list[dict[str, object]]:
    log = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_plan_dry_run_then_plan_then_unchanged(nx: Nx, tmp_path: Path) -> None:
    dry = nx("-o", "json", "net", "ipv6", "plan", "--dry-run")
    assert dry.code == 0, dry.err
    doc = dry.json()
    assert doc["schema"] == "nxgov.net.ipv6.plan/1" and doc["dry_run"] and doc["changed"]
    assert doc["counts"]["new"] == 274 and doc["prefix"] == "2001:db8:6400::/40"
    assert {"change": "new", "kind": "site", "key": "640100", "pool": "city", "value": "2001:db8:6411::/48",
            "state": "active", "description": "city 640100 银川市"} in doc["changes"]
    assert audit_records(tmp_path) == []
    shown = nx("net", "ipv6", "show")
    assert shown.code == 2 and "no IPv6 plan is stored for estate ningxia" in shown.err
    assert "run 'nxgov net ipv6 plan' first" in shown.err

    first = nx("net", "ipv6", "plan")
    assert first.code == 0, first.err
    assert "changed: 274 new" in first.out and "and 254 more" in first.out
    records = audit_records(tmp_path)
    assert len(records) == 1 and records[0]["command"] == "net ipv6 plan" and records[0]["target"] == "ningxia"

    again = nx("-o", "json", "net", "ipv6", "plan")
    assert again.json()["changed"] is False and again.json()["counts"]["kept"] == 274
    assert len(audit_records(tmp_path)) == 1


def test_release_of_an_unknown_key_is_bad_input(nx: Nx) -> None:
    nx("net", "ipv6", "plan")
    result = nx("-o", "json", "net", "ipv6", "plan", "--release", "649999")
    assert result.code == 2
    assert result.json()["error"]["message"] == "nothing in the stored plan belongs to 649999"


def test_show_and_export(nx: Nx, tmp_path: Path) -> None:
    nx("net", "ipv6", "plan")
    shown = nx("-o", "json", "net", "ipv6", "show", "--kind", "link")
    doc = shown.json()
    assert doc["schema"] == "nxgov.net.ipv6.show/1" and doc["missing"] == 0
    assert len(doc["allocations"]) == 54 and {a["kind"] for a in doc["allocations"]} == {"link"}
    county = next(p for p in doc["pools"] if p["pool"] == "county")
    assert county == {"pool": "county", "kind": "site", "span": "2001:db8:6420::/44", "block": "/52",
                      "capacity": 256, "active": 22, "reserved": 0}
    table = nx("net", "ipv6", "show")
    assert table.code == 0 and "2001:db8:6420::/52" in table.out and "兴庆区" in table.out

    exported = nx("net", "ipv6", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    assert exported.code == 0 and len(rows) == 7 + 28 + 56 + 54  # pools + sites + loopbacks + links
    assert rows[0] == {"prefix": "2001:db8:6410::/44", "status": "container",
                       "description": "nxgov city pool (/48 blocks)"}
    written = nx("net", "ipv6", "export", "--format", "json", "--out", str(tmp_path / "plan.json"))
    assert written.code == 0, written.err
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["schema"] == "nxgov.net.ipv6.export/1" and len(plan["allocations"]) == 274


def test_render_needs_a_current_plan(nx: Nx) -> None:
    result = nx("net", "render")
    assert result.code == 2 and "run 'nxgov net ipv6 plan' first" in result.err


def test_render_one_device_to_stdout(nx: Nx) -> None:
    nx("net", "ipv6", "plan")
    text = nx("net", "render", "--device", "ce-640104-a")
    assert text.code == 0 and text.out.startswith("#\n sysname ce-640104-a\n#\n") and text.out.endswith("return\n")
    doc = nx("-o", "json", "net", "render", "-d", "ce-640104-a").json()
    assert doc["schema"] == "nxgov.net.render/1" and doc["out"] is None
    assert doc["devices"][0]["config"] == text.out and doc["devices"][0]["platform"] == "huawei_vrp"


def test_render_everything_to_a_directory(nx: Nx, tmp_path: Path) -> None:
    nx("net", "ipv6", "plan")
    result = nx("net", "render")
    assert result.code == 0, result.err
    assert "rendered 56 device configurations to rendered/" in result.out
    files = sorted((tmp_path / "rendered").glob("*.cfg"))
    assert len(files) == 56
    assert "bgp 4200000001" in (tmp_path / "rendered" / "ce-640100-a.cfg").read_text()
    site = nx("-o", "json", "net", "render", "--site", "640100", "--out", str(tmp_path / "city"))
    assert [d["name"] for d in site.json()["devices"]] == ["ce-640100-a", "ce-640100-b"]
    assert sorted(p.name for p in (tmp_path / "city").iterdir()) == ["ce-640100-a.cfg", "ce-640100-b.cfg"]


def test_render_unknown_site_and_device(nx: Nx) -> None:
    nx("net", "ipv6", "plan")
    site = nx("net", "render", "--site", "649999")
    assert site.code == 2 and "the estate has no site 649999" in site.err
    device = nx("net", "render", "-d", "ce-nope")
    assert device.code == 2 and "the estate has no device ce-nope" in device.err
