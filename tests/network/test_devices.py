"""Drivers, push and archive against the lab's simulated VRP and Comware routers (a real simulator process)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
import typer
from typer.testing import CliRunner

from nxgov.audit import AuditLog
from nxgov.cli.main import main as root_callback
from nxgov.cli.net_devices import register
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, read_config, write_spec
from nxgov.network import attention, confirm, push
from nxgov.network.archive import Archive, backup
from nxgov.network.drivers import SessionOptions, Target, driver
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.errors import (
    AuthenticationError,
    CommandRejectedError,
    HostKeyChangedError,
    UnreachableError,
)
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.network.drivers.session import CliSession
from nxgov.network.drivers.vrp import VrpDriver
from nxgov.runner import Status
from nxgov.state import StateStore
from tests.estates_small import comware, one_site_estate

USER, PASSWORD = "netops", "Sim-pass-9e2!"
CANDIDATES = {
    "huawei_vrp": """#
interface GigabitEthernet0/0/1
 description to-plane-a
 ipv6 enable
 ipv6 address 2001:DB8:64::1/127
#
bgp 65101
 peer 2001:DB8:64:: as-number 65100
 #
 ipv6-family unicast
  peer 2001:DB8:64:: enable
  network 2001:DB8:6401:: 48
#
return
""",
    "h3c_comware": """#
interface GigabitEthernet1/0/1
 description to-plane-b
 ipv6 address 2001:DB8:65::1/127
#
bgp 65102
 peer 2001:DB8:65:: as-number 65100
 #
 address-family ipv6 unicast
  peer 2001:DB8:65:: enable
#
return
""",
}
BAD_LINE = {"huawei_vrp": "ipv6 address 2001:db8::zz/64", "h3c_comware": "ipv6 address 2001:db8::zz/64"}


@dataclass
class Lab:
    root: Path
    state: Path
    devices: dict[str, DeviceSpec]

    def target(self, name: str, password: str = PASSWORD) -> Target:
        spec = self.devices[name]
        return Target(name, spec.platform, spec.host, spec.port, Credentials(USER, password))

    def options(self, logs: Path | None = None) -> SessionOptions:
        return SessionOptions(KnownHosts(self.root / "known_hosts"), session_logs=logs, connect_timeout=5)

    def running(self, name: str) -> str:
        return read_config(self.state, name) or ""



def start(root: Path, names: dict[str, str], state: str = "state") -> tuple[NetsimProcess, dict[str, DeviceSpec]]:
    ports = free_loopback_ports(len(names))
    devices = {name: DeviceSpec(name, platform, ports.pop(), USER, PASSWORD)  # type: ignore[arg-type]
               for name, platform in names.items()}
    write_spec(root / "devices.json", SimSpec(tuple(devices.values())))
    return NetsimProcess.start(root / "devices.json", root / state, root / "netsim.log"), devices


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Fourteen VRP routers V0..V13 and five Comware routers C0..C4 in one simulator process."""
    root = tmp_path_factory.mktemp("devices")
    names = {f"V{i}": "huawei_vrp" for i in range(14)} | {f"C{i}": "h3c_comware" for i in range(5)}
    sim, devices = start(root, names)
    try:
        yield Lab(root, root / "state", devices)
    finally:
        sim.stop()


PLATFORMS = pytest.mark.parametrize("name", ["V0", "C0"], ids=["vrp", "comware"])


@PLATFORMS
def test_push_reads_back_and_a_second_push_changes_nothing(lab: Lab, name: str, tmp_path: Path) -> None:
    target, audit = lab.target(name), AuditLog(tmp_path / "audit.jsonl")
    candidate = CANDIDATES[target.platform]
    first = push.push([target], {name: candidate}, lab.options(), audit=audit)
    assert first.results[0].status is Status.changed, first.results[0].error
    running = lab.running(name)
    assert all(line.strip() in running for line in candidate.splitlines() if line.strip() not in ("#", "return"))
    assert candidate.split("#\n")[2] in running  # the bgp view, exactly as the device prints it
    saved = read_config(lab.state, name, "saved") or ""
    assert "peer 2001:DB8:6" in saved
    second = push.push([target], {name: candidate}, lab.options(), audit=audit)
    assert second.results[0].status is Status.ok and second.results[0].data.commands == ()
    assert lab.running(name) == running
    assert [(r.result, r.details["lines"]) for r in audit.records()] == [("changed", 12 if name == "V0" else 10),
                                                                        ("ok", 0)]


