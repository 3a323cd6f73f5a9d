"""The lab's dual-plane FRR extranet: cabled from nxgov's intent, BGP on both planes (routers started with the
rendered configuration), plane failover, vtysh over SSH, teardown. The bare routers that ``nxgov net push``
configures are proved in tests/network/test_frr_e2e.py."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from nxgov.errors import LabError
from nxgov.lab.frr import BEYOND, MGMT_NET, Extranet, PortSpec, RouterSpec, Topology, bare_config, cabled
from nxgov.lab.ledger import Ledger
from nxgov.lab.manager import Credential, Lab, simulated_device
from nxgov.lab.netns import namespaces
from nxgov.lab.netsim.device import Device
from nxgov.lab.netsim.vrp import VRP
from nxgov.network.intent import build_intents
from nxgov.network.ipv6plan import compute_plan
from nxgov.network.render import render
from tests.lab.conftest_netns import leftovers, make_lab_dir, own_extranet, wait_until
from tests.network.estates import sample, with_extranet

REGION, CITY, COUNTY = "frr-640000", "frr-640100", "frr-640104"
VENDOR_COUNTY = "frr-640202"  # below the simulated devices of city 640200


def _lab_estate_topology(configured: bool = False) -> Topology:
    """The lab estate's FRR routers (but the county below the simulated devices) cabled from a fresh plan, bare or
    (``configured``) starting with the configuration nxgov renders for each."""
    estate = sample("lab")
    assert estate.extranet is not None
    devices = [d for d in estate.extranet.devices if d.platform == "frr" and d.name != VENDOR_COUNTY]
    intents = build_intents(compute_plan(estate), [d.name for d in devices])
    topology = cabled(intents, {d.name: d.host for d in devices})
    if not configured:
        return topology
    configs = {i.name: render(i) for i in intents}
    return Topology(tuple(replace(r, config=configs[r.name]) for r in topology.routers))


def test_routers_are_cabled_port_for_port_as_the_intent_says() -> None:
    topology = _lab_estate_topology()
    assert topology.names() == [REGION, CITY, COUNTY]  # parents first
    intents = {i.name: i for i in build_intents(compute_plan(sample("lab")), topology.names())}
    for router in topology.routers:
        assert [(p.name, p.plane, p.peer) for p in router.ports] == [
            (f"eth{i.port}", i.plane, i.peer) for i in intents[router.name].interfaces]
        assert ipaddress.ip_address(router.host) in MGMT_NET and router.config is None
    cables = {(c.plane, c.a[0], c.b[0]) for c in topology.cables()}
    assert cables == {("A", REGION, CITY), ("B", REGION, CITY), ("A", CITY, COUNTY), ("B", CITY, COUNTY)}
    # the devices left out of this topology (the simulated ones): the region's ports to them lead nowhere
    assert {(r.name, p.peer, p.plane) for r, p in topology.stubs()} == {
        (REGION, "vrp-640100-a", "A"), (REGION, "cmw-640100-b", "B"), (REGION, "vrp-640200-a", "A"),
        (REGION, "cmw-640200-b", "B")}
    topology.validate()


def test_simulated_devices_are_routers_cabled_like_the_others() -> None:
    estate = sample("lab")
    assert estate.extranet is not None
    simulated = {d.name for d in estate.extranet.devices if d.platform != "frr"}
    intents = build_intents(compute_plan(estate))
    topology = cabled(intents, {d.name: d.host for d in estate.extranet.devices}, simulated)
    topology.validate()
    assert topology.stubs() == []
    cables = {(c.plane, c.a[0], c.b[0]) for c in topology.cables()}
    assert {("A", REGION, "vrp-640200-a"), ("B", REGION, "cmw-640200-b"), ("A", "vrp-640200-a", VENDOR_COUNTY),
            ("B", "cmw-640200-b", VENDOR_COUNTY)} <= cables
    vrp = topology.router("vrp-640200-a")
    assert vrp.simulated and vrp.daemons == ("zebra", "staticd", "bgpd", "bfdd") and vrp.host == "127.0.0.1"
    assert [p.name for p in vrp.ports] == ["eth0", "eth1"]  # GigabitEthernet0/0/0 and 0/0/1 on the device
    assert [r.name for r in topology.managed()] == [REGION, CITY, COUNTY, VENDOR_COUNTY]


def test_a_simulated_devices_ports_are_the_estates_names_on_its_data_planes_interfaces(tmp_path: Path) -> None:
    lab = sample("lab")
    assert lab.extranet is not None
    estate = with_extranet(lab, devices=[{**d.model_dump(), "ports": {0: "XGigabitEthernet0/0/1"}}
                                         if d.name == "vrp-640200-a" else d.model_dump() for d in lab.extranet.devices])
    assert estate.extranet is not None
    intent = next(i for i in build_intents(compute_plan(estate)) if i.name == "vrp-640200-a")
    device = next(d for d in estate.extranet.devices if d.name == "vrp-640200-a")
    spec = simulated_device(device, intent, Credential(tmp_path / "c.yaml", {"username": "u", "password": "p"}),
                            tmp_path / "run")
    assert spec.dataplane is not None and spec.dataplane.netns == "nxl-vrp-640200-a"
    assert spec.dataplane.links == (("XGigabitEthernet0/0/1", "eth0"), ("GigabitEthernet0/0/1", "eth1"))
    simulated = Device(spec, VRP.profile, tmp_path)  # the CLI takes the estate's name as one of its ports
    assert simulated.interfaces.parse(["XGigabitEthernet0/0/1"]) == (1, "XGigabitEthernet0/0/1")
    assert simulated.interfaces.is_physical("GigabitEthernet0/0/7")


def test_the_dry_run_lists_the_simulated_devices_and_their_data_planes() -> None:
    lines = Lab(Path("/var/lib/nxgov/lab"), sample("lab")).plan(["netsim", "extranet"])
    assert "netsim: huawei_vrp vrp-640200-a on 127.0.0.1:20024" in lines
    assert "extranet: FRR data plane of simulated vrp-640200-a (site 640200)" in lines
    assert f"extranet: FRR router for {VENDOR_COUNTY} (site 640202) at 2001:db8:ffff:1::13" in lines


def test_bare_config_names_the_router_and_routes_nothing() -> None:
    router = _lab_estate_topology().router(COUNTY)
    assert bare_config(router) == f"hostname {COUNTY}\nservice integrated-vtysh-config\n!\n"


def test_topology_round_trips_through_json() -> None:
    topology = _lab_estate_topology(configured=True)
    assert Topology.from_json(topology.to_json()) == topology


@pytest.mark.parametrize(("routers", "message"), [
    ((RouterSpec("r1", "640000", "2001:db8:6400::1", ()),), "outside the lab's management network"),
    ((RouterSpec("r1", "640000", str(MGMT_NET[1]), ()),), "outside the lab's management network"),
    ((RouterSpec("r1", "640000", "2001:db8:ffff:1::20", ()), RouterSpec("r2", "640100", "2001:db8:ffff:1::20", ())),
     "share a management address"),
    ((RouterSpec("r1", "640000", "2001:db8:ffff:1::20", (PortSpec("a-very-long-port0", "A", "x"),)),),
     "unusable or repeated interface names"),
    ((RouterSpec("r1", "640000", "2001:db8:ffff:1::20", (PortSpec("eth0", "A", "r2"),)),
      RouterSpec("r2", "640100", "2001:db8:ffff:1::21", ())), "has 0 ports back to it"),
])
def test_topologies_the_lab_cannot_build_are_refused(routers: tuple[RouterSpec, ...], message: str) -> None:
    with pytest.raises(LabError, match=message):
        Topology(routers).validate()


def test_a_topology_file_from_an_older_lab_is_named(tmp_path: Path) -> None:
    net = Extranet(tmp_path)
    net.dir.mkdir()
    (net.dir / "topology.json").write_text('{"routers": [{"name": "r640000", "asn": 1}], "links": []}')
    with pytest.raises(LabError, match="not a topology this nxgov reads"):
        net.topology()


# -- the running lab -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extranet() -> Iterator[Extranet]:
    lab = make_lab_dir()
    net = Extranet(lab)
    try:
        started = time.monotonic()
        net.up(_lab_estate_topology(configured=True), print)
        took = net.wait_converged()
        print(f"extranet up in {time.monotonic() - started:.1f} s, BGP converged {took:.1f} s after")
        yield net
    finally:
        net.down()
        shutil.rmtree(lab, ignore_errors=True)


def _prefix_ifaces(net: Extranet, router: str, prefix: str) -> set[str]:
    routes = net.routes(router).get(prefix, [])
    return {h["interfaceName"] for r in routes if r.get("selected") for h in r["nexthops"] if h.get("active")}


def _ports_towards(net: Extranet, router: str, peer: str, *planes: str) -> set[str]:
    return {p.name for p in net.topology().router(router).ports if p.peer == peer and p.plane in planes}


@pytest.mark.lab
@own_extranet
def test_failed_up_is_reported_and_down_removes_only_the_partial_lab() -> None:
    lab = make_lab_dir()
    net = Extranet(lab)
    topo = Topology((RouterSpec("rx1", "640000", "2001:db8:ffff:1::20", (PortSpec("eth0", "A", "rx2"),)),
                     RouterSpec("rx2", "640100", "2001:db8:ffff:1::21", (PortSpec("eth0", "A", "rx1"),))))
    subprocess.run(["ip", "netns", "add", "nxl-rx2"], check=True)  # someone else's namespace is in the way
    try:
        with pytest.raises(LabError, match="nxl-rx2 already exists"):
            net.up(topo)
        entries = net.ledger.entries("extranet")
        assert "nxl-rx1" in {e.name for e in entries}
        net.down()
        assert leftovers(entries) == []
        assert "nxl-rx2" in namespaces()  # not the lab's: left alone
    finally:
        subprocess.run(["ip", "netns", "delete", "nxl-rx2"], check=False)
        net.down()
        shutil.rmtree(lab, ignore_errors=True)


@pytest.mark.lab
@own_extranet
def test_bgp_established_on_both_planes(extranet: Extranet) -> None:
    took = wait_until(extranet.established, 10, "every BGP session Established")
    peers = extranet.bgp_summary(CITY)["peers"]
    assert len(peers) == 4 and {p["state"] for p in peers.values()} == {"Established"}
    assert {s.state for s in extranet.status()} == {"running"}
    print(f"established after {took:.2f} s more")


@pytest.mark.lab
@own_extranet
def test_up_again_reports_and_duplicates_nothing(extranet: Extranet) -> None:
    before = extranet.ledger.entries("extranet")
    again = extranet.up(extranet.topology())
    assert all("already running" in s.detail for s in again)
    assert extranet.ledger.entries("extranet") == before


@pytest.mark.lab
@own_extranet
def test_county_prefix_reaches_region_over_both_planes_and_survives_plane_a_failure(extranet: Extranet) -> None:
    county = compute_plan(sample("lab")).plan().site_prefix("640104")
    both, plane_b = _ports_towards(extranet, REGION, CITY, "A", "B"), _ports_towards(extranet, REGION, CITY, "B")
    wait_until(lambda: _prefix_ifaces(extranet, REGION, county) == both, 10, "county prefix via both planes")
    try:
        started = time.monotonic()
        extranet.set_plane("A", up=False)
        switched = time.monotonic() - started
        failover = wait_until(lambda: _prefix_ifaces(extranet, REGION, county) == plane_b, 5,
                              "county prefix via plane B only")
        for _ in range(10):  # and it stays there
            assert _prefix_ifaces(extranet, REGION, county) == plane_b
            time.sleep(0.1)
        print(f"plane A down (set_plane {switched:.2f} s) -> county prefix via B only {failover:.2f} s later")
    finally:
        extranet.set_plane("A", up=True)
    recovered = wait_until(lambda: _prefix_ifaces(extranet, REGION, county) == both, 15, "both planes again")
    print(f"plane A up -> both planes after {recovered:.2f} s")
    wait_until(extranet.established, 10, "every BGP session Established again")


@pytest.mark.lab
@own_extranet
def test_netmiko_cisco_ios_drives_vtysh_and_write_memory_saves(extranet: Extranet) -> None:
    from netmiko import ConnectHandler

    access = extranet.access(COUNTY)
    conn = ConnectHandler(device_type="cisco_ios", host=access.host, port=access.port, username=access.username,
                          key_file=str(access.key_file), use_keys=True, allow_agent=False, ssh_strict=True,
                          system_host_keys=False, alt_host_keys=True, alt_key_file=str(access.known_hosts))
    try:
        assert conn.find_prompt() == f"{COUNTY}#"
        running = conn.send_command("show running-config")
        asn = compute_plan(sample("lab")).plan().asn("640104")
        assert f"router bgp {asn}" in running and f"hostname {COUNTY}" in running
        conn.send_config_set(["ipv6 route 2001:db8:6420:42::/64 blackhole"])
        saved = conn.save_config()
        assert "[OK]" in saved
    finally:
        conn.disconnect()
    assert "ipv6 route 2001:db8:6420:42::/64 blackhole" in (extranet.dir / COUNTY / "frr.conf").read_text()
    assert "2001:db8:6420:42::/64" in extranet.routes(COUNTY)


@pytest.mark.lab
@own_extranet
def test_down_leaves_nothing(extranet: Extranet) -> None:
    ledger = Ledger(extranet.lab_dir)
    entries = ledger.entries("extranet")
    assert {e.kind for e in entries} == {"netns", "link", "process"} and BEYOND in {e.name for e in entries}
    started = time.monotonic()
    gone = extranet.down()
    print(f"extranet down in {time.monotonic() - started:.1f} s")
    assert len(gone) == len(entries)
    assert leftovers(entries) == []
    assert ledger.entries("extranet") == []
    assert extranet.status()[0].state == "stopped"
