"""``nxgov backup`` against the lab, end to end: real Cinder snapshots and incremental backups by the nodes'
cinder-backup (POSIX driver, stores on disk), real rsync into the backup cloud's store, real import_record and
restores by the backup region's cinder-backup, real Nova servers booted there from restored volumes.

The tests of this module run in order on one estate (a copy of the lab's, with a data volume added to labedu-exam so
that two systems carry data): labdrc-web (active-standby: a volume on yinchuan and one on zhongwei) and
labedu-exam (single, zhongwei). The volumes are filled with random bytes through the lab's volume files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from nxgov.backup import catalog
from nxgov.state import StateStore
from tests.conftest import ROOT, Run

pytestmark = pytest.mark.lab

LAB = Path("/var/lib/nxgov/lab")
ENTRY = "from nxgov.cli.main import run; run()"
BLOCK = 32 * 1024
MIB = 1 << 20
EXAM_GB = 4


@dataclass
class World:
    work: Path
    estate: Path
    env: dict[str, str]

    def nx(self, *args: str, timeout: float = 900, estate: Path | None = None) -> Run:
        proc = subprocess.run([sys.executable, "-c", ENTRY, "-e", str(estate or self.estate), *args],
                              capture_output=True, text=True, cwd=ROOT, env=self.env, timeout=timeout)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def sdk(self) -> Any:
        """The backup verbs' own context (connections, stores, catalog) on this estate."""
        from nxgov.backup.context import connect
        from nxgov.estate import load_estate

        os.environ.setdefault("OS_CLIENT_CONFIG_FILE", self.env["OS_CLIENT_CONFIG_FILE"])
        return connect(load_estate(self.estate), Path(self.env["NXGOV_STATE"]))

    def copies(self) -> list[dict[str, Any]]:
        run = self.nx("-o", "json", "backup", "copies")
        assert run.code == 0, run.err
        return list(run.json()["copies"])

    def volume_file(self, system: str, node: str) -> Path:
        from nxgov.backup.cinder import project_id
        from nxgov.lab.openstack.volumes import volume_file

        ctx = self.sdk()
        department = {"labdrc-web": "labdrc", "labedu-exam": "labedu"}[system]
        project = project_id(ctx.clients[node], department)
        assert project is not None
        found = [v for v in ctx.cinder(node).volumes(project) if v["name"].startswith(f"{system}-")
                 and "-restored-" not in v["name"]]
        assert len(found) == 1, found
        return volume_file(LAB, node, found[0]["id"])


def blocks(data: bytes) -> list[str]:
    return [hashlib.sha256(data[i:i + BLOCK]).hexdigest() for i in range(0, len(data), BLOCK)]


def good_copies(world: World) -> dict[str, dict[str, Any]]:
    """The newest good copy per volume, by ``system/node``."""
    out: dict[str, dict[str, Any]] = {}
    for copy in world.copies():
        if copy["state"] == "good":
            out[f"{copy['system']}/{copy['node']}"] = copy
    return out


