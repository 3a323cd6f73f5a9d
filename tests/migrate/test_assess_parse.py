"""Reading the bundled command's answer: a capture from a real Debian 12 host, the script run by a real ``sh``, and
answers that are damaged or cut short (a note each, never a crash)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nxgov.migrate.assess import bundle, parse_report, sections
from nxgov.migrate.assessment import Assessment, Disk, load_assessments, save_assessment
from nxgov.state import StateStore

FIXTURES = Path(__file__).with_name("fixtures")
CAPTURE_PATHS = ["/tmp/asx/srv/d", "/nonexistent path"]
"""The paths the capture was taken with (``bundle('labdrc-web', CAPTURE_PATHS, '/health')`` run by ``sh -s`` with
``SSH_CONNECTION='127.0.0.1 47072 127.0.0.1 25000'; a line of sandbox
mounts removed``)."""


def _capture() -> str:
    return (FIXTURES / "bundle-debian12.txt").read_text()


def test_capture_from_a_debian_host() -> None:
    addresses = {"127.0.0.1": "labedu-exam"}
    found = parse_report("labdrc-web", "2001:db8:ff10:1::10", _capture(), CAPTURE_PATHS, addresses,
                         assessed_at="2026-11-27T12:45:00+00:00")
    assert found.os_release == "Debian GNU/Linux 12 (bookworm)"
    assert (found.cpus, found.memory_bytes) == (2, 24684092 * 1024)
    assert found.disks == [Disk(mount="/", size_bytes=270553174016, used_bytes=26178088960)]
    data, missing = found.paths
    assert (data.files, data.bytes, data.newest_change) == (3, 12, "2026-11-27T12:44:51+00:00")
    assert (missing.files, missing.newest_change) == (0, None)
    assert "/nonexistent path: does not exist on the host" in found.notes
    assert [(entry.port, entry.process) for entry in found.listening] == [
        (2024, ""), (23306, "mariadbd"), (25000, "gunicorn: worke")]
    # the session's own connection (SSH_CONNECTION) is left out; the other end of it is an outbound connection
    assert [(c.local_port, c.remote, c.remote_port, c.system) for c in found.connections] == [
        (23306, "127.0.0.1", 36100, "labedu-exam"), (36100, "127.0.0.1", 23306, "labedu-exam"),
        (47072, "127.0.0.1", 25000, "labedu-exam")]
    assert found.depends_on == ["labedu-exam"]
    assert found.zombie.last_login == "2026-11-27T12:28:08+00:00"
    assert found.zombie.newest_change == data.newest_change
    assert found.zombie.connections_seen == 3 and found.zombie.access_log_requests is None


def test_inbound_connections_and_the_own_system_are_not_dependencies() -> None:
    text = _capture().replace("127.0.0.1:25000 127.0.0.1:47072", "127.0.0.1:25000 [::ffff:10.0.0.9]:47072")
    text = text.replace("127.0.0.1 47072 127.0.0.1 25000", "")
    found = parse_report("labdrc-web", "h", text, CAPTURE_PATHS, {"10.0.0.9": "labedu-exam",
                                                                      "127.0.0.1": "labdrc-web"})
    assert {(c.local_port, c.remote, c.system) for c in found.connections} == {
        (25000, "10.0.0.9", "labedu-exam"), (23306, "127.0.0.1", None), (36100, "127.0.0.1", None),
        (47072, "127.0.0.1", None)}
    assert found.depends_on == []


def test_damaged_or_cut_answers_give_notes_not_errors() -> None:
    cut = _capture()[: _capture().index("@@nxgov listening") + 30]
    found = parse_report("s", "h", cut, CAPTURE_PATHS)
    assert found.cpus == 2 and found.listening == [] and found.connections == []
    assert any(note.startswith("/tmp/asx/srv/d: could not be read") for note in found.notes)
    garbage = parse_report("s", "h", "\x00 not the script's answer\n@@nxgov cpus\nmany\n@@nxgov-rc x\n", ["/srv"])
    assert (garbage.os_release, garbage.cpus, garbage.memory_bytes, garbage.disks) == ("", 0, 0, [])
    assert garbage.zombie.last_login is None
    assert "CPUs (nproc): could not be read" in garbage.notes and len(garbage.notes) >= 7


def test_the_script_runs_under_sh_with_awkward_path_names(tmp_path: Path) -> None:
    awkward = tmp_path / "it's a $(dir) `x`"
    awkward.mkdir()
    for index in range(4):
        (awkward / f"f {index}").write_text("abc")
    answer = subprocess.run(["sh", "-s"], input=bundle("nxdrc-oa", [str(awkward)]), capture_output=True,
                            text=True, timeout=60, check=True).stdout
    assert set(sections(answer)) >= {"os", "cpus", "memory", "disks", "path 0", "access-log"}
    found = parse_report("nxdrc-oa", "h", answer, [str(awkward)])
    assert (found.paths[0].files, found.paths[0].bytes) == (4, 12)
    assert not [note for note in found.notes if note.startswith(str(awkward))]


def test_store_keeps_the_latest_per_system(tmp_path: Path) -> None:
    first = parse_report("a", "h", _capture(), CAPTURE_PATHS, assessed_at="2026-11-27T10:00:00+00:00")
    later = first.model_copy(update={"assessed_at": "2026-11-27T11:00:00+00:00", "cpus": 4})
    with StateStore.open(tmp_path / "state.db") as store:
        save_assessment(store, first)
        save_assessment(store, first.model_copy(update={"system": "b"}))
        save_assessment(store, later)
    with StateStore.open(tmp_path / "state.db") as store:
        loaded = load_assessments(store)
    assert sorted(loaded) == ["a", "b"]
    assert loaded["a"] == later and isinstance(loaded["a"], Assessment)
