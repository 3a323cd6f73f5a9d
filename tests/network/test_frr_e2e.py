"""The issue's flow on the session lab's real routers, through the real CLI: IPv6 plan, render, push to bare
FRR routers and factory-fresh simulated VRP/Comware devices (each routing with FRR underneath), verify both
planes, lose plane A (degraded, routes stay on B), get it back, cut the vendor city's plane-A link (the city and
the county below it degraded, the county routed over B), lose both planes (down, exit 1), push again (no
change), and a rejected line rolled back.

The module starts from bare routers cabled by its own state store's plan (the extranet is rebuilt: a few
seconds) and simulated devices restarted with factory configurations, and leaves both so again. Timings are
printed (pytest -s) and never asserted tightly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nxgov.lab.frr import Extranet
from nxgov.lab.ledger import Ledger
from nxgov.network.verify import latest
from nxgov.state import StateStore
from tests.conftest import ROOT, Run
from tests.lab.conftest_netns import wait_until

pytestmark = pytest.mark.lab
LAB_ESTATE = ROOT / "inventories" / "lab"
FRR = ("frr-640000", "frr-640100", "frr-640104", "frr-640202")
REGION, CITY, COUNTY, VENDOR_COUNTY = FRR
VRP_CE, CMW_CE = "vrp-640200-a", "cmw-640200-b"  # the vendor city's plane-A and plane-B CEs
SIMULATED = ("vrp-640100-a", "cmw-640100-b", VRP_CE, CMW_CE)
DEVICES = (*FRR, *SIMULATED)
SITES = ("640000", "640100", "640104", "640200", "640202")
CONVERGE_S = 30.0


@dataclass(frozen=True)
class Flow:
    extranet: Extranet
    lab_dir: Path
    state: Path
    nx: Callable[..., Run]

    def verify(self, *args: str) -> tuple[Run, dict[str, Any]]:
        result = self.nx("-o", "json", "net", "verify", *args)
        assert result.code in (0, 1), result.err
        return result, result.json()

    def verify_until(self, check: Callable[[dict[str, Any]], bool], what: str,
                     *args: str) -> tuple[Run, dict[str, Any], float]:
        """Run ``nxgov net verify`` until ``check(document)``; the last run, its document and the seconds taken."""
        started = time.monotonic()
        while True:
            result, document = self.verify(*args)
            if check(document):
                return result, document, time.monotonic() - started
            if time.monotonic() - started > CONVERGE_S:
                pytest.fail(f"not within {CONVERGE_S:.0f} s: {what}; last verify: {json.dumps(document, indent=1)}")
            time.sleep(0.2)

    def push(self, *args: str) -> tuple[Run, dict[str, Any]]:
        devices = [arg for name in DEVICES for arg in ("-d", name)]
        result = self.nx("-o", "json", "net", "push", *devices, "--yes", *args)
        return result, result.json()


def states(document: dict[str, Any]) -> dict[str, str]:
    return {site["site"]: site["state"] for site in document["sites"]}


def site(document: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in document["sites"] if s["site"] == code)


def all_both_up(document: dict[str, Any]) -> bool:
    return states(document) == dict.fromkeys(SITES, "both-up")


@pytest.fixture(scope="module")
def flow(lab_session: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    tmp = tmp_path_factory.mktemp("frr-e2e")
    lab_dir = Path(str(lab_session["lab_dir"]))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NXGOV_STATE": str(tmp / "state.db"),
           "NXGOV_AUDIT_LOG": str(tmp / "audit.jsonl"), "NXGOV_KNOWN_HOSTS": str(tmp / "known_hosts"),
           "NXGOV_ESTATE": str(LAB_ESTATE), "COLUMNS": "200"}

    def nx(*args: str) -> Run:
        proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
                              capture_output=True, text=True, cwd=tmp, env=env, timeout=300)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def bare() -> None:
        """Bare routers, and simulated devices as from the factory (restarted without their configurations)."""
        extranet.down()
        Ledger(lab_dir).release("netsim")
        shutil.rmtree(lab_dir / "netsim" / "state" / "devices", ignore_errors=True)
        up = nx("lab", "up", "--only", "netsim,extranet", "--lab-dir", str(lab_dir))
        assert up.code == 0, up.err

    extranet = Extranet(lab_dir)
    started = time.monotonic()
    bare()
    print(f"\nbare routers and factory-fresh simulated devices up, cabled from the test's IPv6 plan, in "
          f"{time.monotonic() - started:.1f} s")
    try:
        yield Flow(extranet, lab_dir, tmp / "state.db", nx)
    finally:
        bare()


def test_plan_render_and_push_configure_the_bare_routers(flow: Flow, tmp_path: Path) -> None:
    for name in FRR:
        running = flow.extranet.vtysh(name, "show running-config")
        assert f"hostname {name}" in running and "router bgp" not in running and "ipv6 address" not in running
    planned = flow.nx("-o", "json", "net", "ipv6", "plan")
    assert planned.code == 0 and not planned.json()["changed"], planned.err  # `lab up` stored the plan it cabled
    rendered = flow.nx("net", "render", "--out", str(tmp_path))
    assert rendered.code == 0, rendered.err
    county = (tmp_path / f"{COUNTY}.cfg").read_text()
    assert "router bgp" in county and "interface eth0" in county

    dry, document = flow.push("--dry-run")
    assert dry.code == 0, dry.err
    assert document["counts"] == {"changed": 8, "ok": 0, "failed": 0, "skipped": 0}
    assert "+router bgp" in next(d for d in document["devices"] if d["device"] == COUNTY)["diff"]
    assert "+bgp 4200000" in next(d for d in document["devices"] if d["device"] == VRP_CE)["diff"]

    started = time.monotonic()
    pushed, document = flow.push()
    pushed_in = time.monotonic() - started
    converged = wait_until(flow.extranet.established, CONVERGE_S, "a BGP session Established per lab link")
    print(f"pushed to the 8 devices in {pushed_in:.1f} s (CLI process included); every session between them "
          f"Established {converged:.1f} s later")
    assert pushed.code == 0, pushed.out + pushed.err
    assert document["counts"] == {"changed": 8, "ok": 0, "failed": 0, "skipped": 0}
    assert all(d["unconfirmed"] == [] and d["lines"] > 20 for d in document["devices"]), document
    running = flow.extranet.vtysh(COUNTY, "show running-config")
    for line in county.splitlines():
        if line.startswith((" ipv6 address", " neighbor", "router bgp", "interface eth")):
            assert line in running.splitlines(), line
    saved = (flow.lab_dir / "extranet" / COUNTY / "frr.conf").read_text()
    assert "router bgp" in saved  # write memory saved it
    frr_under_vrp = flow.extranet.vtysh(VRP_CE, "show running-config")  # the simulated CE's data plane
    assert " passive" in frr_under_vrp and "bfd profile nxsim-3x300x300" in frr_under_vrp


def test_verify_sees_both_planes_up_and_the_county_routed_over_both(flow: Flow) -> None:
    result, document, took = flow.verify_until(all_both_up, "every site both-up")
    print(f"verify: every site both-up {took:.1f} s after the push")
    assert result.code == 0 and document["schema"] == "nxgov.net.verify/1" and document["ok"]
    county = site(document, "640104")
    assert county["routed_at_region"] == ["A", "B"] and county["down_planes"] == []
    assert {d["device"]: d["read"] for d in document["devices"]} == dict.fromkeys(DEVICES, "read")
    # the same seen directly at the region: the county's block via the ports to the city on A and on B
    assert _next_hops(flow, county["prefix"]) == _ports_towards(flow, REGION, CITY, "A", "B")
    below = site(document, "640202")  # the vendor city's county: over the VRP CE on A and the Comware CE on B
    assert below["routed_at_region"] == ["A", "B"]
    assert _next_hops(flow, below["prefix"]) == _ports_towards(flow, REGION, VRP_CE, "A") | _ports_towards(
        flow, REGION, CMW_CE, "B")
    vendor_ends = {e["device"]: e for link in site(document, "640200")["links"] for e in link["ends"]}
    assert vendor_ends[VRP_CE]["session"] == "Established" and vendor_ends[VRP_CE]["interface_up"] is True
    table = flow.nx("net", "verify", "--site", "640104")
    assert table.code == 0 and "both-up" in table.out and "640104" in table.out


def test_plane_a_down_is_degraded_while_the_county_stays_routed_over_b(flow: Flow) -> None:
    county_prefix = site(flow.verify()[1], "640104")["prefix"]
    plane_b = _ports_towards(flow, REGION, CITY, "B")
    try:
        flow.extranet.set_plane("A", up=False)
        started = time.monotonic()
        result, document, took = flow.verify_until(
            lambda d: site(d, "640104")["state"] == "degraded" and site(d, "640104")["routed_at_region"] == ["B"],
            "the county degraded, routed over B only")
        print(f"plane A down -> verify reports degraded (A) within {took:.1f} s; "
              f"region routes the county via B {time.monotonic() - started:.1f} s after")
        assert result.code == 0  # degraded is reported, not a failure
        assert {s["site"]: (s["state"], s["down_planes"]) for s in document["sites"]} == dict.fromkeys(
            SITES, ("degraded", ["A"]))
        for _ in range(5):  # and the county stays reachable over plane B
            assert _next_hops(flow, county_prefix) == plane_b
            time.sleep(0.2)
        check = flow.nx("-o", "json", "monitor", "check", "--only", "extranet")   # what the exporter publishes
        assert check.code == 0, check.err
        planes = {(s["labels"]["site"], s["labels"]["plane"]): s["value"] for m in check.json()["metrics"]
                  if m["name"] == "nxgov_extranet_plane_up" for s in m["samples"]}
        assert planes == {(code, plane): float(plane == "B") for code in SITES for plane in ("A", "B")}
    finally:
        flow.extranet.set_plane("A", up=True)
    result, document, took = flow.verify_until(all_both_up, "every site both-up again")
    print(f"plane A up -> verify reports both-up within {took:.1f} s")
    assert result.code == 0 and site(document, "640104")["routed_at_region"] == ["A", "B"]


def test_the_vendor_citys_plane_a_link_cut_degrades_it_and_the_county_below(flow: Flow) -> None:
    """frr-640000's plane-A port to the simulated VRP CE goes down: the CE's session and port show it (read from
    its data plane through its own CLI), 640200 and 640202 are degraded with plane A named, the region routes the
    county over plane B only (through the Comware CE), every other site stays both-up; back up, both-up again."""
    below = site(flow.verify()[1], "640202")["prefix"]
    try:
        cut = flow.extranet.set_link(REGION, VRP_CE, "A", up=False)
        result, document, took = flow.verify_until(
            lambda d: site(d, "640202")["routed_at_region"] == ["B"] and site(d, "640200")["state"] == "degraded",
            f"640200 and 640202 degraded once {cut} is down")
        print(f"{cut} down -> the vendor city and its county degraded (A) within {took:.1f} s")
        assert result.code == 0
        assert {s["site"]: (s["state"], s["down_planes"]) for s in document["sites"]} == {
            "640000": ("both-up", []), "640100": ("both-up", []), "640104": ("both-up", []),
            "640200": ("degraded", ["A"]), "640202": ("degraded", ["A"])}
        county = site(document, "640202")
        assert county["planes"]["A"]["reason"] == f"sessions up, but the region routes {below} over B only"
        ends = {e["device"]: e for link in site(document, "640200")["links"] if link["plane"] == "A"
                for e in link["ends"]}
        assert ends[VRP_CE]["session"] != "Established" and ends[VRP_CE]["interface_up"] is False
        assert _next_hops(flow, below) == _ports_towards(flow, REGION, CMW_CE, "B")
    finally:
        flow.extranet.set_link(REGION, VRP_CE, "A", up=True)
    result, document, took = flow.verify_until(all_both_up, "every site both-up again")
    print(f"{cut} up -> verify reports both-up within {took:.1f} s")
    assert result.code == 0 and site(document, "640202")["routed_at_region"] == ["A", "B"]


def test_both_planes_down_is_down_and_exits_1(flow: Flow) -> None:
    try:
        for plane in ("A", "B"):
            flow.extranet.set_plane(plane, up=False)
        result, document, _ = flow.verify_until(lambda d: states(d) == {"640104": "down"}, "the county down",
                                                "--site", "640104")
        assert result.code == 1 and not document["ok"]
        assert site(document, "640104")["down_planes"] == ["A", "B"]
    finally:
        for plane in ("A", "B"):
            flow.extranet.set_plane(plane, up=True)
    flow.verify_until(all_both_up, "every site both-up again")


def test_second_push_changes_nothing_and_results_are_kept(flow: Flow) -> None:
    pushed, document = flow.push()
    assert pushed.code == 0, pushed.err
    assert document["counts"] == {"changed": 0, "ok": 8, "failed": 0, "skipped": 0}
    with StateStore.open(flow.state) as store:
        kept = latest(store, "lab")
    assert [(row["site"], row["state"]) for row in kept] == [(code, "both-up") for code in SITES]


def test_a_rejected_line_is_rolled_back_on_frr(flow: Flow, tmp_path: Path) -> None:
    flow.nx("net", "render", "--out", str(tmp_path))
    candidate = tmp_path / f"{COUNTY}.cfg"
    candidate.write_text(candidate.read_text().replace(
        "ipv6 route ", "ipv6 route 2001:db8:6420:7::/64 blackhole\nipv6 route ", 1).replace(
        "  maximum-paths 2\n", "  maximum-paths 2\n  maximum-paths frobnicate\n"))
    before = flow.extranet.vtysh(COUNTY, "show running-config")
    result = flow.nx("-o", "json", "net", "push", "-d", COUNTY, "--candidates", str(tmp_path), "--yes")
    assert result.code == 1
    error = result.json()["devices"][0]["error"]
    assert "rejected 'maximum-paths frobnicate'" in error and "% Unknown command" in error and "rolled back" in error
    assert flow.extranet.vtysh(COUNTY, "show running-config") == before


def _next_hops(flow: Flow, prefix: str) -> set[str]:
    routes = flow.extranet.routes(REGION).get(prefix, [])
    return {hop["interfaceName"] for r in routes if r.get("selected") for hop in r["nexthops"] if hop.get("active")}


def _ports_towards(flow: Flow, router: str, peer: str, *planes: str) -> set[str]:
    return {p.name for p in flow.extranet.topology().router(router).ports if p.peer == peer and p.plane in planes}


def test_prune_removes_a_removed_county_from_its_parent_and_nothing_else(flow: Flow, tmp_path: Path) -> None:
    """The county 640104 and its router leave the estate: a push with --prune takes its peers and ports off the
    city's router, leaves a line made by hand alone, changes nothing the second time; its numbers stay reserved."""
    estate = tmp_path / "estate"
    shutil.copytree(LAB_ESTATE, estate)
    text = (estate / "estate.yaml").read_text()
    kept = [line for line in text.splitlines() if "640104" not in line]
    assert len(kept) == len(text.splitlines()) - 2  # the site and its router
    (estate / "estate.yaml").write_text("\n".join(kept) + "\n")
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / f"{CITY}.cfg").write_text("ipv6 prefix-list by-hand seq 5 permit 2001:db8:7000::/48\n!\n")
    made_by_hand = flow.nx("net", "push", "-d", CITY, "--candidates", str(hand), "--archive", str(tmp_path / "other"),
                           "--yes")
    assert made_by_hand.code == 0, made_by_hand.err
    assert flow.push()[0].code == 0  # what nxgov made is on record (pushed.cfg in the archive)
    county_ports = _ports_towards(flow, CITY, COUNTY, "A", "B")
    before = flow.extranet.vtysh(CITY, "show running-config")
    assert "640104" in before and all(f"interface {port}" in before for port in county_ports)

    planned = flow.nx("-o", "json", "--estate", str(estate), "net", "ipv6", "plan")
    assert planned.code == 0, planned.err
    removed = [(c["change"], c["kind"], c["key"]) for c in planned.json()["changes"] if "640104" in c["key"]]
    assert ("reserved", "site", "640104") in removed
    others = ("-d", REGION, "-d", CITY)
    merged = flow.nx("-o", "json", "--estate", str(estate), "net", "push", *others, "--yes")
    assert merged.code == 0 and merged.json()["stale"] > 0 and "--prune removes them" in merged.err, merged.err
    dry = flow.nx("-o", "json", "--estate", str(estate), "net", "push", *others, "--prune", "--dry-run")
    city = next(d for d in dry.json()["devices"] if d["device"] == CITY)
    assert city["removed"] > 0 and any(line.startswith("-") and "640104" in line for line in city["diff"].splitlines())
    assert flow.extranet.vtysh(CITY, "show running-config") == before

    pruned = flow.nx("-o", "json", "--estate", str(estate), "net", "push", *others, "--prune", "--yes")
    assert pruned.code == 0, pruned.out + pruned.err
    document = pruned.json()
    city = next(d for d in document["devices"] if d["device"] == CITY)
    assert document["prune"] and city["status"] == "changed" and city["unconfirmed"] == [] and city["removed"] > 0
    after = flow.extranet.vtysh(CITY, "show running-config")
    print(f"pruned the county from {CITY}: {city['removed']} lines removed")
    assert "640104" not in after
    county_addresses = {line.split()[1] for line in before.splitlines() if line.startswith(" neighbor ")
                        and "640104" in line}
    assert county_addresses and not any(address in after for address in county_addresses)
    for port in county_ports:  # the ports lose their address and description (FRR then hides them)
        block = after.split(f"interface {port}\n", 1)[1].split("exit", 1)[0] if f"interface {port}\n" in after else ""
        assert "ipv6 address" not in block and "description" not in block
    assert "ipv6 prefix-list by-hand seq 5 permit 2001:db8:7000::/48" in after  # never made by nxgov: untouched
    untouched = [line for line in before.splitlines() if "640104" not in line and line.strip()
                 and not any(address in line for address in county_addresses)
                 and not line.startswith((" description", " ipv6 address", *(f"interface {p}" for p in county_ports)))]
    assert [line for line in untouched if line not in after.splitlines()] == []
    again = flow.nx("-o", "json", "--estate", str(estate), "net", "push", *others, "--prune", "--yes")
    assert again.code == 0 and again.json()["counts"]["changed"] == 0 and again.json()["removed"] == 0
    shown = flow.nx("-o", "json", "--estate", str(estate), "net", "ipv6", "show", "--kind", "site")
    assert {a["key"]: a["state"] for a in shown.json()["allocations"]}["640104"] == "reserved"
    audit = [json.loads(line) for line in (flow.state.parent / "audit.jsonl").read_text().splitlines()]
    record = next(r for r in reversed(audit) if r.get("command") == "net push" and r.get("target") == CITY
                  and r.get("details", {}).get("removed"))
    assert record["details"]["removed"] == city["removed"]
