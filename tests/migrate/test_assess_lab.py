"""``nxgov migrate assess`` against the lab's legacy hosts (inventories/lab: labdrc-web and labedu-exam), over real SSH.

The hosts are the session's lab (the ``lab_session`` fixture)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from nxgov.lab.hosts import data_file_content
from nxgov.lab.manager import LEGACY_DATA_FILES
from nxgov.lab.sshd import ensure_key
from nxgov.migrate.assessment import Assessment, load_assessments
from nxgov.state import StateStore
from tests.conftest import ROOT, Run
from tests.migrate.legacy_hosts import as_the_lab_starts_them

Nx = Callable[..., Run]
LAB_ESTATE = ROOT / "inventories" / "lab"
SYSTEMS = {"labdrc-web": "2001:db8:ff10:1::10", "labedu-exam": "2001:db8:ff10:2::10",
           "labedu-portal": "2001:db8:ff10:3::10"}

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def legacy_hosts(lab_session: dict[str, object]) -> Path:
    """The session's whole lab (tests/conftest.py, taken down at the session's end): its legacy hosts, as the lab
    starts them."""
    as_the_lab_starts_them()
    return Path(str(lab_session["lab_dir"]))


def _assess(nxgov: Nx, *args: str, estate: Path = LAB_ESTATE) -> Run:
    return nxgov("-e", str(estate), "-o", "json", "migrate", "assess", *args)


def _stored(tmp_path: Path) -> dict[str, Assessment]:
    with StateStore.open(tmp_path / "state.db") as store:
        return load_assessments(store)


def test_assesses_every_lab_system_and_reassessing_replaces(nxgov: Nx, legacy_hosts: Path, tmp_path: Path) -> None:
    with urllib.request.urlopen(f"http://[{SYSTEMS['labdrc-web']}]:8080/data/", timeout=5) as answer:
        assert answer.status == 200
    first = _assess(nxgov, "--workers", "2")
    assert first.code == 0, first.err
    document = first.json()
    assert document["ok"] is True and [s["status"] for s in document["systems"]] == ["assessed"] * 3
    for entry in document["systems"]:
        code, found = entry["system"], Assessment.model_validate(entry["assessment"])
        assert found.host == SYSTEMS[code]
        assert found.os_release and found.cpus >= 1 and found.memory_bytes > 0 and found.disks
        data, app = found.paths
        assert (data.path, app.path, app.files) == (f"/srv/{code}/data", f"/srv/{code}/app", 1)
        assert data.files == LEGACY_DATA_FILES
        assert data.bytes == sum(len(data_file_content(code, index)) for index in range(LEGACY_DATA_FILES))
        newest = found.zombie.newest_change
        assert data.newest_change is not None and newest is not None and newest >= data.newest_change
        ports = {listening.port: listening.process for listening in found.listening}
        assert 22 in ports and ports.get(8080) == "python3"  # sshd runs as root: its name is hidden from ops
        assert found.depends_on == [] and found.zombie.access_log_requests is not None
    web = Assessment.model_validate(document["systems"][0]["assessment"])
    assert web.zombie.access_log_requests is not None and web.zombie.access_log_requests >= 1  # health checks not
    assert "trusted the SSH host key of 2001:db8:ff10:1::10 on first use" in first.err

    second = _assess(nxgov, "--system", "labedu-exam")
    assert second.code == 0, second.err
    stored = _stored(tmp_path)
    assert sorted(stored) == ["labdrc-web", "labedu-exam", "labedu-portal"]
    assert stored["labedu-exam"].assessed_at == second.json()["systems"][0]["assessment"]["assessed_at"]
    assert stored["labdrc-web"] == web


def test_an_unreachable_host_fails_alone_with_the_fix(nxgov: Nx, legacy_hosts: Path, tmp_path: Path) -> None:
    estate = tmp_path / "estate.yaml"
    text = (LAB_ESTATE / "estate.yaml").read_text(encoding="utf-8")
    moved = text.replace("source: {host: '2001:db8:ff10:2::10', user: ops,",
                         "source: {host: '2001:db8:ff10:2::10', port: 2222, user: ops,")
    assert moved != text
    estate.write_text(moved, encoding="utf-8")
    run = _assess(nxgov, estate=estate)
    assert run.code == 1
    systems = {entry["system"]: entry for entry in run.json()["systems"]}
    assert systems["labdrc-web"]["status"] == "assessed"
    error = systems["labedu-exam"]["error"]
    assert error.startswith("labedu-exam: cannot reach the legacy host 2001:db8:ff10:2::10 port 2222: ")
    assert "hint: check that the host is up" in error
    assert sorted(_stored(tmp_path)) == ["labdrc-web", "labedu-portal"]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert {(r["target"], r["result"]) for r in records if r["command"] == "migrate assess"} == {
        ("labdrc-web", "ok"), ("labedu-exam", "failed"), ("labedu-portal", "ok")}


def test_a_changed_host_key_is_refused_naming_both_fingerprints(nxgov: Nx, legacy_hosts: Path,
                                                                tmp_path: Path) -> None:
    other = ensure_key(tmp_path / "other_host_key", "not-the-lab-host").split()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{SYSTEMS['labdrc-web']} {other[0]} {other[1]}\n")
    known_hosts.chmod(0o600)
    run = _assess(nxgov, "--system", "labdrc-web", "--system", "labedu-exam")
    assert run.code == 1
    systems = {entry["system"]: entry for entry in run.json()["systems"]}
    error = systems["labdrc-web"]["error"]
    assert error.startswith(f"labdrc-web: the SSH host key of {SYSTEMS['labdrc-web']} has changed: trusted SHA256:")
    assert ", offered SHA256:" in error and "ssh-keygen -R" in error
    assert systems["labedu-exam"]["status"] == "assessed"
    assert sorted(_stored(tmp_path)) == ["labedu-exam"]
