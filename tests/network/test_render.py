"""Renderers: the text of each platform, the simulator taking VRP and Comware output, vtysh taking FRR's."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netmiko import ConnectHandler

from nxgov.errors import InputError
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, write_spec
from nxgov.lab.netsim.spec import Platform
from nxgov.network.drivers.vrp import FastHuaweiSSH
from nxgov.network.intent import DeviceIntent, build_intents
from nxgov.network.ipv6plan import compute_plan
from nxgov.network.render import render
from tests.network.estates import full_scale_plan, sample

USER, PASSWORD = "admin", "Render-pass-1"
DEVICE_ERROR = r"^(Error: | % )"


def vtysh() -> str:
    """FRR's vtysh, looked up when a test runs (scripts/test.sh installs frr first when root)."""
    found = shutil.which("vtysh")
    if found is None:
        pytest.skip("vtysh (Debian package frr) is not installed: run as root, scripts/test.sh installs it")
    return found


def intent(estate: str, name: str) -> DeviceIntent:
    outcome = full_scale_plan() if estate == "full" else compute_plan(sample(estate))
    return build_intents(outcome, [name])[0]


def blocks(text: str) -> list[str]:
    """A display-format configuration as its blocks (the text between ``#`` lines), preamble dropped."""
    parts = text.replace("\r\n", "\n").split("\n#\n")
    return [part.strip("\n") for part in parts[1:]]


def commands(text: str) -> list[str]:
    """What an operator types to enter a display-format configuration: every line but ``#`` and ``return``."""
    return [line.strip() for line in text.splitlines() if line.strip() not in ("#", "return", "")]


def test_vrp_text() -> None:
    assert render(intent("ningxia", "ce-640104-a")) == """#
 sysname ce-640104-a
#
 router id 0.0.0.13
#
 ipv6
#
bfd
#
interface GigabitEthernet0/0/0
 description plane A uplink to ce-640100-a
 ipv6 enable
 ipv6 address 2001:DB8:6401:5::2/64
#
interface LoopBack0
 ipv6 enable
 ipv6 address 2001:DB8:6400::D/128
#
bgp 4200000006
 router-id 0.0.0.13
 peer 2001:DB8:6401:5::1 as-number 4200000001
 peer 2001:DB8:6401:5::1 description plane A to ce-640100-a
 peer 2001:DB8:6401:5::1 timer keepalive 1 hold 3
 peer 2001:DB8:6401:5::1 bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 3
 peer 2001:DB8:6401:5::1 bfd enable
 #
 ipv6-family unicast
  maximum load-balancing 2
  network 2001:DB8:6400::D 128
  network 2001:DB8:6420:: 52
  peer 2001:DB8:6401:5::1 enable
#
 ipv6 route-static 2001:DB8:6420:: 52 NULL0
#
return
"""


def test_vrp_passive_end_and_bfd() -> None:
    """The parent's end listens only (``peer X listen-only``); BFD on every session, with the intent's timers."""
    text = render(intent("ningxia", "ce-640100-a"))
    uplink, downlink = "2001:DB8:6401::1", "2001:DB8:6401:5::2"
    assert "#\nbfd\n#\n" in text
    assert f" peer {downlink} listen-only\n" in text and f" peer {uplink} listen-only" not in text
    assert text.count(" listen-only\n") == text.count(" description plane A to ") - 1 == 6
    for peer in (uplink, downlink):
        assert (f" peer {peer} timer keepalive 1 hold 3\n"
                f" peer {peer} bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 3\n"
                f" peer {peer} bfd enable\n") in text.replace(f" peer {peer} listen-only\n", "")
    assert text.count(" bfd enable\n") == text.count(" bfd min-tx-interval ") == 7


def test_comware_text() -> None:
    text = render(intent("ningxia", "ce-640100-b"))
    assert text.startswith("#\n sysname ce-640100-b\n#\n router id 0.0.0.4\n#\ninterface GigabitEthernet1/0/1\n"
                           " description plane B uplink to ce-640000-b\n ipv6 address 2001:DB8:6402::2/64\n"
                           " bfd min-transmit-interval 300\n bfd min-receive-interval 300\n bfd detect-multiplier 3\n"
                           "#\n")
    assert " peer 2001:DB8:6402::1 timer keepalive 1 hold 3\n peer 2001:DB8:6402::1 bfd\n" in text
    assert text.count(" bfd detect-multiplier 3\n") == len(re.findall(r"^ peer \S+ bfd$", text, re.M)) == 7
    assert "listen-only" not in text and "\nbfd\n" not in text  # Comware 7: no passive end, no global bfd
    assert "interface GigabitEthernet1/0/7\n description plane B downlink to ce-640181-b\n" in text
    assert "interface LoopBack0\n ipv6 address 2001:DB8:6400::4/128\n#\nbgp 4200000001\n router-id 0.0.0.4\n" in text
    assert " #\n address-family ipv6 unicast\n  balance 2\n  network 2001:DB8:6400::4 128\n" in text
    assert "  network 2001:DB8:6411:: 48\n" in text and "ipv6 enable" not in text
    assert text.endswith("#\n ipv6 route-static 2001:DB8:6411:: 48 NULL0\n#\nreturn\n")
    assert text.count(" as-number ") == 7 and text.count(" enable\n") == 7


