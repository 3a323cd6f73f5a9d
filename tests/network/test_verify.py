"""``nxgov.network.verify`` without devices: judging sites from readings, and keeping the results."""

from __future__ import annotations

from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.network.drivers import SessionOptions
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.network.intent import DeviceIntent, build_intents
from nxgov.network.ipv6plan import PlanOutcome, compute_plan
from nxgov.network.verify import ESTABLISHED, Reading, Report, judge, latest, save, verify
from nxgov.state import StateStore
from tests.network.estates import sample, with_extranet

FRR = ("frr-640000", "frr-640100", "frr-640104")
REGION, CITY, COUNTY = "640000", "640100", "640104"
SITES = (REGION, CITY, COUNTY)  # the FRR routers' sites (640200 and 640202 hang under simulated devices)
Lab = tuple[PlanOutcome, dict[str, DeviceIntent]]


@pytest.fixture(scope="module")
def lab() -> Lab:
    outcome = compute_plan(sample("lab"))
    return outcome, {i.name: i for i in build_intents(outcome)}


def healthy(intents: dict[str, DeviceIntent], down: frozenset[tuple[str, str]] = frozenset(),
            routed: tuple[str, ...] = ("A", "B")) -> dict[str, Reading]:
    """Readings of the FRR routers with every session between them Established except ``down`` (device, plane),
    and the region routing the city's and county's blocks over the planes ``routed``."""
    out = {}
    for name in FRR:
        intent = intents[name]
        sessions = {n.address: "Active" if n.peer not in FRR or (name, n.plane) in down or (n.peer, n.plane) in down
                    else ESTABLISHED for n in intent.neighbors}
        ports = {i.port: f"eth{i.port}" for i in intent.interfaces}
        routes = None
        if name == "frr-640000":
            towards = tuple(f"eth{i.port}" for i in intent.interfaces if i.peer == "frr-640100" and i.plane in routed)
            routes = {intents[d].site_prefix: towards for d in ("frr-640100", "frr-640104")}
        out[name] = Reading(name, "frr", "read", "", sessions, {p: True for p in ports.values()}, routes, ports)
    for name in ("vrp-640100-a", "cmw-640100-b"):
        out[name] = Reading(name, "huawei_vrp", "not-verifiable", "not verifiable on this platform")
    return out


def test_all_sessions_up_and_routed_over_both_planes_is_both_up(lab: Lab) -> None:
    outcome, intents = lab
    sites = judge(outcome, intents, healthy(intents), SITES)
    assert [(s.code, s.state, s.routed) for s in sites] == [
        (REGION, "both-up", None), (CITY, "both-up", ("A", "B")), (COUNTY, "both-up", ("A", "B"))]
    city = sites[1]
    # the simulated devices' links are down from the region's end, but frr-640100 carries both planes
    assert [p.impaired for p in city.planes] == [
        ("vrp-640100-a - frr-640000: vrp-640100-a not read; frr-640000 Active",),
        ("cmw-640100-b - frr-640000: cmw-640100-b not read; frr-640000 Active",)]


def test_plane_a_lost_between_city_and_region_degrades_the_county_through_routing(lab: Lab) -> None:
    outcome, intents = lab
    readings = healthy(intents, down=frozenset({("frr-640100", "A")}), routed=("B",))
    # the county's own plane-A session (to the city) stays up: only the region's routes show the loss
    readings["frr-640104"] = healthy(intents)["frr-640104"]
    readings["frr-640100"] = Reading(**{**readings["frr-640100"].__dict__, "sessions": {
        n.address: ESTABLISHED if n.peer == "frr-640104" or n.plane == "B" else "Active"
        for n in intents["frr-640100"].neighbors}})
    sites = {s.code: s for s in judge(outcome, intents, readings, SITES)}
    assert sites[CITY].state == "degraded" and sites[CITY].down_planes == ("A",)
    county = sites[COUNTY]
    assert county.state == "degraded" and county.down_planes == ("A",) and county.routed == ("B",)
    assert county.planes[0].reason == f"sessions up, but the region routes {county.prefix} over B only"
    assert sites[REGION].state == "degraded"


