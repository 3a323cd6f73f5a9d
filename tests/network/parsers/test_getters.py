"""The VRP and Comware getters: typed rows from the device's answer, ParseError on a line nxgov cannot read,
and both drivers StateReaders (what ``net verify`` reads). Also: nxgov's own templates are
stock TextFSM (plain ``textfsm`` reads the fixtures it understands and stops at the others)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import textfsm

from nxgov.errors import ExitCode, OperationError
from nxgov.network.drivers import SessionOptions, Target
from nxgov.network.drivers.base import StateReader
from nxgov.network.drivers.comware import ComwareDriver
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.network.drivers.vrp import SystemViewDriver, VrpDriver
from nxgov.network.parsers import BgpPeer, Command, InterfaceState, NextHop, ParseError, Route, comware, fsm, vrp

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATES = Path(vrp.__file__).parent / "templates"


def answering(cls: type[SystemViewDriver], tmp_path: Path, answers: dict[str, str]) -> SystemViewDriver:
    """A driver (never connected) whose device answers each show command from ``answers``."""
    device = cls(Target("ce-1", cls.platform, "127.0.0.1", 22, Credentials("nxgov", "x")),
                 SessionOptions(KnownHosts(tmp_path / "known_hosts")))
    device.cli = answers.__getitem__  # type: ignore[method-assign,assignment]
    return device


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text()


def test_vrp_getters_read_the_devices_answers(tmp_path: Path) -> None:
    device = answering(VrpDriver, tmp_path, {
        "display bgp ipv6 peer": fixture("huawei_vrp/display_bgp_ipv6_peer/wrapped_ipv6_address.txt"),
        "display interface brief": fixture("huawei_vrp/display_interface_brief/ar_router.txt"),
        "display ipv6 routing-table verbose": fixture(
            "huawei_vrp/display_ipv6_routing-table_verbose/ecmp_ospfv3_bgp.txt"),
    })
    assert device.get_bgp_peers()[0] == BgpPeer("2001:db8:2000:3000:4000:5000:6000:7001", 64601, "Established",
                                                571, 4)
    assert InterfaceState("GigabitEthernet0/0/2", False, False) in device.get_interface_states()
    route = next(r for r in device.get_routes() if r.prefix == "2001:db8:6401::/48")
    assert route.interfaces == ("GigabitEthernet0/0/1", "GigabitEthernet0/0/2")


def test_comware_getters_give_interface_names_in_full(tmp_path: Path) -> None:
    device = answering(ComwareDriver, tmp_path, {
        "display bgp peer ipv6": fixture("h3c_comware/display_bgp_peer_ipv6/totals_on_one_line.txt"),
        "display interface brief": fixture("h3c_comware/display_interface_brief/route_and_bridge_mode.txt"),
        "display ipv6 routing-table": fixture("h3c_comware/display_ipv6_routing-table/ecmp_bgp4plus.txt"),
    })
    assert [p.state for p in device.get_bgp_peers()] == ["Established", "Connect", "OpenSent", "Established",
                                                         "Established"]
    assert device.get_interface_states()[0] == InterfaceState("GigabitEthernet1/0/1", True, True)
    assert Route("2001:db8:ffff::2/128", "O_INTRA", (NextHop("fe80::5a6a:b1ff:fe01:101", "GigabitEthernet1/0/1"),)
                 ) in device.get_routes()


@pytest.mark.parametrize(("cls", "command", "path", "line"), [
    (VrpDriver, "display bgp ipv6 peer", "huawei_vrp/display_bgp_ipv6_peer/not_understood.txt",
     "  2001:DB8:1::6   4       64602        0        0     0 00:00:12 Idle(Admin)        0"),
    (ComwareDriver, "display bgp peer ipv6", "h3c_comware/display_bgp_peer_ipv6/not_understood.txt",
     "  2001:DB8:30::5         100        0        0    0       0 00:10:00 Idle(Admin)"),
])
def test_a_line_not_understood_fails_the_getter_naming_device_command_and_line(
        cls: type[SystemViewDriver], command: str, path: str, line: str, tmp_path: Path) -> None:
    device = answering(cls, tmp_path, {command: fixture(path)})
    with pytest.raises(ParseError) as raised:
        device.get_bgp_peers()
    error = raised.value
    assert isinstance(error, OperationError) and error.exit_code == ExitCode.FAILED
    assert (error.device, error.command, error.lines[0]) == ("ce-1", command, line)
    assert error.message.startswith(f"ce-1: {command!r} printed ") and repr(line) in error.message


def test_parsed_keeps_the_rows_and_the_lines_it_could_not_read() -> None:
    parsed = comware.INTERFACES.parse(fixture("h3c_comware/display_interface_brief/comware5_and_unknown_link.txt"))
    assert len(parsed.rows) == 3 and parsed.unparsed == ("Tun1 TEST ('TEST' is not a link state)",)
    with pytest.raises(ParseError, match="1 line nxgov cannot read"):
        parsed.rows_or_raise()


def test_an_empty_answer_is_no_rows_and_nothing_unread() -> None:
    for command in (vrp.BGP_PEERS, vrp.INTERFACES, vrp.ROUTES, comware.BGP_PEERS, comware.INTERFACES,
                    comware.ROUTES):
        parsed = command.parse("\n  \n")
        assert (parsed.rows, parsed.unparsed) == ((), ())


@pytest.mark.parametrize(("cls", "port0", "port7"), [(VrpDriver, "GigabitEthernet0/0/0", "GigabitEthernet0/0/7"),
                                                     (ComwareDriver, "GigabitEthernet1/0/1", "GigabitEthernet1/0/8")])
def test_vrp_and_comware_are_state_readers_so_verify_reads_them(cls: type[SystemViewDriver], port0: str, port7: str,
                                                              tmp_path: Path) -> None:
    assert issubclass(cls, StateReader)
    device = answering(cls, tmp_path, {})
    assert (device.interface_name(0), device.interface_name(7)) == (port0, port7)  # the renderers' default names


@pytest.mark.parametrize("command", [vrp.BGP_PEERS, vrp.ROUTES, comware.BGP_PEERS, comware.ROUTES],
                         ids=lambda c: c.template)
def test_nxgovs_own_templates_are_stock_textfsm(command: Command[Any]) -> None:
    platform = "huawei_vrp" if command.template.startswith("huawei") else "h3c_comware"
    for case in sorted((FIXTURES / platform / command.text.replace(" ", "_")).glob("*.txt")):
        fsm = textfsm.TextFSM((TEMPLATES / f"{command.template}.textfsm").open())
        if case.stem == "not_understood":
            with pytest.raises(textfsm.TextFSMError):
                fsm.ParseText(case.read_text())
        else:
            assert fsm.ParseText(case.read_text())


def test_a_template_that_would_drop_unknown_lines_is_refused() -> None:
    """Templates without ``^. -> Error`` skip lines they do not know: nxgov cannot tell what it missed."""
    with pytest.raises(ValueError, match=re.escape("no '^. -> Error' rule")):
        fsm.template_text("ntc:alcatel_sros_oam_mac-ping")
