"""The lab's dual-plane FRR extranet: topology, BGP on both planes, plane failover, vtysh over SSH, teardown."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from nxgov.errors import LabError
from nxgov.lab.frr import Extranet, LinkSpec, RouterSpec, Topology, default_topology, render_config
from nxgov.lab.ledger import Ledger
from nxgov.lab.netns import namespaces
from tests.lab.conftest_netns import leftovers, make_lab_dir, own_lab, wait_until


@dataclass(frozen=True)
class Site:
    code: str
    parent: str | None


SITES = [Site("640104", "640100"), Site("640000", None), Site("640100", "640000")]  # county, region, city
REGION, CITY, COUNTY = "r640000", "r640100", "r640104"


def test_default_topology_is_dual_homed_in_the_documentation_range() -> None:
    topo = default_topology(SITES)
    assert topo.names() == [REGION, CITY, COUNTY]  # parents first
    assert len({r.asn for r in topo.routers}) == 3
    assert [(k.plane, k.a_router, k.b_router) for k in topo.links] == [
        ("A", REGION, CITY), ("B", REGION, CITY), ("A", CITY, COUNTY), ("B", CITY, COUNTY)]
    doc = ipaddress.ip_network("2001:db8::/32")
    for text in [*(k.prefix6 for k in topo.links), *(r.loopback6 for r in topo.routers),
                 *(r.site_prefix6 or "" for r in topo.routers)]:
        assert ipaddress.ip_network(text).subnet_of(doc)  # type: ignore[arg-type]
    assert all(len(topo.veth(i, 1)) <= 15 for i in range(len(topo.links)))
    topo.validate()


def test_default_topology_rejects_unknown_parent_and_cycles() -> None:
    with pytest.raises(LabError, match="not among"):
        default_topology([Site("640100", "649999")])
    with pytest.raises(LabError, match="cycle"):
        default_topology([Site("640100", "640200"), Site("640200", "640100")])


def test_topology_outside_documentation_range_is_refused() -> None:
    bad = Topology((RouterSpec("r1", "640000", None, 65001, "10.0.0.1"),), ())
    with pytest.raises(LabError, match="documentation"):
        bad.validate()


def test_config_has_ebgp_on_both_planes_with_fast_timers() -> None:
    topo = default_topology(SITES)
    conf = render_config(topo.router(CITY), topo, bfd=True)
    assert conf.count("remote-as 4200000000") == 2 and conf.count("remote-as 4200000002") == 2
    assert conf.count("timers 1 3") == 4 and conf.count("bfd profile lab") == 4
    assert "network 2001:db8:1001::/48" in conf and "network 2001:db8:ff00::2/128" in conf


# -- the running lab -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extranet() -> Iterator[Extranet]:
    lab = make_lab_dir()
    net = Extranet(lab)
    try:
        started = time.monotonic()
        net.up(default_topology(SITES), print)
        print(f"extranet up and converged in {time.monotonic() - started:.1f} s")
        yield net
    finally:
        net.down()
        shutil.rmtree(lab, ignore_errors=True)


def _prefix_ifaces(net: Extranet, router: str, prefix: str) -> set[str]:
    routes = net.routes(router).get(prefix, [])
    return {h["interfaceName"] for r in routes if r.get("selected") for h in r["nexthops"] if h.get("active")}


def _plane_veths(net: Extranet, router: str, plane: str) -> set[str]:
    return {veth for link, _, veth in net.topology().neighbors(router) if link.plane == plane}


@pytest.mark.lab
@own_lab
def test_failed_up_is_reported_and_down_removes_only_the_partial_lab() -> None:
    lab = make_lab_dir()
    net = Extranet(lab)
    topo = Topology((RouterSpec("rx1", "640000", None, 4200000000, "2001:db8:ff00::1"),
                     RouterSpec("rx2", "640100", None, 4200000001, "2001:db8:ff00::2")),
                    (LinkSpec("A", "rx1", "rx2", "2001:db8:fa00:1::/64"),))
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
@own_lab
def test_bgp_established_on_both_planes(extranet: Extranet) -> None:
    took = wait_until(extranet.established, 10, "every BGP session Established")
    peers = extranet.bgp_summary(CITY)["peers"]
    assert len(peers) == 4 and {p["state"] for p in peers.values()} == {"Established"}
    assert {s.state for s in extranet.status()} == {"running"}
    print(f"established after {took:.2f} s more")


@pytest.mark.lab
@own_lab
def test_up_again_reports_and_duplicates_nothing(extranet: Extranet) -> None:
    before = extranet.ledger.entries("extranet")
    again = extranet.up(extranet.topology())
    assert all("already running" in s.detail for s in again)
    assert extranet.ledger.entries("extranet") == before


@pytest.mark.lab
@own_lab
def test_county_prefix_reaches_region_over_both_planes_and_survives_plane_a_failure(extranet: Extranet) -> None:
    county = extranet.topology().router(COUNTY).site_prefix6
    assert county is not None
    both = _plane_veths(extranet, REGION, "A") | _plane_veths(extranet, REGION, "B")
    wait_until(lambda: _prefix_ifaces(extranet, REGION, county) == both, 10, "county prefix via both planes")
    try:
        started = time.monotonic()
        extranet.set_plane("A", up=False)
        switched = time.monotonic() - started
        failover = wait_until(lambda: _prefix_ifaces(extranet, REGION, county) == _plane_veths(extranet, REGION, "B"),
                              5, "county prefix via plane B only")
        for _ in range(10):  # and it stays there
            assert _prefix_ifaces(extranet, REGION, county) == _plane_veths(extranet, REGION, "B")
            time.sleep(0.1)
        print(f"plane A down (set_plane {switched:.2f} s) -> county prefix via B only {failover:.2f} s later")
    finally:
        extranet.set_plane("A", up=True)
    recovered = wait_until(lambda: _prefix_ifaces(extranet, REGION, county) == both, 15, "both planes again")
    print(f"plane A up -> both planes after {recovered:.2f} s")
    wait_until(extranet.established, 10, "every BGP session Established again")


@pytest.mark.lab
@own_lab
def test_netmiko_cisco_ios_drives_vtysh_and_write_memory_saves(extranet: Extranet) -> None:
    from netmiko import ConnectHandler

    access = extranet.access(COUNTY)
    conn = ConnectHandler(device_type="cisco_ios", host=access.host, port=access.port, username=access.username,
                          key_file=str(access.key_file), use_keys=True, allow_agent=False, ssh_strict=True,
                          system_host_keys=False, alt_host_keys=True, alt_key_file=str(access.known_hosts))
    try:
        assert conn.find_prompt() == f"{COUNTY}#"
        running = conn.send_command("show running-config")
        assert "router bgp 4200000002" in running and f"hostname {COUNTY}" in running
        conn.send_config_set(["ipv6 route 2001:db8:1002:42::/64 blackhole"])
        saved = conn.save_config()
        assert "[OK]" in saved
    finally:
        conn.disconnect()
    assert "ipv6 route 2001:db8:1002:42::/64 blackhole" in (extranet.dir / COUNTY / "frr.conf").read_text()
    assert "2001:db8:1002:42::/64" in extranet.routes(COUNTY)


@pytest.mark.lab
@own_lab
def test_down_leaves_nothing(extranet: Extranet) -> None:
    ledger = Ledger(extranet.lab_dir)
    entries = ledger.entries("extranet")
    assert {e.kind for e in entries} == {"netns", "link", "process"}
    started = time.monotonic()
    gone = extranet.down()
    print(f"extranet down in {time.monotonic() - started:.1f} s")
    assert len(gone) == len(entries)
    assert leftovers(entries) == []
    assert ledger.entries("extranet") == []
    assert extranet.status()[0].state == "stopped"