def test_frr_text() -> None:
    text = render(intent("lab", "frr-640104"))
    assert text.startswith("hostname frr-640104\nservice integrated-vtysh-config\n!\n"
                           "ipv6 route 2001:db8:6420::/52 blackhole\n!\ninterface eth0\n"
                           " description plane A uplink to frr-640100\n ipv6 address 2001:db8:6401:3::2/64\nexit\n")
    assert "interface lo\n ipv6 address 2001:db8:6400::7/128\nexit\n!\nrouter bgp 4200000003\n" in text
    assert (" neighbor 2001:db8:6401:3::1 remote-as 4200000001\n"
            " neighbor 2001:db8:6401:3::1 description plane A to frr-640100\n"
            " neighbor 2001:db8:6401:3::1 bfd\n neighbor 2001:db8:6401:3::1 bfd profile nxgov\n"
            " neighbor 2001:db8:6401:3::1 timers 1 3\n") in text
    assert " address-family ipv6 unicast\n  network 2001:db8:6400::7/128\n  network 2001:db8:6420::/52\n" in text
    assert " passive" not in text and " passive" in render(intent("lab", "frr-640100"))


def test_cisco_ios_text() -> None:
    ios = intent("lab", "frr-640104")
    text = render(DeviceIntent(**{**ios.__dict__, "platform": "cisco_ios"}))
    assert "ipv6 unicast-routing" in text and "interface GigabitEthernet0/1\n" in text
    assert "  neighbor 2001:db8:6401:3::1 activate\n" in text and text.endswith("end\n")


def test_unknown_platform_is_refused() -> None:
    ios = intent("lab", "frr-640104")
    with pytest.raises(InputError, match="no renderer for platform junos"):
        render(DeviceIntent(**{**ios.__dict__, "platform": "junos"}))


@pytest.mark.parametrize(("estate", "name"), [("lab", "frr-640000"), ("lab", "frr-640100"), ("lab", "frr-640104")])
def test_vtysh_accepts_frr_output(tmp_path: Path, estate: str, name: str) -> None:
    conf = tmp_path / f"{name}.conf"
    conf.write_text(render(intent(estate, name)))
    result = subprocess.run([vtysh(), "--dryrun", "-f", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vtysh_refuses_a_broken_line(tmp_path: Path) -> None:
    """The check above would catch a renderer mistake: vtysh --dryrun fails on an unknown command."""
    conf = tmp_path / "broken.conf"
    conf.write_text(render(intent("lab", "frr-640104")).replace(" bgp router-id", " bgp routr-id"))
    assert subprocess.run([vtysh(), "--dryrun", "-f", str(conf)], capture_output=True, timeout=30).returncode


SIMULATED: dict[str, tuple[Platform, str]] = {"ce-640104-a": ("huawei_vrp", "GigabitEthernet0/0/0-47"),
                                              "ce-640104-b": ("h3c_comware", "GigabitEthernet1/0/1-48")}


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DeviceSpec]]:
    """The full scale's county routers (an uplink and 11 township links each), simulated."""
    root = tmp_path_factory.mktemp("render-netsim")
    ports = free_loopback_ports(len(SIMULATED))
    devices = {name: DeviceSpec(name, platform, port, USER, PASSWORD, ports=(range_,))
               for (name, (platform, range_)), port in zip(SIMULATED.items(), ports, strict=True)}
    write_spec(root / "devices.json", SimSpec(tuple(devices.values())))
    sim = NetsimProcess.start(root / "devices.json", root / "state", root / "netsim.log")
    try:
        yield devices
    finally:
        sim.stop()


def _connect(device: DeviceSpec) -> Any:
    if device.platform == "huawei_vrp":
        return FastHuaweiSSH(host=device.host, port=device.port, username=USER, password=PASSWORD)
    # netmiko's hp_comware turns command echo checks off, and then waits for 2 s of silence after every line
    return ConnectHandler(device_type="hp_comware", host=device.host, port=device.port, username=USER,
                          password=PASSWORD, global_cmd_verify=True)


@pytest.mark.parametrize("name", sorted(SIMULATED))
def test_simulator_takes_every_rendered_line_and_shows_it_back(simulator: dict[str, DeviceSpec], name: str) -> None:
    text = render(intent("full", name))
    assert text.count("interface GigabitEthernet") == 12
    conn = _connect(simulator[name])
    try:
        for _ in range(2):  # the second push must change nothing
            conn.send_config_set(commands(text), error_pattern=DEVICE_ERROR, read_timeout=30)
            running = str(conn.send_command("display current-configuration", read_timeout=30))
            missing = [block for block in blocks(text) if block not in blocks(running)]
            assert not missing, f"rendered blocks the device shows differently: {missing}"
    finally:
        conn.disconnect()


def test_full_scale_renders() -> None:
    """Every device of the full scale renders (its speed is bench/render.py's to measure)."""
    outcome = full_scale_plan()
    texts = [render(i) for i in build_intents(outcome)]
    assert len(texts) == 5864 and all(t.endswith("return\n") for t in texts)
