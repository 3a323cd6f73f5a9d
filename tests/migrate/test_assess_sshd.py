"""``nxgov migrate assess`` against a real sshd on 127.0.0.1 / 127.0.0.2 (no lab needed): one host assessed, one
depending on it, one unreachable; re-assessing replaces; a changed host key is refused with both fingerprints."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nxgov.migrate.assessment import Assessment, load_assessments
from nxgov.state import StateStore
from tests.conftest import Run
from tests.migrate.conftest import Sshd, estate_yaml, free_port

Nx = Callable[..., Run]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    directory = tmp_path / "srv" / "nxdrc-oa" / "data"
    (directory / "sub").mkdir(parents=True)
    for index in range(7):
        (directory / ("sub" if index % 2 else "") / f"file-{index}.txt").write_bytes(b"x" * (index + 1))
    return directory


@pytest.fixture
def workspace(tmp_path: Path, real_sshd: Sshd, data: Path) -> Path:
    credentials = tmp_path / "legacy.yaml"
    credentials.write_text(f"username: ignored\nssh_key: {real_sshd.client_key}\n")
    credentials.chmod(0o600)
    port, user = real_sshd.port, real_sshd.user
    systems = [
        {"code": "nxdrc-oa", "source": f"{{host: 127.0.0.1, port: {port}, user: {user}, credentials: legacy, "
                                       f"paths: [{data}, {tmp_path}/missing], "
                                       f"health: 'http://127.0.0.1:8080/health'}}"},
        {"code": "nxdrc-db", "source": f"{{host: 127.0.0.2, port: {port}, user: {user}, credentials: legacy}}"},
        {"code": "nxdrc-gone", "source": f"{{host: 127.0.0.1, port: {free_port()}, user: {user}, "
                                         "credentials: legacy}"},
        {"code": "nxdrc-web"},
    ]
    estate = tmp_path / "estate.yaml"
    estate.write_text(estate_yaml(credentials, systems), encoding="utf-8")
    return estate


@pytest.fixture
def db_connection() -> Iterator[int]:
    """An established connection 127.0.0.1 -> 127.0.0.2:<port> (as if nxdrc-oa used nxdrc-db's database)."""
    server = socket.socket()
    server.bind(("127.0.0.2", 0))
    server.listen()
    port = int(server.getsockname()[1])
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    client = socket.create_connection(("127.0.0.2", port), source_address=("127.0.0.1", 0))
    thread.join(5)
    try:
        yield port
    finally:
        client.close()
        for end in (*accepted, server):
            end.close()


def _assess(nxgov: Nx, estate: Path, *args: str) -> Run:
    return nxgov("-e", str(estate), "-o", "json", "migrate", "assess", *args)


def _stored(tmp_path: Path) -> dict[str, Assessment]:
    with StateStore.open(tmp_path / "state.db") as store:
        return load_assessments(store)


def test_assesses_reachable_hosts_and_names_the_unreachable_one(nxgov: Nx, workspace: Path, tmp_path: Path,
                                                                 real_sshd: Sshd, db_connection: int) -> None:
    run = _assess(nxgov, workspace, "--workers", "3")
    assert run.code == 1, run.err
    document = run.json()
    assert document["schema"] == "nxgov.migrate.assess/1" and document["ok"] is False
    systems = {entry["system"]: entry for entry in document["systems"]}
    assert list(systems) == ["nxdrc-oa", "nxdrc-db", "nxdrc-gone"]

    gone = systems["nxdrc-gone"]
    assert gone["status"] == "failed" and gone["assessment"] is None
    assert gone["error"].startswith("nxdrc-gone: cannot reach the legacy host 127.0.0.1 port ")
    assert "connection refused" in gone["error"] and "hint: check that the host is up" in gone["error"]

    oa = systems["nxdrc-oa"]["assessment"]
    assert systems["nxdrc-oa"]["status"] == "assessed"
    assert oa["os_release"] and oa["cpus"] >= 1 and oa["memory_bytes"] > 0
    assert any(disk["mount"] == "/" and 0 < disk["used_bytes"] <= disk["size_bytes"] for disk in oa["disks"])
    data, missing = oa["paths"]
    assert (data["files"], data["bytes"]) == (7, sum(range(1, 8)))
    assert data["newest_change"] and data["newest_change"].endswith("+00:00")
    assert (missing["files"], missing["bytes"], missing["newest_change"]) == (0, 0, None)
    assert any("missing: does not exist on the host" in note for note in oa["notes"])
    assert oa["zombie"]["newest_change"] == data["newest_change"]
    assert any(entry["port"] == db_connection for entry in systems["nxdrc-db"]["assessment"]["listening"])
    reaching = [c for c in oa["connections"] if c["remote"] == "127.0.0.2" and c["remote_port"] == db_connection]
    assert reaching and reaching[0]["system"] == "nxdrc-db"
    assert oa["depends_on"] == ["nxdrc-db"]
    assert oa["zombie"]["connections_seen"] == len(oa["connections"]) >= 1
    stored = _stored(tmp_path)
    assert sorted(stored) == ["nxdrc-db", "nxdrc-oa"]
    assert json.loads(stored["nxdrc-oa"].model_dump_json()) == oa

    for address in ("127.0.0.1", "127.0.0.2"):
        assert f"trusted the SSH host key of [{address}]:{real_sshd.port} on first use" in run.err
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assessed = {r["target"]: r["result"] for r in records if r["command"] == "migrate assess"}
    assert assessed == {"nxdrc-oa": "ok", "nxdrc-db": "ok", "nxdrc-gone": "failed"}
    trusted = [r for r in records if r["command"] == "net known-hosts"]
    assert {r["target"] for r in trusted} == {"nxdrc-oa", "nxdrc-db"}
    assert all(r["details"]["during"] == "migrate assess" for r in trusted)


def test_reassessing_replaces_the_stored_assessment(nxgov: Nx, workspace: Path, tmp_path: Path, data: Path) -> None:
    first = _assess(nxgov, workspace, "--system", "nxdrc-oa")
    assert first.code == 0, first.err
    (data / "new.txt").write_bytes(b"12345")
    second = _assess(nxgov, workspace, "--system", "nxdrc-oa")
    assert second.code == 0, second.err
    stored = _stored(tmp_path)
    assert list(stored) == ["nxdrc-oa"]
    assessment = stored["nxdrc-oa"]
    assert assessment.paths[0].files == 8 and assessment.paths[0].bytes == 28 + 5
    assert assessment.assessed_at == second.json()["systems"][0]["assessment"]["assessed_at"]


def test_a_changed_host_key_is_refused_naming_both_fingerprints(nxgov: Nx, workspace: Path, tmp_path: Path,
                                                                real_sshd: Sshd) -> None:
    assert _assess(nxgov, workspace, "--system", "nxdrc-oa").code == 0
    before = _stored(tmp_path)["nxdrc-oa"]
    real_sshd.new_host_key()
    real_sshd.start()
    run = _assess(nxgov, workspace, "--system", "nxdrc-oa", "--system", "nxdrc-db")
    assert run.code == 1
    systems = {entry["system"]: entry for entry in run.json()["systems"]}
    error = systems["nxdrc-oa"]["error"]
    assert error.startswith(f"nxdrc-oa: the SSH host key of [127.0.0.1]:{real_sshd.port} has changed: trusted SHA256:")
    assert error.count("SHA256:") >= 3 and "ssh-keygen -R" in error
    assert systems["nxdrc-db"]["status"] == "assessed"  # first use of 127.0.0.2: trusted, the other carries on
    assert _stored(tmp_path)["nxdrc-oa"] == before


def test_dry_run_shows_where_and_contacts_nothing(nxgov: Nx, workspace: Path, tmp_path: Path) -> None:
    run = _assess(nxgov, workspace, "--dry-run")
    assert run.code == 0, run.err
    document = run.json()
    assert document["dry_run"] is True
    assert [(s["system"], s["host"], s["status"]) for s in document["systems"]] == [
        ("nxdrc-oa", "127.0.0.1", "would-assess"), ("nxdrc-db", "127.0.0.2", "would-assess"),
        ("nxdrc-gone", "127.0.0.1", "would-assess")]
    assert not (tmp_path / "state.db").exists() and not (tmp_path / "audit.jsonl").exists()
    assert not (tmp_path / "known_hosts").exists()


def test_bad_input_exits_2_located(nxgov: Nx, workspace: Path, tmp_path: Path) -> None:
    unknown = _assess(nxgov, workspace, "--system", "nxdrc-0a")
    assert unknown.code == 2
    assert unknown.json()["error"]["message"].startswith("--system: no system named 'nxdrc-0a' in the estate")
    assert "did you mean 'nxdrc-oa'?" in unknown.err and "Traceback" not in unknown.err
    no_source = _assess(nxgov, workspace, "--system", "nxdrc-web")
    assert no_source.code == 2
    line = workspace.read_text().splitlines().index("  - code: nxdrc-web") + 1
    assert f"{workspace}:{line}:5: systems[3]: system 'nxdrc-web' has no source" in no_source.err
    assert not (tmp_path / "state.db").exists() and not (tmp_path / "audit.jsonl").exists()