@pytest.fixture(scope="module")
def world(openstack_lab: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The lab estate with a 4 GB (4 MiB in the lab) volume on labedu-exam, applied; every protected volume filled
    with random bytes."""
    work = tmp_path_factory.mktemp("backup-lab")
    estate_dir = work / "estate"
    estate_dir.mkdir()
    shutil.copytree(ROOT / "inventories" / "lab" / "hooks", estate_dir / "hooks")
    doc = yaml.safe_load((ROOT / "inventories" / "lab" / "estate.yaml").read_text())
    exam = next(s for s in doc["systems"] if s["code"] == "labedu-exam")
    exam["servers"][0]["volumes_gb"] = [EXAM_GB]
    (estate_dir / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    env = {**os.environ, "NXGOV_STATE": str(work / "state.db"), "NXGOV_AUDIT_LOG": str(work / "audit.jsonl"),
           "NXGOV_KNOWN_HOSTS": str(work / "known_hosts"), "OS_CLIENT_CONFIG_FILE": str(LAB / "clouds.yaml"),
           "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    made = World(work, estate_dir, env)
    applied = made.nx("cloud", "apply", "--yes")
    assert applied.code == 0, applied.err + applied.out
    for system, node in (("labdrc-web", "yinchuan"), ("labdrc-web", "zhongwei"), ("labedu-exam", "zhongwei")):
        path = made.volume_file(system, node)
        path.write_bytes(os.urandom(path.stat().st_size))
    yield made
    doc["departments"], doc["systems"] = [], []
    (estate_dir / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    made.nx("cloud", "apply", "--prune", "--yes")


def test_before_any_copy_status_breaches_and_the_dry_run_changes_nothing(world: World) -> None:
    status = world.nx("-o", "json", "backup", "status")
    assert status.code == 3, status.err
    rows = {r["system"]: r for r in status.json()["systems"]}
    assert rows["labdrc-web"]["rpo_met"] is False and rows["labdrc-web"]["last_good"] is None
    assert rows["labdrc-web"]["volumes"] == 2 and rows["labedu-exam"]["volumes"] == 1
    dry = world.nx("-o", "json", "backup", "sync", "--dry-run")
    assert dry.code == 0, dry.err
    assert sorted((v["system"], v["node"], v["action"]) for v in dry.json()["volumes"]) == [
        ("labdrc-web", "yinchuan", "full"), ("labdrc-web", "zhongwei", "full"), ("labedu-exam", "zhongwei", "full")]
    assert world.copies() == []
    records = [json.loads(line) for line in (world.work / "audit.jsonl").read_text().splitlines()]
    assert {r["result"] for r in records if r["command"] == "backup sync"} == {"dry-run"}


def test_first_sync_copies_both_systems_with_the_source_snapshots_checksums_and_mirrors_the_image(
        world: World) -> None:
    ctx = world.sdk()
    backup = ctx.clients["backup"].conn
    for image in backup.image.images(name="cirros-lab"):      # the backup cloud lost its copy of the image
        backup.image.delete_image(image)
    dry = world.nx("-o", "json", "backup", "sync", "--dry-run").json()
    assert {i["action"] for i in dry["images"]} == {"copy"}
    sources = {key: blocks(world.volume_file(*key.split("/")).read_bytes()) for key in
               ("labdrc-web/yinchuan", "labdrc-web/zhongwei", "labedu-exam/zhongwei")}

    run = world.nx("-o", "json", "backup", "sync", "--yes", "--workers", "3")
    assert run.code == 0, run.err + run.out
    goods = good_copies(world)
    assert set(goods) == set(sources)
    store = Path(ctx.loaded.estate.clouds["backup"].backup_store)
    with StateStore.open(Path(world.env["NXGOV_STATE"])) as db:
        for key, copy in goods.items():
            assert copy["kind"] == "full" and copy["bytes_sent"] >= copy["size_bytes"] >> 10   # 1 GB is 1 MiB
            assert catalog.manifest(db, copy["id"])["sha256s"] == sources[key]     # = the snapshot's blocks
            assert (store / copy["container"]).is_dir()
            assert ctx.cinder("backup").backup(copy["backup_id"])["status"] == "available"
            assert ctx.cinder(copy["node"]).snapshot(copy["snapshot_id"]) is None    # deleted once backed up
    names = [i.name for i in backup.image.images(name="cirros-lab")]
    assert names == ["cirros-lab"]
    again = world.nx("-o", "json", "backup", "sync", "--dry-run").json()
    assert {i["action"] for i in again["images"]} == {"same"}
    verify = world.nx("-o", "json", "backup", "verify")
    assert verify.code == 0, verify.out
    assert {v["result"] for v in verify.json()["volumes"]} == {"ok"}


def test_resync_sends_almost_nothing_unchanged_and_about_one_percent_after_a_one_percent_change(
        world: World) -> None:
    path = world.volume_file("labdrc-web", "yinchuan")
    size = path.stat().st_size
    with path.open("r+b") as volume:
        volume.seek(size // 3)
        volume.write(os.urandom(size // 100))
    before = {c["id"] for c in world.copies()}
    run = world.nx("-o", "json", "backup", "sync", "--yes")
    assert run.code == 0, run.err + run.out
    new = {f"{c['system']}/{c['node']}": c for c in world.copies() if c["id"] not in before}
    assert {c["kind"] for c in new.values()} == {"incremental"} and {c["state"] for c in new.values()} == {"good"}
    changed = new.pop("labdrc-web/yinchuan")
    assert size * 0.01 <= changed["bytes_sent"] <= size * 0.03, changed
    for copy in new.values():
        volume_bytes = world.volume_file(copy["system"], copy["node"]).stat().st_size
        assert copy["bytes_sent"] < volume_bytes * 0.01, copy     # the manifests only
    assert world.nx("backup", "verify").code == 0


def _kill_when_copied(world: World, fraction: float, group: bool) -> tuple[int, int, int]:
    """Rewrite labedu-exam's whole volume, start its sync at 256 KiB/s, SIGKILL it once ``fraction`` of the volume is
    in the backup cloud's store (nxgov alone, or its whole process group: a lost session); (copy id, bytes of the
    copy's objects in the store when killed, volume size)."""
    path = world.volume_file("labedu-exam", "zhongwei")
    size = path.stat().st_size
    path.write_bytes(os.urandom(size))             # everything changed: the next copy carries the whole volume
    before = {c["id"] for c in world.copies()}
    store = Path(world.sdk().loaded.estate.clouds["backup"].backup_store)
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "-e", str(world.estate), "-o", "json", "backup", "sync",
                             "--system", "labedu-exam", "--yes", "--bwlimit", "256K"], text=True, cwd=ROOT,
                            env=world.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    copied, directory = 0, store
    while time.monotonic() < deadline and copied < size * fraction:
        flying = [c for c in world.copies() if c["id"] not in before and c["state"] == "copying"]
        if flying:
            directory = store / flying[0]["container"]
            copied = sum(p.stat().st_size for p in directory.iterdir()) if directory.is_dir() else 0
        time.sleep(0.1)
    assert copied >= size * fraction, "the copy never got that far"
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    present = sum(p.stat().st_size for p in directory.iterdir())
    [copy] = [c for c in world.copies() if c["id"] not in before]
    assert copy["state"] == "copying" and copy["bytes_sent"] == 0
    return copy["id"], present, size


