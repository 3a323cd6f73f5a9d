"""The lifecycle verbs against the lab, end to end: real legacy hosts (sshd in namespaces with private roots), real
OpenStack servers made by ``nxgov cloud apply`` (sshd on their fixed IPs), real ansible-runner runs, real rsync.

The tests of this module run in order on one campaign (one state store and audit log, one cloud apply):
labdrc-web (level 3, active-standby: its running server is on yinchuan) goes all the way to finalized;
labedu-portal (active-active: a server on yinchuan and one on zhongwei) is replicated, tested, and its cutover
fails on purpose and rolls back; labedu-exam (single, on zhongwei) carries ~200 MB for the kill and
cut-off tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, Run
from tests.migrate.legacy_hosts import LAB, SOURCES, as_the_lab_starts_them, health, on_source, on_target, url

pytestmark = pytest.mark.lab

ENTRY = "from nxgov.cli.main import run; run()"
BIG_FILES = 200
MIB = 1024 * 1024


@dataclass
class Campaign:
    work: Path
    estate: Path
    env: dict[str, str]
    records: Path

    def nx(self, *args: str, timeout: float = 900, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run([sys.executable, "-c", ENTRY, "-e", str(self.estate), *args], capture_output=True,
                              text=True, cwd=ROOT, env={**self.env, **(env or {})}, timeout=timeout)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", ENTRY, "-e", str(self.estate), *args], text=True, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**self.env, **(env or {})})

    def status(self) -> dict[str, Any]:
        run = self.nx("-o", "json", "migrate", "status")
        assert run.code == 0, run.err
        return dict(run.json())

    def servers(self, system: str) -> dict[str, str]:
        """The system's running servers: name -> address (the SDK call the verbs use)."""
        from nxgov.cloud.servers import system_servers
        from nxgov.estate import load_estate

        os.environ.setdefault("OS_CLIENT_CONFIG_FILE", self.env["OS_CLIENT_CONFIG_FILE"])
        return {s.name: s.addresses[0] for s in system_servers(load_estate(self.estate), system)
                if s.status == "ACTIVE"}


def states(campaign: Campaign) -> dict[str, str]:
    return {s["system"]: s["state"] for s in campaign.status()["systems"]}