@PLATFORMS
def test_a_rejected_line_is_named_and_rolled_back(lab: Lab, name: str) -> None:
    target = lab.target(name)
    port = "GigabitEthernet0/0/3" if target.platform == "huawei_vrp" else "GigabitEthernet1/0/3"
    candidate = (f"interface LoopBack9\n description new-view\n#\ninterface {port}\n description half\n"
                 f" {BAD_LINE[target.platform]}\n#\nbgp 65109\n")
    before = lab.running(name)
    with driver(target, lab.options()) as device:
        device.load_merge_candidate(candidate)
        with pytest.raises(CommandRejectedError) as rejected:
            device.commit_config()
    error = rejected.value
    assert (error.device, error.line, error.view) == (name, BAD_LINE[target.platform], f"interface {port}")
    assert "Wrong parameter found at '^' position. (at '2001:db8::zz/64')" in error.reply
    assert f"{name}: the device rejected 'ipv6 address 2001:db8::zz/64'" in str(error) and "rolled back" in str(error)
    assert lab.running(name) == before


VILLAGE = {  # a second child site's port, peer, network and route, added to CANDIDATES
    "huawei_vrp": ("GigabitEthernet0/0/2", "ipv6 enable\n ", "ipv6-family unicast"),
    "h3c_comware": ("GigabitEthernet1/0/2", "", "address-family ipv6 unicast"),
}


def with_village(platform: str) -> str:
    port, enable, family = VILLAGE[platform]
    text = CANDIDATES[platform].replace("#\nbgp ", f"#\ninterface {port}\n description to-640104\n {enable}"
                                        "ipv6 address 2001:DB8:66::1/127\n#\nbgp ")
    text = text.replace(f" #\n {family}\n", " peer 2001:DB8:66:: as-number 65104\n peer 2001:DB8:66:: description "
                        f"village\n #\n {family}\n  network 2001:DB8:6412:: 48\n  peer 2001:DB8:66:: enable\n")
    return text.replace("#\nreturn\n", "#\n ipv6 route-static 2001:DB8:6412:: 48 NULL0\n#\nreturn\n")


@PLATFORMS
def test_prune_removes_what_nxgov_made_and_nothing_else(lab: Lab, name: str, tmp_path: Path) -> None:
    name = {"V0": "V12", "C0": "C2"}[name]
    target, audit = lab.target(name), AuditLog(tmp_path / "audit.jsonl")
    archive = Archive(tmp_path / "configs", tmp_path / "state.db")
    lines = 6 if target.platform == "huawei_vrp" else 5  # description, address (enable), peer, network, route
    hand = "#\ninterface LoopBack7\n description by-hand\n#\n ipv6 route-static 2001:DB8:7000:: 48 NULL0\n#\n"
    assert push.push([target], {name: hand}, lab.options()).ok  # not through the archive: nxgov did not make it
    first = push.push([target], {name: with_village(target.platform)}, lab.options(), archive=archive)
    assert first.ok and "peer 2001:DB8:66:: as-number 65104" in lab.running(name)
    kept = push.push([target], {name: CANDIDATES[target.platform]}, lab.options(), archive=archive, audit=audit)
    assert kept.results[0].status is Status.ok and kept.results[0].data.stale == lines
    dry = push.push([target], {name: CANDIDATES[target.platform]}, lab.options(), archive=archive, prune=True,
                    dry_run=True)
    assert dry.results[0].data.removed == lines and "- peer 2001:DB8:66:: as-number 65104" in dry.results[0].data.diff

    pruned = push.push([target], {name: CANDIDATES[target.platform]}, lab.options(), archive=archive, prune=True,
                       audit=audit)
    result = pruned.results[0]
    assert result.status is Status.changed and result.data.unconfirmed == (), result.error
    assert result.data.removed == lines and "undo peer 2001:DB8:66::" in result.data.commands
    running = lab.running(name)
    for gone in ("2001:DB8:66", "6412", "village", "to-640104"):
        assert gone not in running
    for line in (*hand.splitlines(), *CANDIDATES[target.platform].splitlines()):
        assert line in running.splitlines(), line
    assert f"interface {VILLAGE[target.platform][0]}" in running  # a physical port stays, emptied
    assert "2001:DB8:66" not in (read_config(lab.state, name, "saved") or "")  # and saved
    again = push.push([target], {name: CANDIDATES[target.platform]}, lab.options(), archive=archive, prune=True)
    assert again.results[0].status is Status.ok and again.results[0].data.commands == ()
    assert archive.made(name) is not None and "2001:DB8:66" not in (archive.made(name) or "")
    assert [(r.result, r.details["removed"], r.details["stale"]) for r in audit.records()] == [
        ("ok", 0, lines), ("changed", lines, 0)]