def test_a_copy_killed_half_way_resumes_and_resends_under_ten_percent(world: World) -> None:
    copy_id, present, size = _kill_when_copied(world, 0.5, group=True)
    dry = world.nx("-o", "json", "backup", "sync", "--system", "labedu-exam", "--dry-run").json()
    assert [(v["action"], v["resume_from"]) for v in dry["volumes"]] == [("resume", "copying")]
    again = world.nx("-o", "json", "backup", "sync", "--system", "labedu-exam", "--yes")
    assert again.code == 0, again.err + again.out
    [copy] = [c for c in world.copies() if c["id"] == copy_id]
    resent = present + copy["bytes_sent"] - copy["stored_bytes"]
    assert copy["state"] == "good" and resent < size * 0.10, (present, copy)
    verify = world.nx("-o", "json", "backup", "verify", "--system", "labedu-exam")
    assert verify.code == 0 and verify.json()["volumes"][0]["copy"] == copy_id


def test_an_rsync_a_killed_run_left_copying_is_ended_by_the_next_run(world: World) -> None:
    store = Path(world.sdk().loaded.estate.clouds["backup"].backup_store)
    copy_id, _present, _size = _kill_when_copied(world, 0.25, group=False)
    assert [p for p in Path("/proc").iterdir() if p.name.isdigit() and _rsync_into(p, store)]   # still copying
    again = world.nx("-o", "json", "backup", "sync", "--system", "labedu-exam", "--yes")
    assert again.code == 0, again.err + again.out
    assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and _rsync_into(p, store)]
    assert [c["state"] for c in world.copies() if c["id"] == copy_id] == ["good"]
    assert world.nx("backup", "verify", "--system", "labedu-exam").code == 0


def _rsync_into(proc: Path, store: Path) -> bool:
    try:
        line = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    return line.startswith(b"rsync") and str(store).encode() in line


def test_one_corrupted_byte_is_named_by_verify_and_fails_a_drill_that_leaves_nothing_behind(world: World) -> None:
    copy = good_copies(world)["labedu-exam/zhongwei"]
    store = Path(world.sdk().loaded.estate.clouds["backup"].backup_store)
    [data] = sorted((store / copy["container"]).glob("*-00001"))
    original = data.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0xFF
    data.write_bytes(bytes(damaged))
    try:
        verify = world.nx("-o", "json", "backup", "verify", "--system", "labedu-exam")
        assert verify.code == 1, verify.err
        [row] = verify.json()["volumes"]
        assert row["result"] == "corrupt" and row["copy"] == copy["id"] and row["system"] == "labedu-exam"
        assert data.name in row["problems"][0] and row["volume"] == "labedu-exam-app-1-data1"
        table = world.nx("backup", "verify", "--system", "labedu-exam")
        assert table.code == 1 and "corrupt" in table.out and "Traceback" not in table.err

        drill = world.nx("-o", "json", "backup", "drill", "--system", "labedu-exam", "--yes")
        assert drill.code == 1, drill.err
        [evidence] = drill.json()["drills"]
        assert evidence["result"] == "failed" and "differs" in evidence["detail"] and evidence["cleaned_up"]
        assert _drill_projects(world) == []
    finally:
        data.write_bytes(original)
    repaired = world.nx("-o", "json", "backup", "verify", "--system", "labedu-exam")
    assert repaired.code == 0 and repaired.json()["volumes"][0]["result"] == "ok"


