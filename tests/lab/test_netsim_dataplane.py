"""Simulated VRP and Comware devices that route: each device's configuration applied to the FRR in its own
namespace, and its ``display`` commands answered from FRR's state in the vendor's format, read back with nxgov's
own parsers.

A plane-A link between a simulated VRP device (at the region) and a simulated Comware device (at a city), built
by the lab's extranet machinery in a lab directory of the test's own (no management bridge, no shared names:
it runs beside the session lab), configured with what nxgov renders for each, over SSH with netmiko as an
operator would: BGP comes up over BFD, the routes arrive, a cut link shows in both, a removed peer leaves
FRR, and FRR started again gets the whole configuration back from the simulator.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from netmiko import ConnectHandler

from nxgov.estate.model import Estate
from nxgov.lab.frr import Extranet, cabled
from nxgov.lab.netns import PREFIX
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, write_spec
from nxgov.lab.netsim.spec import DataplaneSpec
from nxgov.network.intent import DeviceIntent, build_intents, interface_name
from nxgov.network.ipv6plan import compute_plan
from nxgov.network.parsers import Route, comware, vrp
from nxgov.network.render import render
from nxgov.network.render.frr import port_name
from tests.lab.conftest_netns import make_lab_dir, needs_root, wait_until
from tests.network.estates import sample, site, with_extranet

pytestmark = needs_root
USER, PASSWORD = "admin", "Lab-pass-1"
VRP, CMW = "tdp-vrp-a", "tdp-cmw-a"
KINDS = {VRP: ("huawei", vrp), CMW: ("hp_comware", comware)}
CONVERGE_S = 30.0


def estate(ports: list[int]) -> Estate:
    """A region with a plane-A VRP device and a city below it with a plane-A Comware device."""
    devices = [{"name": VRP, "site": "640000", "plane": "A", "platform": "huawei_vrp", "host": "127.0.0.1",
                "port": ports[0], "credentials": "extranet"},
               {"name": CMW, "site": "640100", "plane": "A", "platform": "h3c_comware", "host": "127.0.0.1",
                "port": ports[1], "credentials": "extranet"}]
    return with_extranet(sample("lab"), sites=[site("640000", "region", None), site("640100", "city", "640000")],
                         devices=devices)


@dataclass
class Pair:
    extranet: Extranet
    intents: dict[str, DeviceIntent]
    connections: dict[str, Any]

    def show(self, name: str, command: str) -> str:
        return str(self.connections[name].send_command(command))

    def configure(self, name: str, lines: list[str]) -> None:
        self.connections[name].send_config_set(lines)

    def read(self, name: str, what: str) -> tuple[Any, ...]:
        command = getattr(KINDS[name][1], what)
        return tuple(command.parse(self.show(name, command.text)).rows_or_raise(name))

    def routes(self, name: str) -> dict[str, Route]:
        return {route.prefix: route for route in self.read(name, "ROUTES")}

    def sessions(self, name: str) -> dict[str, str]:
        return {peer.address: peer.state for peer in self.read(name, "BGP_PEERS")}

    def established(self) -> bool:
        return all(list(self.sessions(name).values()) == ["Established"] for name in KINDS)


def typed(config: str) -> list[str]:
    """A configuration as ``display current-configuration`` prints it, as lines to type (views are left by
    typing the next view's command, as on the devices)."""
    return [line.strip() for line in config.splitlines() if line.strip() and line.strip() not in ("#", "return")]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("dataplane")
    ports = free_loopback_ports(2)
    intents = {i.name: i for i in build_intents(compute_plan(estate(ports)))}
    lab_dir = make_lab_dir()
    extranet = Extranet(lab_dir)
    specs = {}
    for (name, intent), port in zip(intents.items(), ports, strict=True):
        links = tuple((interface_name(intent, i), port_name(i.port)) for i in intent.interfaces)
        specs[name] = DeviceSpec(name, intent.platform, port, USER, PASSWORD,  # type: ignore[arg-type]
                                 dataplane=DataplaneSpec(f"{PREFIX}{name}", str(extranet.vty_dir(name)), links))
    write_spec(root / "devices.json", SimSpec(tuple(specs.values())))
    sim, connections = None, {}
    try:
        extranet.up(cabled(intents.values(), {name: "127.0.0.1" for name in intents}, set(intents)))
        sim = NetsimProcess.start(root / "devices.json", root / "state", root / "netsim.log")
        for name, spec in specs.items():
            connections[name] = ConnectHandler(device_type=KINDS[name][0], host=spec.host, port=spec.port,
                                               username=USER, password=PASSWORD)
        yield Pair(extranet, intents, connections)
    finally:
        for conn in connections.values():
            conn.disconnect()
        if sim is not None:
            sim.stop()
        extranet.down()
        shutil.rmtree(lab_dir)


def test_rendered_configuration_routes_both_ways(pair: Pair) -> None:
    for name, intent in pair.intents.items():
        pair.configure(name, typed(render(intent)))
    wait_until(pair.established, CONVERGE_S, "the VRP - Comware session Established on both")
    city = pair.intents[CMW]
    running = pair.extranet.vtysh(VRP, "show running-config")
    assert f"neighbor {city.interfaces[0].address.split('/')[0]} remote-as {city.asn}" in running
    assert " passive" in running and "bfd profile nxsim-3x300x300" in running  # listen-only, BFD 300 ms x 3
    assert " passive" not in pair.extranet.vtysh(CMW, "show running-config")  # Comware has no passive end
    bfd = pair.extranet.vtysh(VRP, "show bfd peers brief")
    assert "up" in bfd, bfd
    region = pair.intents[VRP]
    wait_until(lambda: city.site_prefix in pair.routes(VRP) and region.site_prefix in pair.routes(CMW), CONVERGE_S,
               "each device to route the other's site block")
    routes = pair.routes(VRP)
    assert routes[city.site_prefix].protocol == "EBGP"
    assert routes[city.site_prefix].interfaces == ("GigabitEthernet0/0/0",)
    back = pair.routes(CMW)
    assert back[region.site_prefix].protocol == "BGP4+" and back[region.site_prefix].interfaces == (
        "GigabitEthernet1/0/1",)
    ports = {p.name: p for p in pair.read(CMW, "INTERFACES")}
    assert ports["GigabitEthernet1/0/1"].oper_up and not ports["GigabitEthernet1/0/2"].oper_up
    assert ports["LoopBack0"].oper_up


def test_a_cut_link_shows_in_sessions_and_ports_and_heals(pair: Pair) -> None:
    wait_until(pair.established, CONVERGE_S, "the session Established")
    try:
        pair.extranet.set_link(VRP, CMW, "A", up=False)
        wait_until(lambda: "Established" not in pair.sessions(CMW).values(), CONVERGE_S, "the session down")
        ports = {p.name: p for p in pair.read(VRP, "INTERFACES")}
        assert not ports["GigabitEthernet0/0/0"].oper_up and ports["GigabitEthernet0/0/0"].admin_up
    finally:
        pair.extranet.set_link(VRP, CMW, "A", up=True)
    wait_until(pair.established, CONVERGE_S, "the session Established again")


def test_undo_removes_from_frr_and_frr_started_again_is_configured_again(pair: Pair) -> None:
    region = pair.intents[VRP]
    peer = region.neighbors[0].address.upper()
    pair.configure(VRP, [f"bgp {region.asn}", f"undo peer {peer}"])
    assert pair.sessions(VRP) == {}  # a display command applies what is pending first
    assert "neighbor" not in pair.extranet.vtysh(VRP, "show running-config")
    pair.configure(VRP, typed(render(region)))
    wait_until(pair.established, CONVERGE_S, "the session Established after the peer came back")
    topology = pair.extranet.topology()
    pair.extranet.down()
    pair.extranet.up(topology)  # bare FRR again: the simulator notices and applies the whole configuration
    wait_until(pair.established, CONVERGE_S, "the session Established on the restarted FRR")
