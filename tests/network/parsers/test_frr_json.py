"""FRR's vtysh JSON read into the typed rows every platform gives: every state, uptimes only when Established,
connected and ECMP routes, and a value nxgov cannot read reported, never read as "down"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nxgov.network.drivers import SessionOptions, StateReader, Target
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.frr import FrrDriver
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.network.parsers import BgpPeer, InterfaceState, NextHop, ParseError, Route, frr

SUMMARY: dict[str, Any] = {"routerId": "10.0.0.1", "as": 4200000000, "peers": {
    "2001:db8:64::1": {"remoteAs": 4200000001, "state": "Established", "peerUptimeMsec": 2256186000, "pfxRcd": 3},
    "2001:DB8:64::5": {"remoteAs": 65002, "state": "Active", "peerUptimeMsec": 0},
    "2001:db8:64::9": {"remoteAs": 65003, "state": "Idle (Admin)", "peerUptimeMsec": 0},
    "2001:db8:64::d": {"remoteAs": 65004, "state": "OpenSent", "peerUptimeMsec": 0, "pfxRcd": 0},
    "2001:db8:64::11": {"remoteAs": 65005, "state": "Clearing", "peerUptimeMsec": 0},
}}
ROUTES: dict[str, Any] = {
    "2001:db8:6401::/48": [{"protocol": "bgp", "selected": True, "nexthops": [
        {"ip": "fe80::1", "interfaceName": "eth0", "active": True},
        {"ip": "fe80::2", "interfaceName": "eth1", "active": True},
        {"ip": "fe80::3", "interfaceName": "eth2"}]},
        {"protocol": "static", "selected": False, "nexthops": [{"interfaceName": "eth3", "active": True}]}],
    "2001:db8:64::/127": [{"protocol": "connected", "selected": True, "nexthops": [
        {"directlyConnected": True, "interfaceName": "eth0", "active": True}]}],
}


def test_bgp_peers_in_every_state_with_uptimes_only_when_established() -> None:
    peers = frr.bgp_peers(SUMMARY)
    assert peers[0] == BgpPeer("2001:db8:64::1", 4200000001, "Established", 2256186, 3)
    assert [(p.address, p.state, p.uptime_seconds) for p in peers[1:]] == [
        ("2001:db8:64::5", "Active", None), ("2001:db8:64::9", "Idle", None), ("2001:db8:64::d", "OpenSent", None),
        ("2001:db8:64::11", "Idle", None)]
    assert frr.bgp_peers({}) == ()


def test_a_state_nxgov_cannot_read_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="show bgp ipv6 unicast summary json") as raised:
        frr.bgp_peers({"peers": {"2001:db8::1": {"remoteAs": 1, "state": "Shutdown"},
                                 "2001:db8::2": {"state": "Active"}}})
    assert raised.value.lines == ("peer 2001:db8::1: 'Shutdown' is not a BGP state", "peer 2001:db8::2: 'remoteAs'")


def test_selected_routes_with_their_active_next_hops() -> None:
    assert frr.routes(ROUTES) == (
        Route("2001:db8:6401::/48", "bgp", (NextHop("fe80::1", "eth0"), NextHop("fe80::2", "eth1"))),
        Route("2001:db8:64::/127", "connected", (NextHop("::", "eth0"),)))
    assert frr.routes(ROUTES)[0].interfaces == ("eth0", "eth1")


def test_interfaces_administratively_and_operationally() -> None:
    assert frr.interfaces({"eth0": {"administrativeStatus": "up", "operationalStatus": "up"},
                           "eth1": {"administrativeStatus": "up", "operationalStatus": "down"},
                           "eth2": {"administrativeStatus": "down", "operationalStatus": "down"}}) == (
        InterfaceState("eth0", True, True), InterfaceState("eth1", True, False), InterfaceState("eth2", False, False))


def test_the_frr_driver_is_a_state_reader_whose_parse_errors_name_the_device(tmp_path: Path) -> None:
    assert issubclass(FrrDriver, StateReader)
    device = FrrDriver(Target("frr-1", "frr", "127.0.0.1", 22, Credentials("nxgov", "x")),
                       SessionOptions(KnownHosts(tmp_path / "known_hosts")))
    answers = {frr.BGP_PEERS: '{"peers": {"2001:db8::1": {"remoteAs": 1, "state": "Weird"}}}'}
    device.cli = answers.__getitem__  # type: ignore[method-assign,assignment]
    with pytest.raises(ParseError) as raised:
        device.get_bgp_peers()
    assert raised.value.device == "frr-1" and raised.value.message.startswith("frr-1: ")