def _drill_projects(world: World) -> list[str]:
    conn = world.sdk().clients["backup"].conn
    return [p.name for p in conn.identity.projects() if p.name.startswith("nxdrill-")]


def test_a_drill_boots_the_restored_system_at_the_backup_cloud_checks_it_and_removes_it(world: World) -> None:
    drill = world.nx("-o", "json", "backup", "drill", "--system", "labdrc-web", "--yes")
    assert drill.code == 0, drill.err + drill.out
    [evidence] = drill.json()["drills"]
    assert evidence["result"] == "passed" and evidence["rto_s"] > 0 and evidence["cleaned_up"]
    checks = {c["check"]: c["result"] for c in evidence["checks"]}
    assert checks == {"restore labdrc-web-web-1-data1": "ok", "data labdrc-web-web-1-data1": "ok",
                      "boot labdrc-web-web-1": "ok", "cleanup": "ok"}
    assert _drill_projects(world) == []
    listed = world.nx("-o", "json", "backup", "drills", "--system", "labdrc-web").json()["drills"]
    assert listed[-1]["id"] == evidence["id"] and listed[-1]["started"] <= listed[-1]["ended"]


def test_status_reports_each_system_and_exits_3_while_a_drill_is_overdue(world: World) -> None:
    status = world.nx("-o", "json", "backup", "status")
    rows = {r["system"]: r for r in status.json()["systems"]}
    assert rows["labdrc-web"]["rpo_met"] is True and rows["labdrc-web"]["drill_overdue"] is False
    assert rows["labedu-exam"]["drill_overdue"] is True and rows["labedu-exam"]["last_drill_result"] == "failed"
    assert status.code == 3
    assert rows["labedu-exam"]["last_verify_result"] == "ok"    # verified again after the repair
    from nxgov.backup.status import backup_status

    with StateStore.open(Path(world.env["NXGOV_STATE"])) as store:
        later = {r.system: r for r in backup_status(world.sdk().loaded.estate, store,
                                                    datetime.now(UTC) + timedelta(hours=3))}
    assert later["labdrc-web"].rpo_met is False and (later["labdrc-web"].breached_by_s or 0) > 3600


def test_prune_removes_an_old_chain_and_keeps_the_last_good_copy(world: World) -> None:
    from nxgov.backup.prune import expired, prune_copy
    from nxgov.backup.sync import plan_sync, sync_volume

    ctx = world.sdk()
    later = datetime.now(UTC) + timedelta(days=2)          # retain is 1d: the chain's full copy is too old
    plan = plan_sync(ctx, ["labdrc-web"], when=later)
    assert {v.action for v in plan.volumes} == {"full"}
    for step in plan.volumes:
        sync_volume(ctx, step, [(0, "0")])
    with StateStore.open(ctx.state) as store:
        old = catalog.copies(store, "labdrc-web", ("good",))
        gone = expired(ctx.loaded.estate, store, ["labdrc-web"], when=later)
    last = {(c.node, c.volume): c for c in old}
    assert gone and not {g.copy.id for g in gone} & {c.id for c in last.values()}
    for item in gone:
        prune_copy(ctx, item)
    for item in gone:
        assert ctx.cinder("backup").backup(item.copy.backup_id) is None
        assert ctx.cinder(item.copy.node).backup(item.copy.backup_id) is None
    with StateStore.open(ctx.state) as store:
        assert expired(ctx.loaded.estate, store, ["labdrc-web"], when=later) == []
    dry = world.nx("-o", "json", "backup", "prune", "--dry-run")
    assert dry.code == 0 and dry.json()["copies"] == []
    assert world.nx("backup", "verify", "--system", "labdrc-web").code == 0


def test_restore_brings_a_system_back_on_the_other_node_and_a_rerun_makes_nothing_new(world: World) -> None:
    dry = world.nx("-o", "json", "backup", "restore", "--system", "labdrc-web", "--to", "zhongwei", "--dry-run")
    assert dry.code == 0, dry.err
    [server] = dry.json()["plan"]["servers"]
    assert server["then"] == "attach" and server["stage"]          # the standby server exists on zhongwei
    run = world.nx("-o", "json", "backup", "restore", "--system", "labdrc-web", "--to", "zhongwei", "--yes")
    assert run.code == 0, run.err + run.out
    made = run.json()["made"]["labdrc-web-web-1"]
    [volume_id] = made["volumes"]
    from nxgov.lab.openstack.volumes import volume_file

    copy = good_copies(world)["labdrc-web/yinchuan"]
    restored = volume_file(LAB, "zhongwei", volume_id).read_bytes()
    with StateStore.open(Path(world.env["NXGOV_STATE"])) as db:
        assert blocks(restored) == catalog.manifest(db, copy["id"])["sha256s"]
    again = world.nx("-o", "json", "backup", "restore", "--system", "labdrc-web", "--to", "zhongwei", "--yes")
    assert again.code == 0 and again.json()["made"]["labdrc-web-web-1"]["volumes"] == [volume_id]
    ctx = world.sdk()
    conn = ctx.clients["zhongwei"].conn
    conn.compute.delete_volume_attachment(made["server_id"], volume_id)
    ctx.cinder("zhongwei").wait("volumes", volume_id, "available", ("in-use", "detaching"))
    ctx.cinder("zhongwei").delete("volumes", volume_id, force=True)