def test_dry_run_shows_the_diff_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    before = lab.running("V1")
    result = push.push([lab.target("V1")], {"V1": CANDIDATES["huawei_vrp"]}, lab.options(), dry_run=True,
                       audit=audit)
    change = result.results[0].data
    assert result.results[0].status is Status.changed and "+ ipv6 address 2001:DB8:64::1/127" in change.diff
    assert change.commands[:2] == ("interface GigabitEthernet0/0/1", "description to-plane-a")
    assert lab.running("V1") == before
    assert [r.result for r in audit.records()] == ["dry-run"]


def test_wrong_password_is_an_authentication_error(lab: Lab) -> None:
    with pytest.raises(AuthenticationError, match=r"V2: 127\.0\.0\.1 port \d+ refused the login as 'netops'"):
        driver(lab.target("V2", password="wrong"), lab.options()).open()


def test_a_closed_port_is_unreachable(lab: Lab) -> None:
    target = Target("V99", "huawei_vrp", "127.0.0.1", free_loopback_ports(1)[0], Credentials(USER, PASSWORD))
    expected = r"V99: cannot reach 127\.0\.0\.1 port \d+: TCP connection failed"
    with pytest.raises(UnreachableError, match=expected) as err:
        driver(target, lab.options()).open()
    assert err.value.hint and "host and port" in err.value.hint


def test_a_changed_host_key_is_refused_naming_both_fingerprints(tmp_path: Path) -> None:
    sim, devices = start(tmp_path, {"R1": "huawei_vrp"})
    spec = devices["R1"]
    target = Target("R1", spec.platform, spec.host, spec.port, Credentials(USER, PASSWORD))
    options = SessionOptions(KnownHosts(tmp_path / "known_hosts"))
    try:
        with driver(target, options):
            pass
    finally:
        sim.stop()
    known = (tmp_path / "known_hosts").read_text()
    assert known.startswith(f"[127.0.0.1]:{spec.port} ssh-ed25519 ")
    sim = NetsimProcess.start(tmp_path / "devices.json", tmp_path / "other-state", tmp_path / "netsim.log")
    try:
        with pytest.raises(HostKeyChangedError) as changed:
            driver(target, SessionOptions(KnownHosts(tmp_path / "known_hosts"))).open()
    finally:
        sim.stop()
    error = changed.value
    assert error.known != error.offered and error.known.startswith("SHA256:")
    assert f"trusted {error.known}, offered {error.offered}; refusing to connect" in str(error)
    assert "ssh-keygen -R" in (error.hint or "")
    assert (tmp_path / "known_hosts").read_text() == known