def test_both_planes_down_is_down_and_fails_the_report(lab: Lab) -> None:
    outcome, intents = lab
    readings = healthy(intents, down=frozenset({("frr-640104", "A"), ("frr-640104", "B")}), routed=())
    readings["frr-640000"] = Reading(**{**readings["frr-640000"].__dict__, "routes": {
        intents["frr-640100"].site_prefix: tuple(f"eth{i.port}" for i in intents["frr-640000"].interfaces)}})
    sites = judge(outcome, intents, readings, [COUNTY])
    assert [(s.code, s.state, s.down_planes, s.routed) for s in sites] == [(COUNTY, "down", ("A", "B"), ())]
    assert "frr-640104 Active" in sites[0].planes[0].reason
    report = Report("lab", "2026-01-01T00:00:00+00:00", tuple(sites), tuple(readings.values()))
    assert not report.ok and report.counts() == {"both-up": 0, "degraded": 0, "down": 1, "unknown": 0}


def test_nothing_read_is_unknown_not_down(lab: Lab) -> None:
    outcome, intents = lab
    failed = {name: Reading(name, "frr", "failed", "frr-640104: cannot reach ...") for name in FRR}
    sites = judge(outcome, intents, failed, SITES)
    assert {s.state for s in sites} == {"unknown"} and {s.routed for s in sites} == {None}
    report = Report("lab", "t", tuple(sites), tuple(failed.values()))
    assert not report.ok  # a device that can report its state and could not be read fails the run
    assert report.as_dict()["devices"][0] == {"device": "frr-640000", "platform": "frr", "read": "failed",
                                              "note": "frr-640104: cannot reach ..."}


def test_platforms_without_a_state_reader_are_neither_contacted_nor_logged_into(tmp_path: Path) -> None:
    ningxia = sample("ningxia")  # its credentials file does not exist here
    assert ningxia.extranet is not None
    estate = with_extranet(ningxia, devices=[{**d.model_dump(), "platform": "cisco_ios"}
                                             for d in ningxia.extranet.devices])
    report = verify(estate, compute_plan(estate), SessionOptions(KnownHosts(tmp_path / "known_hosts")), "640104")
    assert {(r.status, r.note.split(" (")[0]) for r in report.readings} == {
        ("not-verifiable", "not verifiable on this platform")}
    assert [(s.code, s.state) for s in report.sites] == [("640104", "unknown")] and report.ok
    assert not (tmp_path / "known_hosts").exists()


def test_vrp_and_comware_devices_are_read(tmp_path: Path) -> None:
    """Their drivers are state readers: verify logs into them (here it stops at their missing credentials file)."""
    estate = sample("ningxia")
    with pytest.raises(InputError, match=r"cannot read the credentials file /etc/nxgov/extranet\.yaml"):
        verify(estate, compute_plan(estate), SessionOptions(KnownHosts(tmp_path / "known_hosts")), "640104")


def test_an_unknown_site_is_refused(tmp_path: Path) -> None:
    estate = sample("lab")
    with pytest.raises(InputError, match="no site 649999"):
        verify(estate, compute_plan(estate), SessionOptions(KnownHosts(tmp_path / "kh")), "649999")


def test_results_are_kept_as_the_latest_per_site(tmp_path: Path, lab: Lab) -> None:
    outcome, intents = lab
    first = Report("lab", "2026-01-01T00:00:00+00:00", tuple(judge(outcome, intents, healthy(intents),
                                                                   SITES)), ())
    degraded = healthy(intents, down=frozenset({("frr-640104", "A")}), routed=("B",))
    second = Report("lab", "2026-01-01T00:01:00+00:00", tuple(judge(outcome, intents, degraded, [COUNTY])), ())
    with StateStore.open(tmp_path / "state.db") as store:
        save(store, first)
        save(store, second)
        rows = latest(store, "lab")
    assert rows == [
        {"site": REGION, "checked": "2026-01-01T00:00:00+00:00", "state": "both-up", "down_planes": [],
         "routed_at_region": None, "planes": {"A": "up", "B": "up"}},
        {"site": CITY, "checked": "2026-01-01T00:00:00+00:00", "state": "both-up", "down_planes": [],
         "routed_at_region": ["A", "B"], "planes": {"A": "up", "B": "up"}},
        {"site": COUNTY, "checked": "2026-01-01T00:01:00+00:00", "state": "degraded", "down_planes": ["A"],
         "routed_at_region": ["B"], "planes": {"A": "down", "B": "up"}}]