def test_restore_on_the_backup_cloud_boots_the_system_there_in_its_department(world: World) -> None:
    run = world.nx("-o", "json", "backup", "restore", "--system", "labedu-exam", "--to", "backup", "--yes")
    assert run.code == 0, run.err + run.out
    made = run.json()["made"]["labedu-exam-app-1"]
    ctx = world.sdk()
    conn = ctx.clients["backup"].conn
    project = conn.identity.find_project("labedu", ignore_missing=False)   # one Keystone: the department's own
    try:
        server = conn.compute.get_server(made["server_id"])
        assert server.status == "ACTIVE" and server.project_id == project.id
        [volume_id] = made["volumes"]
        from nxgov.lab.openstack.volumes import volume_file

        copy = good_copies(world)["labedu-exam/zhongwei"]
        with StateStore.open(Path(world.env["NXGOV_STATE"])) as db:
            assert blocks(volume_file(LAB, "backup", volume_id).read_bytes()) == catalog.manifest(
                db, copy["id"])["sha256s"]
    finally:
        conn.compute.delete_server(made["server_id"])
        conn.compute.wait_for_delete(conn.compute.get_server(made["server_id"]), wait=120)
        for volume in made["volumes"]:
            ctx.cinder("backup").wait("volumes", volume, "available", ("in-use", "detaching"))
            ctx.cinder("backup").delete("volumes", volume, force=True)


def test_the_exporter_publishes_each_systems_backup_state_from_the_catalog(world: World) -> None:
    status = {r["system"]: r for r in world.nx("-o", "json", "backup", "status").json()["systems"]}
    check = world.nx("-o", "json", "monitor", "check", "--only", "backup")
    assert check.code == 0, check.err
    samples = {(m["name"], s["labels"]["system"], s["labels"].get("result", "")): s["value"]
               for m in check.json()["metrics"] for s in m["samples"] if m["name"].startswith("nxgov_backup_")}
    web, exam = status["labdrc-web"], status["labedu-exam"]
    assert samples[("nxgov_backup_rpo_met", "labdrc-web", "")] == 1.0
    assert samples[("nxgov_backup_rpo_seconds", "labdrc-web", "")] == web["rpo_s"] == 3600
    assert samples[("nxgov_backup_last_good_timestamp_seconds", "labdrc-web", "")] == datetime.fromisoformat(
        web["last_good"]).timestamp()
    assert samples[("nxgov_backup_last_drill_result", "labdrc-web", "passed")] == 1.0
    assert samples[("nxgov_backup_last_drill_result", "labedu-exam", "failed")] == 1.0
    assert samples[("nxgov_backup_drill_due_timestamp_seconds", "labedu-exam", "")] == pytest.approx(
        datetime.fromisoformat(exam["drill_due"]).timestamp(), abs=120)
    assert samples[("nxgov_backup_last_verify_result", "labedu-exam", "ok")] == 1.0


def test_an_unreachable_backup_cloud_is_a_clear_error_and_nothing_is_recorded_as_good(world: World) -> None:
    clouds = yaml.safe_load((LAB / "clouds.yaml").read_text())
    entry = clouds["clouds"]["nxlab-backup"]
    entry["auth"]["auth_url"] = "http://127.0.0.1:9/v3"         # nothing listens on the discard port
    (world.work / "clouds-down.yaml").write_text(yaml.safe_dump(clouds))
    doc = yaml.safe_load((world.estate / "estate.yaml").read_text())
    doc["clouds"]["backup"]["clouds_yaml"] = str(world.work / "clouds-down.yaml")  # the others: the lab's own
    down = world.work / "estate-down"
    down.mkdir(exist_ok=True)
    (down / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    before = world.copies()
    run = world.nx("backup", "sync", "--yes", estate=down)
    assert run.code == 1 and "node backup is unreachable" in run.err and "Traceback" not in run.err, run.err
    assert world.copies() == before
