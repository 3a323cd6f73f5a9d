"""The lifecycle verbs refuse bad input before any host or node is contacted: exit 2, the system and the fix named,
nothing stored, no traceback (the lab tests, test_lifecycle_lab.py, drive the verbs for real)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

Nx = Callable[..., Run]

ESTATE = """\
estate: steps
clouds:
  yinchuan: {{cloud: nx-yinchuan, role: primary}}
  zhongwei: {{cloud: nx-zhongwei, role: primary}}
  backup: {{cloud: nx-backup, role: backup}}
cloud_ipv6: 2001:db8:6500::/40
credentials:
  legacy: {{file: {legacy}}}
  legacy-pw-login: {{file: {password}}}
{access}departments:
  - code: nxdrc
    name: 发展改革委
    quotas: {{cores: 8, ram_gb: 16, instances: 4}}
    hooks: {{cutover: {{pre: [drain.yml]}}}}
    networks: [{{name: app}}]
systems:
  - code: nxdrc-oa
    department: nxdrc
    level: 3
    placement: {{mode: single, node: yinchuan}}
    source: {{host: 2001:db8:ff10:9::10, user: ops, credentials: legacy, paths: [/srv/oa/data]}}
    service: {{start: 'true', stop: 'true'}}
    servers: [{{name: web, flavor: m1.small, image: cirros}}]
    backup: {{rpo: 4h, retain: 14d}}
  - code: nxdrc-web
    department: nxdrc
    level: 2
    placement: {{mode: single, node: yinchuan}}
    source: {{host: 2001:db8:ff10:9::11, user: ops, credentials: legacy, paths: [/srv/web/data]}}
  - code: nxdrc-pw
    department: nxdrc
    level: 2
    placement: {{mode: single, node: yinchuan}}
    source: {{host: 2001:db8:ff10:9::12, user: ops, credentials: legacy-pw-login, paths: [/srv/pw/data]}}
    service: {{start: 'true', stop: 'true'}}
  - code: nxdrc-map
    department: nxdrc
    level: 2
    placement: {{mode: single, node: yinchuan}}
"""


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text(f"username: ops\nssh_key: {key}\n")
    password = tmp_path / "password.yaml"
    password.write_text("username: ops\npassword: s3cret-do-not-print\n")
    for secret in (legacy, password):
        secret.chmod(0o600)
    folder = tmp_path / "estate"
    folder.mkdir()
    (folder / "estate.yaml").write_text(ESTATE.format(legacy=legacy, password=password, access=""))
    return folder


def _nx(nxgov: Nx, estate: Path, *args: str) -> Run:
    run = nxgov("-e", str(estate), "migrate", *args)
    assert "Traceback" not in run.err
    return run


def _nothing_stored(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    if state.exists():
        with sqlite3.connect(state) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "migration_runs" in tables:
                assert db.execute("SELECT COUNT(*) FROM migration_runs").fetchone() == (0,)
                assert db.execute("SELECT COUNT(*) FROM lifecycle").fetchone() == (0,)


@pytest.mark.parametrize(("args", "says"), [
    (("replicate",), "name the systems"),
    (("replicate", "--system", "nxdrc-0a"), "nxdrc-oa"),
    (("replicate", "--system", "nxdrc-map"), "'nxdrc-map' has no source"),
    (("test", "--system", "nxdrc-web"), "add service: {start: ..., stop: ...} to system nxdrc-web"),
    (("replicate", "--system", "nxdrc-oa", "--bwlimit", "fast"), "--bwlimit 'fast' is not a rate"),
    (("replicate", "--system", "nxdrc-oa", "--wave", "1"), "--wave needs the plan"),
    (("replicate", "--system", "nxdrc-oa", "--plan", "p.yaml"), "--plan is read only with --wave"),
    (("replicate", "--system", "nxdrc-pw"), "must give an SSH key"),
    (("cutover", "--system", "nxdrc-oa"), "hook playbook 'drain.yml'"),
    (("replicate", "--system", "nxdrc-oa"), "server_access"),
    (("finalize", "--system", "nxdrc-oa", "--yes"), "nxdrc-oa is not assessed"),
])
def test_bad_input_is_refused_before_any_contact(nxgov: Nx, estate: Path, tmp_path: Path, args: tuple[str, ...],
                                                 says: str) -> None:
    run = _nx(nxgov, estate, *args)
    assert run.code == 2, run.err
    assert says in " ".join(run.err.split()), run.err
    assert "s3cret-do-not-print" not in run.err + run.out
    _nothing_stored(tmp_path)


def test_a_damaged_plan_file_is_located(nxgov: Nx, estate: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("schema: nxgov.migrate.plan/1\nestate: steps\nwaves: [{wave: one}]\n")
    run = _nx(nxgov, estate, "replicate", "--wave", "1", "--plan", str(plan))
    assert run.code == 2 and f"{plan.name}:" in run.err, run.err


def test_io_timeout_must_be_seconds(estate: Path, tmp_path: Path) -> None:
    env = {**os.environ, "NXGOV_MIGRATE_IO_TIMEOUT": "soon", "NXGOV_STATE": str(tmp_path / "state.db"),
           "NXGOV_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    run = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", "-e", str(estate), "migrate",
                          "finalize", "--system", "nxdrc-oa"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2 and "NXGOV_MIGRATE_IO_TIMEOUT='soon'" in run.stderr, run.stderr


def test_a_verb_without_yes_and_without_a_terminal_changes_nothing(nxgov: Nx, estate: Path, tmp_path: Path) -> None:
    from nxgov.audit import AuditLog
    from nxgov.migrate.assessment import Assessment, ZombieEvidence, save_assessment
    from nxgov.state import StateStore

    with StateStore.open(tmp_path / "state.db") as store:
        save_assessment(store, Assessment(
            system="nxdrc-oa", host="2001:db8:ff10:9::10", assessed_at="2026-11-27T00:00:00+00:00", os_release="x",
            cpus=1, memory_bytes=1, disks=[], paths=[], listening=[], connections=[], depends_on=[],
            zombie=ZombieEvidence(last_login=None, newest_change=None, connections_seen=0, access_log_requests=None)))
    run = _nx(nxgov, estate, "retire", "nxdrc-oa")
    assert run.code == 2 and "--yes" in run.err, run.err
    _nothing_stored(tmp_path)
    records = AuditLog(tmp_path / "audit.jsonl").records() if (tmp_path / "audit.jsonl").exists() else []
    assert not [r for r in records if r.result == "changed"]
    dry = _nx(nxgov, estate, "retire", "nxdrc-oa", "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    assert dry.json()["systems"][0]["then"] == "retired"
    _nothing_stored(tmp_path)
    assert [r.result for r in AuditLog(tmp_path / "audit.jsonl").records()] == ["dry-run"]
