"""``region_status`` and ``nxgov status`` from a real state store filled through the SDK's own writers (the
migration lifecycle and runs, the backup catalog, net verify's results, device attention, pending confirmations),
with cloud nodes that refuse every connection: each node is reported unreachable with its error, everything else
is still reported. The nodes' figures against real services are in test_status_lab.py."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from nxgov.audit import AuditLog
from nxgov.backup import catalog
from nxgov.backup.policy import protected_systems, protected_volumes
from nxgov.cli.main import invoke
from nxgov.cloud.connect import NodeClient
from nxgov.cloud.tokens import Tokens
from nxgov.cloud.transport import RetryPolicy
from nxgov.estate import load_estate
from nxgov.estate.model import Estate
from nxgov.migrate import runs
from nxgov.migrate.assessment import save_assessment
from nxgov.migrate.windows import SHANGHAI
from nxgov.network import attention, confirm
from nxgov.network.verify import PlaneResult, PlaneState, Report, SiteResult, SiteState, save
from nxgov.region.status import SCHEMA, RegionStatus, region_status
from nxgov.state import StateStore
from tests.conftest import ROOT
from tests.migrate.lifecycle_helpers import walk
from tests.migrate.plan_helpers import assessment

LAB = ROOT / "inventories" / "lab" / "estate.yaml"
CLOSED = "http://127.0.0.1:9/v3"
"""Where the test's clouds.yaml points every node: the discard port, closed on a test machine."""


@dataclass
class World:
    estate: Estate
    estate_file: Path
    store: StateStore
    state: Path
    clouds: Path
    now: datetime

    def clients(self) -> dict[str, NodeClient]:
        policy = RetryPolicy(attempts=1, timeout=(2.0, 2.0))
        return {name: NodeClient(name, node.cloud, node.region, [str(self.clouds)], policy, Tokens(None))
                for name, node in self.estate.clouds.items()}

    def status(self) -> RegionStatus:
        return region_status(self.estate, self.store, self.clients(), self.now)


