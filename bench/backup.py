"""The backup-sync benchmark (issue 11), on the rehearsal lab, printed side by side with the path an operator takes
by hand (never asserted in tests).

Setup: a temporary estate ``bench-backup`` (the lab estate's clouds, credentials and flavors; one department
``benchb``; one system on Yinchuan with ``--volumes`` servers, each with one data volume of ``--gb`` GB) with its own
state store and audit log, ``nxgov cloud apply``, and every volume filled with random bytes. The lab scales volume
bytes to 1 MiB per GB (its volume driver's sparse files), so ``--volumes 4 --gb 512`` is 2 GiB of data. The lab's
OpenStack must already be running (this script never runs ``nxgov lab up`` or ``down``).

1. First sync: ``nxgov -o json backup sync`` (snapshot, full Cinder backup, rsync to the backup cloud's store,
   import there): wall time and bytes sent.
2. Re-sync after 1 % of each volume changed: wall time and bytes sent.
3. Resume: every volume rewritten, a sync started with a bandwidth limit and SIGKILLed once half the bytes are in
   the backup cloud's store, then run again. Re-sent = bytes present at the kill + bytes the re-run sent - total.
4. The naive path, per volume: a clone of the in-use volume (``volume create --source``: Cinder uploads an in-use
   volume only where ``enable_force_upload`` is on), ``volume upload-to-image`` of the clone at the node,
   ``image save | image create`` to the backup cloud (through this host, as the openstack CLI does), the images and
   the clone deleted again: a full copy every time.

Goals: the re-sync after 1 % sends under 3 % of the naive path's bytes; the first sync within 1.5x its time.
Teardown always: the estate's cloud resources pruned, the temporary folder deleted.
Run as root: ``.venv/bin/python bench/backup.py [--volumes 4] [--gb 512] [--workers 2]``; the table is printed,
then the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NXGOV = ROOT / ".venv" / "bin" / "nxgov"
LAB = Path("/var/lib/nxgov/lab")
MIB = 1 << 20
ESTATE = "bench-backup"
DEPARTMENT = "benchb"
SYSTEM = "benchb-data"
KILL_AT = 0.5


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def mib(n: float) -> str:
    return f"{n / MIB:,.1f} MiB"


def write_estate(folder: Path, volumes: int, gb: int) -> None:
    lab = yaml.safe_load((ROOT / "inventories" / "lab" / "estate.yaml").read_text())
    doc: dict[str, Any] = {
        "estate": ESTATE, "description": "灾备同步基准（bench/backup.py，临时）",
        **{key: lab[key] for key in ("clouds", "cloud_ipv6", "operations", "credentials", "flavors")},
        "departments": [{"code": DEPARTMENT, "name": "灾备基准（演练）",
                         "quotas": {"cores": volumes + 2, "ram_gb": volumes + 2, "instances": volumes + 2,
                                    "volumes_gb": volumes * gb * 2, "volumes": volumes * 2,
                                    "snapshots": volumes * 2},
                         "networks": [{"name": "app"}]}],
        "systems": [{"code": SYSTEM, "name": "灾备基准", "department": DEPARTMENT, "level": 3,
                     "placement": {"mode": "single", "node": "yinchuan"},
                     "servers": [{"name": "db", "flavor": "m1.tiny", "image": "cirros-lab", "count": volumes,
                                  "volumes_gb": [gb]}],
                     "backup": {"rpo": "4h", "retain": "14d", "drill": "monthly"}}],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


class Bench:
    def __init__(self, work: Path, estate: Path) -> None:
        self.work, self.estate = work, estate
        self.env = {**os.environ, "NXGOV_STATE": str(work / "state.db"), "NXGOV_AUDIT_LOG": str(work / "audit.jsonl"),
                    "OS_CLIENT_CONFIG_FILE": str(LAB / "clouds.yaml"), "COLUMNS": "200"}
        os.environ["OS_CLIENT_CONFIG_FILE"] = self.env["OS_CLIENT_CONFIG_FILE"]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(NXGOV), "-e", str(self.estate), *args], capture_output=True, text=True,
                              env=self.env, timeout=7200, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"nxgov {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
                               f"\n{done.stdout[-3000:]}")
        return done

    def sdk(self) -> Any:
        from nxgov.backup.context import connect
        from nxgov.estate import load_estate

        return connect(load_estate(self.estate), Path(self.env["NXGOV_STATE"]))

    def volume_files(self) -> dict[str, Path]:
        from nxgov.backup.cinder import project_id
        from nxgov.lab.openstack.volumes import volume_file

        ctx = self.sdk()
        project = project_id(ctx.clients["yinchuan"], DEPARTMENT)
        assert project is not None
        return {v["id"]: volume_file(LAB, "yinchuan", v["id"]) for v in ctx.cinder("yinchuan").volumes(project)}

    def sync(self, *extra: str) -> tuple[float, int]:
        started = time.monotonic()
        done = self.run("-o", "json", "backup", "sync", "--yes", *extra)
        sent = sum((r["copy"] or {}).get("bytes_sent", 0) for r in json.loads(done.stdout)["results"])
        return time.monotonic() - started, sent

    def copies(self) -> list[dict[str, Any]]:
        return list(json.loads(self.run("-o", "json", "backup", "copies").stdout)["copies"])


def rewrite(files: dict[str, Path], fraction: float) -> int:
    """Overwrite ``fraction`` of each volume (from a third of the way in) with random bytes; bytes changed."""
    changed = 0
    for path in files.values():
        size = path.stat().st_size
        count = int(size * fraction)
        with path.open("r+b") as volume:
            volume.seek(0 if fraction >= 1 else size // 3)
            for offset in range(0, count, MIB):
                volume.write(os.urandom(min(MIB, count - offset)))
        changed += count
    return changed


def naive_path(bench: Bench, files: dict[str, Path]) -> tuple[float, int]:
    """upload-to-image at the node, image save | image create to the backup cloud, per volume; (seconds, bytes)."""
    from nxgov.backup.cinder import Cinder

    ctx = bench.sdk()
    node, backup = ctx.clients["yinchuan"], ctx.clients["backup"]
    cinder = Cinder(node)
    started = time.monotonic()
    moved = 0
    for volume_id in files:
        size = (cinder.volume(volume_id) or {})["size"]
        clone = cinder.call("post", "/volumes", {"volume": {"source_volid": volume_id, "name": "bench-naive-clone",
                                                            "size": size}})
        clone_id = clone["volume"]["id"]
        cinder.wait("volumes", clone_id, "available", ("creating",))
        answer = cinder.call("post", f"/volumes/{clone_id}/action", {"os-volume_upload_image": {
            "image_name": f"bench-naive-{volume_id}", "disk_format": "raw", "container_format": "bare"}})
        image_id = answer["os-volume_upload_image"]["image_id"]
        cinder.wait("volumes", clone_id, "available", ("uploading",))
        while node.conn.image.get(f"/images/{image_id}").json()["status"] != "active":
            time.sleep(0.2)
        with tempfile.TemporaryFile() as spool:
            response = node.conn.image.get(f"/images/{image_id}/file", stream=True)
            for chunk in response.iter_content(MIB):
                spool.write(chunk)
                moved += len(chunk)
            spool.seek(0)
            made = backup.conn.image.post("/images", json={"name": f"bench-naive-{volume_id}", "disk_format": "raw",
                                                           "container_format": "bare"}).json()
            backup.conn.image.put(f"/images/{made['id']}/file", data=spool,
                                  headers={"Content-Type": "application/octet-stream"}).raise_for_status()
        node.conn.image.delete_image(image_id)
        backup.conn.image.delete_image(made["id"])
        cinder.delete("volumes", clone_id, force=True)
    return time.monotonic() - started, moved


def _containers(store: Path) -> set[Path]:
    return {p for p in store.glob("*/*/*") if p.is_dir()}


def resume(bench: Bench, files: dict[str, Path], total: int, bwlimit: str, workers: int) -> tuple[int, int, float]:
    """Rewrite every volume, start a sync, kill it (its whole process group: a lost session) once half the bytes are
    in the backup cloud's store, run again; (bytes present at the kill, bytes the re-run sent again that were
    already there, re-run seconds)."""
    rewrite(files, 1.0)
    store = Path(bench.sdk().loaded.estate.clouds["backup"].backup_store)
    before = _containers(store)
    proc = subprocess.Popen([str(NXGOV), "-e", str(bench.estate), "-o", "json", "backup", "sync", "--yes",
                             "--workers", str(workers), "--bwlimit", bwlimit], env=bench.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    present = 0
    while present < total * KILL_AT:
        if proc.poll() is not None:
            raise RuntimeError(f"the sync ended before {KILL_AT:.0%} was copied: lower --bwlimit")
        present = sum(f.stat().st_size for c in _containers(store) - before for f in c.iterdir())
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    present = sum(f.stat().st_size for c in _containers(store) - before for f in c.iterdir())
    say(f"killed at {mib(present)} of {mib(total)} in the backup cloud's store")
    seconds, sent = bench.sync("--workers", str(workers))
    stored = sum(f.stat().st_size for c in _containers(store) - before for f in c.iterdir())
    return present, sent - (stored - present), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=4)
    parser.add_argument("--gb", type=int, default=512, help="each volume's size in GB (the lab: 1 MiB per GB)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bwlimit", default="10M", help="the rate per copy of the run that is killed half way")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root (the lab's volume files)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="nxgov-bench-backup-"))
    estate = work / "estate"
    write_estate(estate, args.volumes, args.gb)
    bench = Bench(work, estate)
    figures: dict[str, Any] = {"volumes": args.volumes, "gb_each": args.gb}
    try:
        bench.run("cloud", "apply", "--yes")
        files = bench.volume_files()
        total = sum(p.stat().st_size for p in files.values())
        rewrite(files, 1.0)
        figures["total_bytes"] = total
        say(f"{len(files)} volumes, {mib(total)} of random data on yinchuan")
        first_s, first_sent = bench.sync("--workers", str(args.workers))
        say(f"first sync: {first_s:.1f} s, {mib(first_sent)} sent")
        changed = rewrite(files, 0.01)
        again_s, again_sent = bench.sync("--workers", str(args.workers))
        say(f"re-sync after {mib(changed)} changed: {again_s:.1f} s, {mib(again_sent)} sent")
        naive_s, naive_bytes = naive_path(bench, files)
        say(f"naive path: {naive_s:.1f} s, {mib(naive_bytes)} moved")
        present, resent, rerun_s = resume(bench, files, total, args.bwlimit, args.workers)
        figures.update(first_s=round(first_s, 1), first_sent=first_sent, resync_s=round(again_s, 1),
                       resync_sent=again_sent, changed=changed, naive_s=round(naive_s, 1), naive_bytes=naive_bytes,
                       killed_present=present, rerun_s=round(rerun_s, 1), resent=resent)
        rows = [
            ("first sync", f"{first_s:.1f} s, {mib(first_sent)}", f"{naive_s:.1f} s, {mib(naive_bytes)}",
             f"time {first_s / naive_s:.2f}x (goal <= 1.5x)"),
            ("re-sync after 1 % changed", f"{again_s:.1f} s, {mib(again_sent)}", f"{naive_s:.1f} s, "
             f"{mib(naive_bytes)}", f"bytes {100 * again_sent / naive_bytes:.2f} % (goal < 3 %)"),
            ("killed at 50 %, re-run", f"{rerun_s:.1f} s, {mib(max(resent, 0))} sent again",
             f"{naive_s:.1f} s, {mib(naive_bytes)}, {mib(present)} again",
             f"re-sent {100 * max(resent, 0) / total:.2f} % of the volumes (goal < 10 %)"),
        ]
        width = max(len(r[0]) for r in rows)
        print(f"{'':{width}}  {'nxgov backup sync':42}  {'upload-to-image + image save|create':42}  figure")
        for name, ours, theirs, figure in rows:
            print(f"{name:{width}}  {ours:42}  {theirs:42}  {figure}")
        print(json.dumps(figures))
    finally:
        doc = yaml.safe_load((estate / "estate.yaml").read_text())
        doc["departments"], doc["systems"] = [], []
        (estate / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        bench.run("cloud", "apply", "--prune", "--yes", check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
