"""Confirm or revert without devices: durations, the pending records, judging a change against its baseline, the
waiting loop (a fake clock) and the overdue sweep."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.network import confirm
from nxgov.network.confirm import Pending, baseline, judge, parse_duration, settle_s, sweep, touched_sites
from nxgov.network.verify import Report
from nxgov.network.verify import judge as judge_sites
from nxgov.state import StateStore
from tests.conftest import Run
from tests.network import test_verify
from tests.network.test_verify import CITY, COUNTY, REGION, Lab, healthy

lab = test_verify.lab  # the verify tests' fixture: the lab estate's IPv6 plan and device intents


def report(lab: Lab, down: frozenset[tuple[str, str]] = frozenset()) -> Report:
    outcome, intents = lab
    readings = healthy(intents, down)
    sites = judge_sites(outcome, intents, readings, outcome.topology.sites)
    return Report("lab", "now", tuple(sites), tuple(readings.values()))


@pytest.mark.parametrize(("text", "seconds"), [("20s", 20), ("5m", 300), ("1h30m", 5400), ("1h", 3600),
                                               (" 2M ", 120), ("1m5s", 65), ("24h", 86400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "words"), [("5", "give a unit"), ("", "not a duration"), ("5x", "not a duration"),
                                             ("m", "not a duration"), ("-5m", "not a duration"),
                                             ("5m1h", "not a duration"), ("9s", "outside 10s..24h"),
                                             ("25h", "outside 10s..24h"), ("2d", "not a duration")])
def test_bad_durations_name_the_option(text: str, words: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_duration(text)
    assert raised.value.exit_code == 2 and "--confirm-within" in raised.value.message
    assert words in f"{raised.value.message} {raised.value.hint}"


def test_settle_is_ten_seconds_or_a_third_of_a_short_window() -> None:
    assert settle_s(300) == 10.0 and settle_s(15) == 5.0


def test_touched_sites(lab: Lab) -> None:
    topology = lab[0].topology
    assert touched_sites(topology, "frr-640104") == (COUNTY,)
    assert touched_sites(topology, "frr-640100") == (CITY, COUNTY)  # the county's uplinks end on the city's router
    assert touched_sites(topology, "frr-640000") == tuple(topology.sites)  # the region routes every site


def _open(state: Path, device: str = "frr-640104", within: float = 20, sites: tuple[str, ...] = (COUNTY,),
          base: dict[str, list[str]] | None = None, push: str = "p1") -> int:
    return confirm.open_change(state, push=push, estate="lab", device=device, within_s=within,
                               before_config="hostname x\n", before_version=3, made_before=None,
                               archive=state.parent / "configs", sites=sites,
                               baseline=base if base is not None else {COUNTY: ["A", "B"]})


def test_a_change_is_recorded_before_its_commit_and_closed_once(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    row = _open(state)
    [change] = confirm.open_changes(state)
    assert (change.state, change.committed, change.device, change.before_config) == (
        "committing", None, "frr-640104", "hostname x\n")
    assert change.baseline == {COUNTY: ["A", "B"]} and change.sites == (COUNTY,)
    confirm.mark_committed(state, row, 20)
    [change] = confirm.open_changes(state, devices=["frr-640104"])
    assert change.state == "pending" and change.committed is not None
    assert change.within_s == pytest.approx(20) and not change.overdue(change.committed)
    assert change.overdue(change.committed + timedelta(seconds=20))
    assert confirm.open_changes(state, devices=["frr-640100"]) == [] and confirm.open_changes(state, push="other") == []
    assert confirm.close(state, row, "confirmed", "by hand") and not confirm.close(state, row, "reverted", "late")
    assert confirm.open_changes(state) == []
    with StateStore.open(state) as store:
        assert store.connection.execute("SELECT state, detail FROM pending_confirmations").fetchall() == [
            ("confirmed", "by hand")]


def test_judge_keeps_the_planes_that_were_up(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    confirm.mark_committed(state, _open(state), 20)
    [change] = confirm.open_changes(state)
    assert judge(change, report(lab)) == (True, f"verify: {COUNTY} both-up")
    ok, reason = judge(change, report(lab, frozenset({("frr-640104", "A")})))
    assert not ok and reason.startswith(f"site {COUNTY} is degraded: plane A was up before the push and is down")
    # a site degraded before the push (plane A down) only needs plane B to stay up
    _open(state, base={COUNTY: ["B"]}, push="p2")
    degraded_before = confirm.open_changes(state, push="p2")[0]
    assert judge(degraded_before, report(lab, frozenset({("frr-640104", "A")})))[0]
    assert not judge(degraded_before, report(lab, frozenset({("frr-640104", "B")})))[0]
    assert baseline(report(lab, frozenset({("frr-640104", "A")})))[COUNTY] == ["B"]


class Clock:
    def __init__(self) -> None:
        self.moment = confirm.now()

    def __call__(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=max(seconds, 0.5))


def test_wait_confirms_a_good_change_once_it_has_stayed_good(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    confirm.mark_committed(state, _open(state), 20)
    clock, checks, confirmed = Clock(), [], []
    flaps = iter([frozenset({("frr-640104", "A")}), frozenset()])  # a bad look first, then good from then on

    def check(changes: list[Pending]) -> Report:
        checks.append(clock())
        return report(lab, next(flaps, frozenset()))

    waited = confirm.wait(state, "p1", check, on_confirmed=lambda c, r: confirmed.append(c.device), clock=clock,
                          sleep=clock.sleep)
    assert [c.device for c, _ in waited.confirmed] == confirmed == ["frr-640104"] and waited.due == []
    good_from = checks[1]
    assert clock() - good_from >= timedelta(seconds=settle_s(20))
    assert confirm.open_changes(state) == []


def test_wait_gives_up_at_the_deadline_with_the_last_verdict(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    confirm.mark_committed(state, _open(state), 20)
    clock = Clock()
    waited = confirm.wait(state, "p1", lambda changes: report(lab, frozenset({("frr-640104", "A")})), clock=clock,
                          sleep=clock.sleep)
    [(change, reason)] = waited.due
    assert waited.confirmed == [] and change.device == "frr-640104" and "plane A was up before the push" in reason
    assert clock() >= change.deadline
    assert [c.id for c in confirm.open_changes(state)] == [change.id]  # still open: the revert closes it


def test_wait_stops_when_someone_confirms_by_hand(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    row = _open(state)
    confirm.mark_committed(state, row, 20)
    clock = Clock()

    def check(changes: list[Pending]) -> Report:
        confirm.close(state, row, "confirmed", "by hand")
        return report(lab, frozenset({("frr-640104", "A")}))

    waited = confirm.wait(state, "p1", check, clock=clock, sleep=clock.sleep)
    assert waited.confirmed == [] and waited.due == []


def test_sweep_reverts_the_overdue_and_confirms_the_settled(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    confirm.mark_committed(state, _open(state, device="frr-640104", push="old"), 20)
    confirm.mark_committed(state, _open(state, device="frr-640100", sites=(CITY, COUNTY), push="new",
                                        base={CITY: ["A", "B"], COUNTY: ["A", "B"]}), 60)
    _open(state, device="frr-640000", push="killed", sites=(REGION,), base={REGION: ["A", "B"]})  # never committed
    changes = confirm.open_changes(state)
    committed = max(c.committed for c in changes if c.committed is not None)
    later = committed + timedelta(seconds=25)
    looked = sweep(changes, report(lab), later)
    assert [c.device for c, _ in looked.due] == ["frr-640104", "frr-640000"]
    assert [c.device for c, _ in looked.confirmed] == ["frr-640100"]
    too_soon = sweep(changes, report(lab), committed + timedelta(seconds=1))
    assert too_soon.confirmed == [] and too_soon.due == []
    assert [reason for _, reason in too_soon.waiting] == [
        f"verify: {COUNTY} both-up, but less than 7 s after the commit",
        f"verify: {CITY} both-up, {COUNTY} both-up, but less than 10 s after the commit",
        "not committed (interrupted): reverted when overdue"]
    broken = sweep(changes, report(lab, frozenset({("frr-640104", "B")})), later)
    assert broken.confirmed == []  # the city's change is judged on the county's site too


def test_net_confirm_by_hand_is_audited_and_a_pushed_device_with_a_pending_change_is_refused(
        nxgov: Callable[..., Run], tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    confirm.mark_committed(state, _open(state, device="frr-640104"), 300)
    _open(state, device="frr-640100", push="p2", sites=(CITY,))
    estate = str(Path(__file__).resolve().parents[2] / "inventories" / "lab")
    (tmp_path / "candidates").mkdir()
    (tmp_path / "candidates" / "frr-640104.cfg").write_text("hostname frr-640104\n")
    refused = nxgov("--estate", estate, "net", "push", "-d", "frr-640104", "--candidates", str(tmp_path / "candidates"),
                    "--yes")
    assert refused.code == 2 and "frr-640104: a change awaits confirmation" in refused.err, refused.err
    unknown = nxgov("net", "confirm", "-d", "frr-640000")
    assert unknown.code == 2 and "frr-640000: no change awaits confirmation" in unknown.err
    assert "frr-640100, frr-640104" in unknown.err
    dry = nxgov("-o", "json", "net", "confirm", "-d", "frr-640104", "--dry-run")
    assert dry.code == 0 and [c["result"] for c in dry.json()["changes"]] == ["would confirm"]
    assert len(confirm.open_changes(state)) == 2 and not (tmp_path / "audit.jsonl").exists()
    done = nxgov("-o", "json", "net", "confirm", "-d", "frr-640104")
    assert done.code == 0 and [(c["device"], c["result"]) for c in done.json()["changes"]] == [
        ("frr-640104", "confirmed")]
    assert [c.device for c in confirm.open_changes(state)] == ["frr-640100"]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(r["command"], r["target"], r["result"], r["details"]["by"], r["details"]["push"]) for r in records] == [
        ("net confirm", "frr-640104", "changed", "operator", "p1")]
    table = nxgov("net", "confirm")
    assert table.code == 0 and "frr-640100" in table.out and "confirmed" in table.out
    assert confirm.open_changes(state) == []


def test_a_verify_that_cannot_run_confirms_nothing_and_the_deadline_holds(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    confirm.mark_committed(state, _open(state), 20)
    clock = Clock()

    def check(changes: list[Pending]) -> Report:
        raise InputError("no IPv6 plan is stored for estate lab")

    waited = confirm.wait(state, "p1", check, clock=clock, sleep=clock.sleep)
    [(change, reason)] = waited.due
    assert change.device == "frr-640104"
    assert waited.confirmed == [] and reason == "verify failed: no IPv6 plan is stored for estate lab"