@pytest.fixture(scope="module")
def campaign(lab_session: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaign]:
    """The lab estate (its records file moved into the test's folder), its cloud applied, assessed."""
    work = tmp_path_factory.mktemp("migrate-lab")
    estate_dir = work / "estate"
    estate_dir.mkdir()
    shutil.copytree(ROOT / "inventories" / "lab" / "hooks", estate_dir / "hooks")
    records = work / "service-records.hosts"
    text = (ROOT / "inventories" / "lab" / "estate.yaml").read_text()
    (estate_dir / "estate.yaml").write_text(text.replace(str(LAB / "service-records.hosts"), str(records)))
    env = {**os.environ, "NXGOV_STATE": str(work / "state.db"), "NXGOV_AUDIT_LOG": str(work / "audit.jsonl"),
           "NXGOV_KNOWN_HOSTS": str(work / "known_hosts"), "OS_CLIENT_CONFIG_FILE": str(LAB / "clouds.yaml"),
           "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    made = Campaign(work, estate_dir, env, records)
    systems = yaml.safe_load(text)["systems"]
    as_the_lab_starts_them(systems)  # an earlier session's cutover may have stopped one
    applied = made.nx("cloud", "apply", "--yes")
    assert applied.code == 0, applied.err + applied.out
    assessed = made.nx("-o", "json", "migrate", "assess")
    assert assessed.code == 0, assessed.err
    yield made
    as_the_lab_starts_them(systems)  # for the tests after these (an assessment expects the lab's hosts)
    doc = yaml.safe_load((estate_dir / "estate.yaml").read_text())
    doc["departments"], doc["systems"] = [], []
    (estate_dir / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    made.nx("cloud", "apply", "--prune", "--yes")


def _listing(system: str) -> str:
    """Every file of the system's data paths on its legacy host, with its size and modification time."""
    return on_source(system, f"find /srv/{system}/data /srv/{system}/app -type f -printf '%p %s %T@\\n' | sort")[1]


def test_replicate_a_wave_of_two_with_bounded_workers_then_again_sends_almost_nothing(campaign: Campaign) -> None:
    before = {system: _listing(system) for system in ("labdrc-web", "labedu-portal")}
    assert campaign.status()["total"]["ratio"] == 0.0
    dry = campaign.nx("-o", "json", "migrate", "replicate", "--system", "labdrc-web", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.json()["systems"][0]["then"] == "replicating" and states(campaign)["labdrc-web"] == "assessed"

    first = campaign.nx("migrate", "replicate", "--system", "labdrc-web", "--system", "labedu-portal",
                        "--workers", "2", "--yes")
    assert first.code == 0, first.err + first.out
    assert "copy the data paths from the source" in first.err  # the event stream drives the progress lines
    runs = campaign.nx("-o", "json", "migrate", "runs").json()["runs"]
    copies = {r["system"]: r for r in runs if r["verb"] == "replicate"}
    assert set(copies) == {"labdrc-web", "labedu-portal"} and all(r["outcome"] == "ok" for r in runs)
    for run in runs:
        assert Path(run["artifacts"], "artifacts", "replicate", "job_events").is_dir()  # ansible-runner's folder

    portal = campaign.servers("labedu-portal")
    assert len(portal) == 2  # one server on yinchuan, one on zhongwei
    web = campaign.servers("labdrc-web")
    assert len(web) == 1  # the standby copy on zhongwei is stopped (SHUTOFF): only the running one gets the data
    for system, servers in (("labdrc-web", web), ("labedu-portal", portal)):
        source_manifest = on_source(system, f"cd /srv/{system} && find data app -type f | sort | xargs sha256sum")[1]
        for address in servers.values():
            assert on_target(address, f"cd /srv/{system} && find data app -type f | sort | xargs sha256sum")[1] \
                == source_manifest
    assert states(campaign) == {"labdrc-web": "ready-for-test", "labedu-portal": "ready-for-test",
                                "labedu-exam": "assessed"}

    again = campaign.nx("-o", "json", "migrate", "replicate", "--system", "labdrc-web", "--system", "labedu-portal",
                        "--workers", "2", "--yes")
    assert again.code == 0, again.err
    for system in again.json()["systems"]:
        for copy in system["copies"]:
            assert copy["matches_source"] and copy["bytes"] > 0
            assert copy["bytes_sent"] < 4096, copy  # rsync's file list only: no file is sent again
    for system in ("labdrc-web", "labedu-portal"):  # the source untouched, still serving
        assert _listing(system) == before[system]
        assert health(url(SOURCES[system])) == 200


def test_test_starts_the_targets_checks_them_and_leaves_the_source_serving(campaign: Campaign) -> None:
    done = campaign.nx("-o", "json", "migrate", "test", "--system", "labdrc-web", "--system", "labedu-portal",
                       "--yes")
    assert done.code == 0, done.err
    assert [s["state"] for s in done.json()["systems"]] == ["ready-for-cutover", "ready-for-cutover"]
    for system in ("labdrc-web", "labedu-portal"):
        assert health(url(SOURCES[system])) == 200
        for address in campaign.servers(system).values():
            assert health(url(address)) is None  # started, checked, stopped again


def test_cutover_switches_the_record_runs_the_hooks_and_counts_the_system_on_the_cloud(campaign: Campaign) -> None:
    hook_log = LAB / "hook-runs.log"
    hooks_before = hook_log.read_text().count("labdrc-web cutover") if hook_log.exists() else 0
    done = campaign.nx("-o", "json", "migrate", "cutover", "--system", "labdrc-web", "--yes")
    assert done.code == 0, done.err
    (address,) = campaign.servers("labdrc-web").values()
    assert health(url(address)) == 200 and health(url(SOURCES["labdrc-web"])) is None
    assert f"{address} labdrc-web.lab.nxgov.cn" in campaign.records.read_text().splitlines()
    assert hook_log.read_text().count("labdrc-web cutover") == hooks_before + 2  # pre and post
    status = campaign.status()
    assert status["total"]["by_state"]["cut-over"] == 1 and status["total"]["ratio"] == pytest.approx(1 / 3)


def test_a_failing_health_check_during_cutover_rolls_back_to_the_source(campaign: Campaign) -> None:
    first = next(iter(campaign.servers("labedu-portal").values()))
    # Something else holds the service's port on one target: the app cannot start there and /health answers 404.
    on_target(first, "setsid -f python3 -m http.server 8080 --bind :: --directory /var/empty >/dev/null 2>&1")
    try:
        failed = campaign.nx("-o", "json", "migrate", "cutover", "--system", "labedu-portal", "--yes")
        assert failed.code == 1, failed.err
        (row,) = failed.json()["systems"]
        assert "check the service's health" in row["error"] and "rolled back automatically" in row["error"]
        assert health(url(SOURCES["labedu-portal"])) == 200  # the source serves again
        assert states(campaign)["labedu-portal"] == "rolled-back"
        assert "portal.lab.nxgov.cn" not in campaign.records.read_text().replace(
            f"{SOURCES['labedu-portal']} portal.lab.nxgov.cn", "")
        runs = campaign.nx("-o", "json", "migrate", "runs", "--system", "labedu-portal").json()["runs"]
        assert runs[0]["outcome"] == "failed" and "rolled back automatically" in runs[0]["detail"]["reason"]
        history = [json.loads(line) for line in (campaign.work / "audit.jsonl").read_text().splitlines()]
        assert any(r["command"] == "migrate lifecycle" and r["target"] == "labedu-portal"
                   and r["details"].get("automatic") for r in history)
    finally:
        on_target(first, "pkill -f '[h]ttp.server 8080' || true")


def test_finalize_marks_the_source_retired_and_rollback_after_it_is_refused(campaign: Campaign) -> None:
    done = campaign.nx("migrate", "finalize", "--system", "labdrc-web", "--yes")
    assert done.code == 0, done.err
    assert on_source("labdrc-web", "cat ~/NXGOV-RETIRED-labdrc-web")[0] == 0
    assert on_source("labdrc-web", "test -d /srv/labdrc-web/data")[0] == 0  # nothing deleted
    refused = campaign.nx("migrate", "rollback", "--system", "labdrc-web", "--yes")
    assert refused.code == 2 and "finalized" in refused.err and "Traceback" not in refused.err
    assert campaign.status()["total"]["by_state"]["finalized"] == 1


def test_a_changed_host_key_is_refused_with_both_fingerprints(campaign: Campaign) -> None:
    known = campaign.work / "known_hosts"
    original = known.read_text()
    fake = campaign.work / "fake"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(fake)], check=True)
    key = fake.with_suffix(".pub").read_text().split()[:2]
    lines = [f"{SOURCES['labedu-exam']} {' '.join(key)}" if ln.startswith(SOURCES["labedu-exam"] + " ") else ln
             for ln in original.splitlines()]
    known.write_text("\n".join(lines) + "\n")
    try:
        refused = campaign.nx("-o", "json", "migrate", "replicate", "--system", "labedu-exam", "--yes")
        assert refused.code == 1, refused.err
        (row,) = refused.json()["systems"]
        assert row["error"].count("SHA256:") >= 2 and row["error"].startswith("labedu-exam"), row
        assert states(campaign)["labedu-exam"] == "assessed"  # refused before anything moved
    finally:
        known.write_text(original)


def _target_bytes(address: str) -> int:
    _, out = on_target(address, "find /srv/labedu-exam/data -type f -printf '%s\\n' | awk '{s+=$1} END {print s+0}'")
    return int(out.strip() or 0)


def test_sigkill_during_replicate_then_rerun_resumes_resending_little(campaign: Campaign) -> None:
    code, _ = on_source("labedu-exam", f"cd /srv/labedu-exam/data && for i in $(seq 1 {BIG_FILES}); do "
                                       "head -c 1048576 /dev/urandom > big-$i.bin; done")
    assert code == 0
    (address,) = campaign.servers("labedu-exam").values()
    on_target(address, "rm -rf /srv/labedu-exam/data")  # a first copy, whatever an earlier session left there
    total = BIG_FILES * MIB
    proc = campaign.start("migrate", "replicate", "--system", "labedu-exam", "--yes", "--bwlimit", "20M")
    deadline = time.monotonic() + 120
    while _target_bytes(address) < 0.3 * total and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert proc.poll() is None, "the replicate ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # the killed run's sessions close; rsync on the target keeps its partial file
    present = _target_bytes(address) + int(on_target(
        address, "find /srv/labedu-exam/data -path '*/.nxgov-partial/*' -type f -printf '%s\\n' | "
                 "awk '{s+=$1} END {print s+0}'")[1].strip() or 0)
    assert 0.2 * total < present < total
    assert states(campaign)["labedu-exam"] == "replicating"

    resumed = campaign.nx("-o", "json", "migrate", "replicate", "--system", "labedu-exam", "--yes")
    assert resumed.code == 0, resumed.err
    (row,) = resumed.json()["systems"]
    assert row["resumed"] and row["state"] == "ready-for-test"
    (copy,) = row["copies"]
    assert copy["matches_source"]
    resent = present + copy["bytes_sent"] - copy["bytes"]
    assert resent < 0.05 * total, f"re-sent {resent} bytes of {total}"
    runs = campaign.nx("-o", "json", "migrate", "runs", "--system", "labedu-exam").json()["runs"]
    assert [r["outcome"] for r in runs[:2]] == ["ok", "interrupted"]
    killed = runs[1]["artifacts"] + "/"
    left = subprocess.run(["pgrep", "-f", killed], capture_output=True, text=True).stdout.split()
    assert left == [], f"the killed run's processes are still running: {left}"  # the resumed run ended them


def test_source_cut_off_mid_copy_fails_naming_the_step_and_a_later_run_completes(campaign: Campaign) -> None:
    (address,) = campaign.servers("labedu-exam").values()
    on_target(address, "rm -rf /srv/labedu-exam/data")
    netns = "nxl-labedu-exam"
    proc = campaign.start("migrate", "replicate", "--system", "labedu-exam", "--yes", "--bwlimit", "20M",
                          env={"NXGOV_MIGRATE_IO_TIMEOUT": "5"})
    try:
        deadline = time.monotonic() + 120
        while _target_bytes(address) < 0.2 * BIG_FILES * MIB and time.monotonic() < deadline:
            time.sleep(0.3)
        subprocess.run(["ip", "-n", netns, "link", "set", "eth0", "down"], check=True)
        out, err = proc.communicate(timeout=300)
    finally:
        subprocess.run(["ip", "-n", netns, "link", "set", "eth0", "up"], check=True)
    assert proc.returncode == 1, err
    assert "labedu-exam" in out + err and "copy the data paths from the source" in out + err
    time.sleep(2)  # the host's address is usable again (nodad: no duplicate detection to wait for)
    again = campaign.nx("-o", "json", "migrate", "replicate", "--system", "labedu-exam", "--yes")
    assert again.code == 0, again.err
    (copy,) = again.json()["systems"][0]["copies"]
    assert copy["matches_source"] and copy["files"] >= BIG_FILES


def test_retire_a_zombie_stops_its_service_marks_the_host_and_files_it(campaign: Campaign) -> None:
    """labedu-exam in a campaign of its own (a fresh state store: only assessed), retired as a zombie."""
    zombie = Campaign(campaign.work, campaign.estate, {**campaign.env, "NXGOV_STATE": str(campaign.work / "z.db")},
                      campaign.records)
    assert zombie.nx("migrate", "assess", "--system", "labedu-exam").code == 0
    try:
        done = zombie.nx("migrate", "retire", "labedu-exam", "--yes")
        assert done.code == 0, done.err
        assert "zombie evidence for labedu-exam" in done.err
        assert health(url(SOURCES["labedu-exam"])) is None
        assert on_source("labedu-exam", "cat ~/NXGOV-RETIRED-labedu-exam")[0] == 0
        filed = zombie.nx("-o", "json", "migrate", "register").json()
        assert [(e["system"], e["change"]) for e in filed["entries"]] == [("labedu-exam", "retired")]
        again = zombie.nx("migrate", "retire", "labedu-exam", "--yes")
        assert again.code == 2 and "retired" in again.err
    finally:
        start = yaml.safe_load((campaign.estate / "estate.yaml").read_text())["systems"]
        on_source("labedu-exam", next(s for s in start if s["code"] == "labedu-exam")["service"]["start"])
