"""A simulated device's configuration in FRR's terms (:mod:`nxgov.lab.netsim.translate`) and the commands that take
FRR from one translation to the next (:func:`nxgov.lab.netsim.dataplane.changes`).

The lab estate's vendor CEs are configured with what nxgov renders for them, typed into an in-process device; each
translation is compared with its fixture under netsim_translate/ (``[contexts] line`` per FRR line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nxgov.lab.netsim.config import Block
from nxgov.lab.netsim.dataplane import changes, vtysh_args
from nxgov.lab.netsim.device import Device
from nxgov.lab.netsim.server import CLIS
from nxgov.lab.netsim.spec import DeviceSpec, Platform
from nxgov.lab.netsim.translate import FrrLine, translate
from nxgov.network.intent import build_intents, interface_name
from nxgov.network.ipv6plan import compute_plan
from nxgov.network.render import render
from nxgov.network.render.frr import port_name
from tests.network.estates import sample

FIXTURES = Path(__file__).parent / "netsim_translate"


def typed(config: str) -> list[str]:
    return [line.strip() for line in config.splitlines() if line.strip() and line.strip() not in ("#", "return")]


def configure(platform: Platform, lines: list[str], state: Path) -> Block:
    """The running configuration of a fresh in-process device after ``lines`` typed in the system view."""
    cli = CLIS[platform](Device(DeviceSpec("R1", platform, 1, "u", "p"), CLIS[platform].dialect.profile, state))
    for line in ["system-view", *lines]:
        reply = cli.handle(line).text
        assert "Error" not in reply and " % " not in reply, (line, reply)
    return cli.device.running


def shown(lines: list[FrrLine]) -> str:
    return "".join(f"[{' / '.join(line.context)}] {line.line}\n" for line in lines)


def lab_translation(name: str, state: Path) -> str:
    intent = next(i for i in build_intents(compute_plan(sample("lab"))) if i.name == name)
    dialect = CLIS[intent.platform].dialect
    links = {interface_name(intent, i): port_name(i.port) for i in intent.interfaces}
    root = configure(intent.platform, typed(render(intent)), state)  # type: ignore[arg-type]
    return shown(translate(root, links, dialect.ipv6_switches, dialect.bfd_view))


@pytest.mark.parametrize("name", ["vrp-640200-a", "cmw-640200-b"])
def test_the_lab_ces_rendered_configuration_in_frrs_terms(name: str, tmp_path: Path) -> None:
    assert lab_translation(name, tmp_path) == (FIXTURES / f"{name}.frr").read_text()


def test_vrp_without_ipv6_or_bfd_switched_on_has_no_addresses_and_no_bfd(tmp_path: Path) -> None:
    root = configure("huawei_vrp", ["interface GigabitEthernet0/0/0", "ipv6 enable", "ipv6 address 2001:db8::1/64",
                                    "interface GigabitEthernet0/0/1", "ipv6 address 2001:db8:1::1/64",
                                    "bgp 65001", "peer 2001:db8::2 as-number 65002", "peer 2001:db8::2 bfd enable",
                                    "peer 2001:db8::3 description no as-number yet"], tmp_path)
    links = {"GigabitEthernet0/0/0": "eth0", "GigabitEthernet0/0/1": "eth1"}
    lines = [line.line for line in translate(root, links, ipv6_switches=True, bfd_view=True)]
    assert not any(line.startswith("ipv6 address") for line in lines)  # no global ``ipv6``
    assert "neighbor 2001:db8::2 remote-as 65002" in lines and not any(" bfd" in line for line in lines)
    assert not any("2001:db8::3" in line for line in lines)  # a peer exists once it has an AS number
    root = configure("huawei_vrp", ["ipv6", "bfd", "interface GigabitEthernet0/0/0", "ipv6 enable",
                                    "ipv6 address 2001:db8::1/64", "interface GigabitEthernet0/0/1",
                                    "ipv6 address 2001:db8:1::1/64", "bgp 65001", "peer 2001:db8::2 as-number 65002",
                                    "peer 2001:db8::2 bfd enable"], tmp_path / "on")
    lines = [line.line for line in translate(root, links, ipv6_switches=True, bfd_view=True)]
    assert "ipv6 address 2001:db8::1/64" in lines and "ipv6 address 2001:db8:1::1/64" not in lines  # no ipv6 enable
    assert "neighbor 2001:db8::2 bfd profile nxsim-3x300x300" in lines  # VRP's defaults when no timers are given


def test_comware_bfd_takes_the_timers_of_the_peers_interface(tmp_path: Path) -> None:
    root = configure("h3c_comware", ["interface GigabitEthernet1/0/2", "ipv6 address 2001:db8:5::1/64",
                                     "bfd min-transmit-interval 100", "bfd min-receive-interval 200",
                                     "bfd detect-multiplier 5", "bgp 65001", "peer 2001:db8:5::2 as-number 65002",
                                     "peer 2001:db8:5::2 bfd", "ipv6 route-static 2001:db8:7:: 48 NULL0",
                                     "ipv6 route-static 2001:db8:8:: 48 2001:db8:5::2"], tmp_path)
    lines = translate(root, {"GigabitEthernet1/0/2": "eth1"}, ipv6_switches=False, bfd_view=False)
    assert shown(lines).startswith("[] bfd\n[bfd] profile nxsim-5x200x100\n[bfd / profile nxsim-5x200x100] "
                                   "detect-multiplier 5\n[bfd / profile nxsim-5x200x100] receive-interval 200\n"
                                   "[bfd / profile nxsim-5x200x100] transmit-interval 100\n")
    assert FrrLine((), "ipv6 route 2001:db8:7::/48 blackhole") in lines
    assert FrrLine((), "ipv6 route 2001:db8:8::/48 2001:db8:5::2") in lines


BGP = ("router bgp 65001",)
FAMILY = (*BGP, "address-family ipv6 unicast")


def _peer(address: str, asn: int = 65002, timers: str = "1 3") -> list[FrrLine]:
    return [FrrLine(BGP, f"neighbor {address} remote-as {asn}"), FrrLine(BGP, f"neighbor {address} timers {timers}"),
            FrrLine(FAMILY, f"neighbor {address} activate")]


@pytest.mark.parametrize(("old", "new", "commands"), [
    pytest.param([FrrLine((), BGP[0]), *_peer("2001:db8::2"), *_peer("2001:db8::3")],
                 [FrrLine((), BGP[0]), *_peer("2001:db8::2")],
                 [(*BGP, "no neighbor 2001:db8::3 remote-as 65002")], id="a removed peer goes with one no"),
    pytest.param([FrrLine((), BGP[0]), *_peer("2001:db8::2")], [FrrLine((), BGP[0]), *_peer("2001:db8::2", 65009)],
                 [(*BGP, "no neighbor 2001:db8::2 remote-as 65002"), (*BGP, "neighbor 2001:db8::2 remote-as 65009"),
                  (*BGP, "neighbor 2001:db8::2 timers 1 3"), (*FAMILY, "neighbor 2001:db8::2 activate")],
                 id="a peer's new AS makes it again, every line"),
    pytest.param([FrrLine((), BGP[0]), *_peer("2001:db8::2")],
                 [FrrLine((), BGP[0]), *_peer("2001:db8::2", timers="2 6")],
                 [(*BGP, "no neighbor 2001:db8::2 timers 1 3"), (*BGP, "neighbor 2001:db8::2 timers 2 6")],
                 id="new timers replace the old"),
    pytest.param([FrrLine((), BGP[0]), FrrLine(BGP, "no bgp default ipv4-unicast"), *_peer("2001:db8::2")],
                 [FrrLine((), "router bgp 65009"), FrrLine(("router bgp 65009",), "no bgp default ipv4-unicast")],
                 [("no router bgp 65001",), ("router bgp 65009",),
                  ("router bgp 65009", "no bgp default ipv4-unicast")], id="another AS: the instance goes at once"),
    pytest.param([FrrLine((), "interface eth0"), FrrLine(("interface eth0",), "description to x"),
                  FrrLine(("interface eth0",), "ipv6 address 2001:db8::1/64")], [FrrLine((), "interface eth0")],
                 [("interface eth0", "no ipv6 address 2001:db8::1/64"), ("interface eth0", "no description")],
                 id="an emptied port stays, without its lines"),
    pytest.param(_peer("2001:db8::2"), _peer("2001:db8::2"), [], id="nothing changed, nothing typed"),
])
def test_changes_take_frr_from_one_translation_to_the_next(old: list[FrrLine], new: list[FrrLine],
                                                          commands: list[tuple[str, ...]]) -> None:
    assert changes(old, new) == commands


def test_each_command_is_typed_from_the_top_of_configuration_mode() -> None:
    assert vtysh_args([(*FAMILY, "network 2001:db8::/48")]) == [
        "-c", "configure terminal", "-c", "router bgp 65001", "-c", "address-family ipv6 unicast",
        "-c", "network 2001:db8::/48", "-c", "end", "-c", "configure terminal"]