def _clouds(path: Path, estate: Estate) -> Path:
    entries = {node.cloud: {"auth": {"auth_url": CLOSED, "username": "admin", "password": "not-a-secret",
                                     "project_name": "admin", "user_domain_name": "Default",
                                     "project_domain_name": "Default"},
                            "region_name": node.region, "identity_api_version": 3}
               for node in estate.clouds.values()}
    path.write_text(yaml.safe_dump({"clouds": entries}), encoding="utf-8")
    return path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The lab estate (labedu's migration deadline moved to 10 days after "now") and a store where:

    - labdrc-web is cut over, its copies on both nodes 30 min old (RPO 1 h: met), drilled a day ago (weekly: not
      overdue), its last verify found a corrupt copy;
    - labedu-exam's last run (test) failed at a named step; labedu-portal's last run (replicate) was killed;
      both are not on the cloud 10 days before labedu's deadline (at risk); labedu-exam was never drilled (not
      attention: its backups start after its cutover);
    - site 640000 is both-up, 640100 degraded (plane B down), 640104 never verified; cmw-640100-b needs attention;
      a change pushed to frr-640104 is past its deadline unconfirmed.
    """
    state = tmp_path / "state.db"
    store = StateStore.open(state)
    clouds = _clouds(tmp_path / "clouds.yaml", load_estate(LAB).estate)
    log = AuditLog(tmp_path / "audit.jsonl")
    drill = catalog.open_drill(store, "labdrc-web", "backup", "nxdrill-test", [])
    ended = catalog.close_drill(store, drill, "passed", 42.0, [], True, "").ended
    assert ended is not None
    now = catalog.parse_time(ended) + timedelta(days=1)
    doc = yaml.safe_load(LAB.read_text(encoding="utf-8"))
    deadline = (now.astimezone(SHANGHAI) + timedelta(days=10)).date()
    for node in doc["clouds"].values():
        node["clouds_yaml"] = "clouds.yaml"
    for dept in doc["departments"]:
        if dept["code"] == "labedu":
            dept["migration_deadline"] = deadline.isoformat()
    estate_file = tmp_path / "estate.yaml"
    estate_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    estate = load_estate(estate_file).estate

    for code in ("labdrc-web", "labedu-exam", "labedu-portal"):
        save_assessment(store, assessment(code))
    walk(store, log, "labdrc-web", "replicate", "replicated", "test", "tested", "cutover", "cut-over")
    run_id, _, _ = runs.start_run(store, "labedu-exam", "test", tmp_path / "runs")
    runs.record_step(store, run_id, "2001:db8::10", "health check", "failed", {})
    runs.end_run(store, run_id, "failed", {"reason": "health URL answered 503"})
    killed = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                             "from nxgov.state import StateStore; from nxgov.migrate.runs import start_run; "
                             "start_run(StateStore.open(Path(sys.argv[1])), 'labedu-portal', 'replicate', "
                             "Path(sys.argv[2]))", str(state), str(tmp_path / "runs")], cwd=ROOT, timeout=60)
    assert killed.returncode == 0

    for volume in protected_volumes(estate, protected_systems(estate, ["labdrc-web"])):
        copy = catalog.open_copy(store, volume.system, volume.node, volume.volume, "vol", volume.backup_node, "full")
        taken = (now - timedelta(minutes=30)).isoformat()
        good = catalog.update(store, copy.id, state="good", started=taken, finished=taken, backup_id=f"b-{copy.id}")
    catalog.record_verify(store, good, "corrupt", 1.0, "object 3 differs")

    sites = {s.code: s for s in estate.extranet.sites} if estate.extranet else {}

    def site(code: str, verdict: SiteState, a: PlaneState, b: PlaneState) -> SiteResult:
        return SiteResult(code, sites[code].name, sites[code].level, "2001:db8:6400::/48", verdict,
                          (PlaneResult("A", a, ""), PlaneResult("B", b, "")), None, ())

    checked = now - timedelta(hours=2)
    save(store, Report("lab", checked.isoformat(timespec="seconds"), (
        site("640000", "both-up", "up", "up"), site("640100", "degraded", "up", "down")), ()))
    attention.note(state, "cmw-640100-b", "net push", "interface GE1/0/1", "session lost during rollback")
    attention.note(state, "somebody-elses", "net push", None, "not a device of this estate")
    row = confirm.open_change(state, push="push-1", estate="lab", device="frr-640104", within_s=60,
                             before_config="hostname frr-640104\n", before_version=None, made_before=None,
                             archive=tmp_path / "archive", sites=["640104"], baseline={"640104": ["A", "B"]})
    confirm.mark_committed(state, row, 60)
    try:
        yield World(estate, estate_file, store, state, clouds, now)
    finally:
        store.close()


def test_every_group_is_reported_and_every_node_unreachable_with_its_error(world: World) -> None:
    found = world.status()
    assert [(n.node, n.role, n.health) for n in found.nodes] == [
        ("yinchuan", "primary", "unreachable"), ("zhongwei", "primary", "unreachable"),
        ("backup", "backup", "unreachable")]
    for node in found.nodes:
        assert node.error and f"node {node.node} is unreachable" in node.error and node.reading is None
    assert found.cloud_error, "the provisioning could not be read either"

    depts = {d.department: d for d in found.departments}
    drc, edu = depts["labdrc"], depts["labedu"]
    assert drc.provisioned is None and edu.provisioned is None
    assert (drc.migration.on_cloud, drc.migration.to_migrate, drc.migration.ratio) == (1, 1, 1.0)
    assert (edu.migration.on_cloud, edu.migration.to_migrate, edu.migration.ratio) == (0, 2, 0.0)
    assert edu.at_risk == ("labedu-exam", "labedu-portal") and drc.at_risk == ()
    assert (drc.protected, drc.protected_of, drc.drilled, drc.drilled_of) == (1, 1, 1, 1)
    assert (edu.protected, edu.protected_of, edu.drilled, edu.drilled_of) == (0, 0, 0, 1), \
        "labedu-exam has no data volume (no RPO) and was never drilled; labedu-portal has no policy"

    sites = {s.code: s for s in found.sites}
    assert sites["640100"].state == "degraded" and sites["640100"].planes == {"A": "up", "B": "down"}
    assert sites["640100"].age_s == pytest.approx(2 * 3600)
    assert sites["640104"].state == "unverified" and sites["640104"].checked is None
    assert found.pending_confirmations == 1

    items = {(a.kind, a.subject): a for a in found.attention}
    assert set(items) == {
        ("node-unreachable", "yinchuan"), ("node-unreachable", "zhongwei"), ("node-unreachable", "backup"),
        ("cloud-unread", "provisioning"), ("corrupt-copy", "labdrc-web"),
        ("migration-at-risk", "labedu-exam"), ("migration-at-risk", "labedu-portal"),
        ("migration-failed", "labedu-exam"), ("migration-interrupted", "labedu-portal"),
        ("site-degraded", "640100"), ("sites-unverified", f"{len(found.sites) - 2} site(s)"),
        ("device", "cmw-640100-b"),
        ("unconfirmed-push", "frr-640104")}
    # labedu-exam was never drilled, but it is not on the cloud yet: its backups start after its cutover
    assert ("drill-overdue", "labedu-exam") not in items
    assert items[("migration-failed", "labedu-exam")].look == "nxgov migrate runs --system labedu-exam"
    assert "health URL answered 503" in items[("migration-failed", "labedu-exam")].message
    assert items[("migration-interrupted", "labedu-portal")].fix == "nxgov migrate replicate --system labedu-portal"
    assert items[("site-degraded", "640100")].look == "nxgov net verify --site 640100"
    assert "plane B down" in items[("site-degraded", "640100")].message
    assert items[("migration-at-risk", "labedu-exam")].message.endswith("in 10 day(s)")
    assert found.ok is False


def test_a_breached_rpo_and_an_overdue_drill_are_attention_and_a_fixed_one_is_not(world: World) -> None:
    later = World(world.estate, world.estate_file, world.store, world.state, world.clouds,
                  world.now + timedelta(days=7))
    items = {(a.kind, a.subject): a for a in later.status().attention}
    breached = items[("rpo-breached", "labdrc-web")]
    assert breached.message == "last good copy 7d 30m old, RPO 1h: breached by 6d 23h"
    assert breached.fix == "nxgov backup sync --system labdrc-web"
    assert ("drill-overdue", "labdrc-web") in items, "weekly: the drill of a day before 'now' is due after 6 days"
    assert ("rpo-breached", "labdrc-web") not in {(a.kind, a.subject) for a in world.status().attention}


def test_a_running_run_whose_process_lives_is_not_interrupted(world: World) -> None:
    run_id, _, _ = runs.start_run(world.store, "labedu-portal", "replicate", world.state.parent / "runs")
    kinds = {(a.kind, a.subject) for a in world.status().attention}
    assert ("migration-interrupted", "labedu-portal") not in kinds
    runs.end_run(world.store, run_id, "ok", {})
    kinds = {(a.kind, a.subject) for a in world.status().attention}
    assert not {k for k in kinds if k[1] == "labedu-portal" and k[0].startswith("migration-") and
                k[0] != "migration-at-risk"}


def test_every_look_and_fix_is_a_command_nxgov_accepts(world: World) -> None:
    later = World(world.estate, world.estate_file, world.store, world.state, world.clouds,
                  world.now + timedelta(days=7))
    found = [*world.status().attention, *later.status().attention]
    commands = {c for a in found for c in (a.look, a.fix) if c}
    assert len(commands) >= 15
    for line in sorted(commands):
        argv = shlex.split(line)
        assert argv[0] == "nxgov"
        assert invoke([*argv[1:], "--help"]) == 0, f"{line}: not a command nxgov accepts"
    assert invoke(["backup", "status", "--system", "x", "--help"]) == 2, "an option nxgov lacks is refused"


def test_the_cli_prints_one_json_document_and_exits_3(world: World, tmp_path: Path, nxgov: Any,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    audit_log = tmp_path / "cli-audit.jsonl"
    code = invoke(["-e", str(world.estate_file), "--state", str(world.state), "--audit-log", str(audit_log),
                   "-o", "json", "status", "--timeout", "2"])
    out, err = capsys.readouterr()
    assert code == 3, err
    document = json.loads(out)
    assert document["schema"] == SCHEMA and document["ok"] is False and document["estate"] == "lab"
    assert [n["health"] for n in document["nodes"]] == ["unreachable"] * 3
    assert {d["department"]: d["migration"]["ratio"] for d in document["departments"]} == {"labdrc": 1.0,
                                                                                          "labedu": 0.0}
    states = {s["site"]: s["state"] for s in document["sites"]}
    assert (states.pop("640000"), states.pop("640100")) == ("both-up", "degraded")
    assert set(states.values()) == {"unverified"} and "640104" in states
    assert {a["kind"] for a in document["attention"]} >= {"node-unreachable", "corrupt-copy", "migration-failed"}
    assert document["pending_confirmations"] == 1
    assert "not-a-secret" not in out + err
    assert not audit_log.exists(), "a read-only command writes no audit record"
    shown = nxgov("-e", str(world.estate_file), "status", "--timeout", "2")
    assert shown.code == 3, shown.err
    out = shown.out
    for words in ("cloud nodes", "unreachable", "departments", "extranet sites", "attention",
                  "nxgov net verify --site 640100", "nxgov migrate runs --system labedu-exam"):
        assert words in out, words


def test_a_timeout_out_of_range_is_bad_input(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["-e", str(world.estate_file), "--state", str(world.state), "status", "--timeout", "0"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_a_node_without_a_client_is_unreachable_and_provisioning_unknown(world: World) -> None:
    clients = world.clients()
    del clients["zhongwei"]
    found = region_status(world.estate, world.store, clients, world.now)
    nodes = {n.node: n for n in found.nodes}
    assert list(nodes) == ["yinchuan", "zhongwei", "backup"], "every node of the estate, in its order"
    assert nodes["zhongwei"].error == "node zhongwei: no connection was given"
    assert found.cloud_error == "no connection was given for the primary node(s) zhongwei"
    assert all(d.provisioned is None for d in found.departments)