def test_backup_keeps_versions_only_when_the_configuration_changes(lab: Lab, tmp_path: Path) -> None:
    archive = Archive(tmp_path / "configs", tmp_path / "state.db")
    targets = [lab.target("V3"), lab.target("C3")]
    audit = AuditLog(tmp_path / "audit.jsonl")
    first = backup(targets, archive, lab.options(), audit=audit)
    second = backup(targets, archive, lab.options(), audit=audit)
    assert [r.status for r in first.results] == [Status.changed] * 2
    assert [r.status for r in second.results] == [Status.ok] * 2
    assert [v.version for v in archive.history("V3")] == [1]
    push.push([lab.target("V3")], {"V3": "interface LoopBack3\n description archived\n"}, lab.options())
    backup(targets, archive, lab.options())
    versions = archive.history("V3")
    assert [v.version for v in versions] == [1, 2] and len(archive.history("C3")) == 1
    assert versions[1].path.parent == tmp_path / "configs" / "V3" and versions[1].path.stat().st_mode & 0o777 == 0o600
    diff = archive.diff("V3", 1, 2)
    assert "+interface LoopBack3\n+ description archived" in diff and diff.startswith("--- V3 version 1")
    assert [r.result for r in audit.records()] == ["changed", "changed", "ok", "ok"]


def test_ten_devices_with_five_workers_and_clean_session_logs(lab: Lab, tmp_path: Path) -> None:
    names = [f"V{i}" for i in range(2, 12)]
    logs = tmp_path / "sessions"
    result = push.push([lab.target(n) for n in names], dict.fromkeys(names, CANDIDATES["huawei_vrp"]),
                       lab.options(logs), workers=5, audit=AuditLog(tmp_path / "audit.jsonl"))
    assert [r.status for r in result.results] == [Status.changed] * 10, [r.error for r in result.results]
    assert all("2001:DB8:6401:: 48" in lab.running(n) for n in names)
    for name in names:
        text = (logs / f"{name}.log").read_text()
        assert "ipv6 address 2001:DB8:64::1/127" in text and PASSWORD not in text
        assert (logs / f"{name}.log").stat().st_mode & 0o777 == 0o600


class DroppingSession(CliSession):
    """Cuts its own SSH connection right after typing a ``description`` line, then runs ``on_drop``'s action."""

    on_drop: ClassVar[list[Callable[[], None] | None]] = []

    def type(self, line: str, confirm: bool = False) -> str:
        reply = super().type(line, confirm)
        if line.startswith("description") and self.on_drop:
            action = self.on_drop.pop()
            self.connection.remote_conn.transport.close()  # type: ignore[union-attr]
            if action is not None:
                action()
        return reply


class DroppingVrp(VrpDriver):
    session_class = DroppingSession


def test_a_session_dropped_mid_push_is_rolled_back_on_reconnect(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push, "driver", lambda target, options: DroppingVrp(target, options))
    DroppingSession.on_drop = [None]
    before = lab.running("V1")
    result = push.push([lab.target("V1")], {"V1": "interface LoopBack5\n ipv6 enable\n description cut\n"
                                                  " ipv6 address 2001:db8:5::1/128\n"}, lab.options())
    error = result.results[0].error or ""
    assert "V1: the session dropped after 'description cut'" in error and "reconnected and rolled back" in error
    assert lab.running("V1") == before


def test_a_session_dropped_for_good_is_recorded_as_needing_attention(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sim, devices = start(tmp_path, {"R2": "huawei_vrp"})
    spec = devices["R2"]
    target = Target("R2", spec.platform, spec.host, spec.port, Credentials(USER, PASSWORD))
    monkeypatch.setattr(push, "driver", lambda target, options: DroppingVrp(target, options))
    DroppingSession.on_drop = [sim.stop]
    audit = AuditLog(tmp_path / "audit.jsonl")
    try:
        result = push.push([target], {"R2": "interface LoopBack6\n ipv6 enable\n description cut\n"},
                           SessionOptions(KnownHosts(tmp_path / "known_hosts"), connect_timeout=2),
                           audit=audit, state=tmp_path / "state.db")
    finally:
        sim.stop()
    assert "NEEDS ATTENTION" in (result.results[0].error or "")
    with StateStore.open(tmp_path / "state.db") as store:
        items = attention.open_items(store)
    assert [(i.device, i.operation, i.last_applied) for i in items] == [("R2", "net push", "description cut")]
    record = next(iter(audit.records()))
    assert record.result == "failed" and "NEEDS ATTENTION" in record.details["error"]


def test_cli_push_and_backup_through_the_root_callback(lab: Lab, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands mounted under a `net` group of the real root callback (the lead wires them into nxgov)."""
    monkeypatch.setenv("NXGOV_KNOWN_HOSTS", str(tmp_path / "known_hosts"))
    credentials = tmp_path / "extranet.yaml"
    credentials.write_text(f"username: {USER}\npassword: '{PASSWORD}'\n")
    credentials.chmod(0o600)
    devices = (comware("C1", lab.devices["C1"].port, plane="A"), comware("C2", lab.devices["C2"].port, plane="B"))
    (tmp_path / "estate.yaml").write_text(one_site_estate("devtest", credentials, *devices), encoding="utf-8")
    (tmp_path / "candidates").mkdir()
    for name in ("C1", "C2"):
        (tmp_path / "candidates" / f"{name}.cfg").write_text(CANDIDATES["h3c_comware"])
    app, net = typer.Typer(), typer.Typer()
    app.callback()(root_callback)
    register(net)
    app.add_typer(net, name="net")
    base = ["-e", str(tmp_path / "estate.yaml"), "--state", str(tmp_path / "state.db"), "--audit-log",
            str(tmp_path / "audit.jsonl"), "-o", "json", "net"]
    runner = CliRunner()
    pushed = runner.invoke(app, [*base, "push", "--plane", "A", "--candidates", str(tmp_path / "candidates"), "--yes"])
    assert pushed.exit_code == 0, pushed.output
    document = json.loads(pushed.stdout)
    assert document["schema"] == "nxgov.net.push/1" and document["counts"]["changed"] == 1
    assert [d["device"] for d in document["devices"]] == ["C1"]
    refused = runner.invoke(app, [*base, "push", "--candidates", str(tmp_path / "candidates")])
    assert "needs confirmation" in str(refused.exception)
    for _ in range(2):
        backed = runner.invoke(app, [*base, "backup"])
        assert backed.exit_code == 0, backed.output
    shown = json.loads(runner.invoke(app, [*base, "history", "C1"]).stdout)
    assert [v["version"] for v in shown["versions"]] == [1]
    assert (tmp_path / "configs" / "C1").is_dir() and (tmp_path / "known_hosts").exists()


@pytest.mark.parametrize("name", ["V13", "C4"], ids=["vrp", "comware"])
def test_an_unconfirmed_change_is_reverted_in_a_later_session(lab: Lab, name: str, tmp_path: Path) -> None:
    """``net push --confirm-within``'s path without verify: the change is recorded pending before its commit, and
    the revert (another session, as ``net revert-due`` would) brings back the configuration before it, saved."""
    target, audit = lab.target(name), AuditLog(tmp_path / "audit.jsonl")
    state, archive = tmp_path / "state.db", Archive(tmp_path / "configs", tmp_path / "state.db")
    before = lab.running(name)
    plan = push.ConfirmWithin("p1", "lab", 60, {name: ("640104",)}, {"640104": ["A", "B"]})
    pushed = push.push([target], {name: CANDIDATES[target.platform]}, lab.options(), archive=archive, state=state,
                       confirm=plan, audit=audit)
    assert pushed.results[0].status is Status.changed, pushed.results[0].error
    [change] = confirm.open_changes(state)
    assert (change.device, change.state, change.push, change.made_before) == (name, "pending", "p1", None)
    [record] = list(audit.records())
    assert record.command == "net push" and record.details["confirm_within"] == {"push": "p1", "within_s": 60}
    assert change.before_config.strip() == before.strip()  # as the device printed it
    assert archive.read(name, change.before_version or 0) == change.before_config
    assert archive.made(name) is not None and lab.running(name) != before
    result = confirm.revert([(change, "not confirmed in time")], {name: target}, lab.options(), state, audit=audit)
    assert result.ok, result.results[0].error
    assert lab.running(name) == before and (read_config(lab.state, name, "saved") or "").strip() == before.strip()
    assert confirm.open_changes(state) == [] and archive.made(name) is None
    assert [(r.command, r.target, r.result, r.details["reason"]) for r in list(audit.records())[1:]] == [
        ("net revert", name, "changed", "not confirmed in time")]
