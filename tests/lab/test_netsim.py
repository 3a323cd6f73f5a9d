"""The network simulator against netmiko's stock ``huawei`` and ``hp_comware`` drivers.

Stock ``huawei`` waits ~2 s of silence in every ``check_config_mode`` (~11 s per config session),
so its scenario starts in the background when the module's simulator comes up and is checked by
the last test; the other tests use :class:`FastHuaweiSSH` (the same driver with a prompt pattern).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import ConfigInvalidException

from nxgov.errors import LabError
from nxgov.lab.ledger import Ledger
from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, load_spec, read_config, write_spec
from nxgov.lab.netsim.device import Device
from nxgov.lab.netsim.server import CLIS
from nxgov.lab.netsim.spec import Platform
from nxgov.lab.netsim.terminal import Terminal
from nxgov.network.drivers.vrp import FastHuaweiSSH
from nxgov.processes import process_start_time

USER, PASSWORD = "admin", "Lab-pass-1"
ERROR = r"^(Error:| %) (Unrecognized command|Wrong parameter)"


@dataclass
class Lab:
    devices: dict[str, DeviceSpec]
    state: Path
    stock_huawei: Future[str]


def make_spec(path: Path, count: int) -> dict[str, DeviceSpec]:
    """``count`` VRP devices V0.. and as many Comware devices C0.., on free loopback ports."""
    ports = free_loopback_ports(2 * count)
    platforms: tuple[tuple[str, Platform], ...] = (("V", "huawei_vrp"), ("C", "h3c_comware"))
    devices = [
        DeviceSpec(f"{prefix}{i}", platform, ports.pop(), USER, PASSWORD)
        for prefix, platform in platforms
        for i in range(count)
    ]
    write_spec(path, SimSpec(tuple(devices)))
    return {d.name: d for d in devices}


def connect(device: DeviceSpec, stock: bool = False) -> Any:
    """netmiko ``hp_comware`` for Comware; ``huawei`` (stock or prompted) for VRP."""
    if device.platform == "huawei_vrp" and not stock:
        return FastHuaweiSSH(host=device.host, port=device.port, username=USER, password=PASSWORD)
    kind = "huawei" if device.platform == "huawei_vrp" else "hp_comware"
    return ConnectHandler(device_type=kind, host=device.host, port=device.port, username=USER, password=PASSWORD)


def stock_huawei_scenario(device: DeviceSpec) -> str:
    """Configure (with an undo), read back, save, and return what a new session sees as saved."""
    conn = connect(device, stock=True)
    assert conn.base_prompt == device.name
    out = conn.send_config_set(
        [
            "interface GigabitEthernet0/0/1",
            "ipv6 enable",
            "ipv6 address 2001:db8:1::1/64",
            "description to-core",
            "undo description",
            "quit",
            "bgp 65101",
            "peer 2001:db8:1::2 as-number 65102",
            "ipv6-family unicast",
            "peer 2001:db8:1::2 enable",
        ]
    )
    assert "[V0-GigabitEthernet0/0/1]" in out and "[V0-bgp-af-ipv6]" in out and "Error" not in out
    running = conn.send_command("display current-configuration")
    assert "interface GigabitEthernet0/0/1\n ipv6 enable\n ipv6 address 2001:DB8:1::1/64\n#" in running
    assert (
        "bgp 65101\n peer 2001:DB8:1::2 as-number 65102\n #\n ipv6-family unicast\n  peer 2001:DB8:1::2 enable"
        in running
    )
    assert "description" not in running
    assert conn.send_command("display current-configuration | include ipv6 address") == " ipv6 address 2001:DB8:1::1/64"
    assert "Info: Save the configuration successfully." in conn.save_config()
    conn.disconnect()
    conn = connect(device)
    saved = str(conn.send_command("display saved-configuration"))
    conn.disconnect()
    return saved


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("netsim")
    devices = make_spec(root / "devices.json", 6)
    sim = NetsimProcess.start(root / "devices.json", root / "state", root / "netsim.log")
    with ThreadPoolExecutor(1) as background:
        try:
            yield Lab(devices, root / "state", background.submit(stock_huawei_scenario, devices["V0"]))
        finally:
            sim.stop()


def test_spec_must_be_private(tmp_path: Path) -> None:
    make_spec(tmp_path / "d.json", 1)
    assert load_spec(tmp_path / "d.json").devices[0].password == PASSWORD
    assert PASSWORD not in repr(load_spec(tmp_path / "d.json"))
    (tmp_path / "d.json").chmod(0o644)
    with pytest.raises(LabError, match="readable by others"):
        load_spec(tmp_path / "d.json")


def transcript(platform: Platform, state: Path, *lines: str) -> str:
    """Type ``lines`` into an in-process VTY of device R9; return the screen (with ``\n`` line ends)."""
    cli = CLIS[platform](Device(DeviceSpec("R9", platform, 1, USER, PASSWORD), CLIS[platform].dialect.profile, state))
    terminal = Terminal(cli)
    screen = cli.prompt() + "".join(terminal.feed(line + "\n").text for line in lines)
    return screen.replace("\r\n", "\n")


def test_vrp_views_abbreviations_and_parent_view_commands(tmp_path: Path) -> None:
    screen = transcript(
        "huawei_vrp",
        tmp_path,
        "sys",
        "sysname CORE-1",
        "int lo 1",
        "ospfv3 1",
        "area 0",
        "interface GigabitEthernet0/0/3",
        "bgp 65101",
        "bgp 65102",
        "ipv6-family unicast",
        "\x1a",
        "dis cur | inc ^(bgp|interface Loop)",
    )
    assert screen == (
        "<R9>sys\nEnter system view, return user view with Ctrl+Z.\n"
        "[R9]sysname CORE-1\n"
        "[CORE-1]int lo 1\n"
        "[CORE-1-LoopBack1]ospfv3 1\n"
        "[CORE-1-ospfv3-1]area 0\n"
        "[CORE-1-ospfv3-1-area-0.0.0.0]interface GigabitEthernet0/0/3\n"
        "[CORE-1-GigabitEthernet0/0/3]bgp 65101\n"
        "[CORE-1-bgp]bgp 65102\n"
        "                ^\nError: Wrong parameter found at '^' position.\n"
        "[CORE-1-bgp]ipv6-family unicast\n"
        "[CORE-1-bgp-af-ipv6]^Z\n<CORE-1>\n<CORE-1>"
        "dis cur | inc ^(bgp|interface Loop)\ninterface LoopBack1\nbgp 65101\n<CORE-1>"
    )


PEER = "peer 2001:db8::2"


VRP_WRONG, COMWARE_WRONG = (f"{prefix} Wrong parameter found at '^' position." for prefix in ("Error:", " %"))


def refusal(prompt: str, typed: str, marker: str, message: str) -> str:
    """What the screen shows when ``typed`` is refused at the last occurrence of ``marker``."""
    return f"{prompt}{typed}\n{' ' * (len(prompt) + typed.rindex(marker))}^\n{message}\n"


def test_vrp_bfd_enables_bfd_in_a_view_of_its_own(tmp_path: Path) -> None:
    screen = transcript("huawei_vrp", tmp_path, "sys", "ipv6", "bfd", "display this", "quit", "dis cur")
    assert "[R9]bfd\n[R9-bfd]display this\n#\nbfd\n#\nreturn\n[R9-bfd]quit\n[R9]" in screen
    assert "#\n ipv6\n#\nbfd\n#\ninterface GigabitEthernet0/0/0\n" in screen  # placed before the interfaces
    assert "bfd" not in transcript("huawei_vrp", tmp_path, "sys", "undo bfd", "dis cur").split("[R9]undo bfd")[1]
    comware = transcript("h3c_comware", tmp_path, "system-view", "bfd")
    assert comware.endswith("[R9]bfd\n    ^\n % Unrecognized command found at '^' position.\n[R9]")


def test_vrp_peer_listen_only(tmp_path: Path) -> None:
    bad = "peer 2001:db8::zz listen-only"
    screen = transcript(
        "huawei_vrp",
        tmp_path,
        "sys",
        "bgp 65001",
        f"{PEER} as-number 65002",
        f"{PEER} listen-only",
        bad,
        "dis cur | begin ^bgp",
    )
    assert screen.endswith(
        "bgp 65001\n peer 2001:DB8::2 as-number 65002\n peer 2001:DB8::2 listen-only\n#\nreturn\n[R9-bgp]"
    )
    assert refusal("[R9-bgp]", bad, "2001", VRP_WRONG) in screen
    comware = transcript("h3c_comware", tmp_path, "system-view", "bgp 65001", f"{PEER} listen-only")
    unrecognized = " % Unrecognized command found at '^' position."
    assert comware.endswith(
        refusal("[R9-bgp-default]", f"{PEER} listen-only", "listen", unrecognized) + "[R9-bgp-default]"
    )


def test_vrp_peer_bfd_enable_and_timers(tmp_path: Path) -> None:
    timers = f"{PEER} bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 3"
    refused = (
        (f"{PEER} bfd min-tx-interval 2 min-rx-interval 300 detect-multiplier 3", "2 "),  # intervals 3-1000 ms
        (f"{PEER} bfd min-tx-interval 300 min-rx-interval 1001 detect-multiplier 3", "1001"),
        (f"{PEER} bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 51", "51"),  # multiplier 3-50
        (f"{PEER} bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 2", "2"),
        ("peer 2001:db8::zz bfd enable", "2001"),
    )
    screen = transcript(
        "huawei_vrp",
        tmp_path,
        "sys",
        "bfd",
        "bgp 65001",
        f"{PEER} as-number 65002",
        timers.replace("300", "100"),
        f"{PEER} bfd enable",
        timers,
        *(line for line, _ in refused),
        "dis cur | begin ^bgp",
        f"undo {PEER} bfd enable",
        "dis cur | inc bfd",
    )
    assert (  # the second timers line replaced the first
        "bgp 65001\n peer 2001:DB8::2 as-number 65002\n"
        " peer 2001:DB8::2 bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 3\n"
        " peer 2001:DB8::2 bfd enable\n#\nreturn\n[R9-bgp]"
    ) in screen
    for line, marker in refused:
        assert refusal("[R9-bgp]", line, marker, VRP_WRONG) in screen, line
    assert screen.endswith(
        "dis cur | inc bfd\nbfd\n peer 2001:DB8::2 bfd min-tx-interval 300 min-rx-interval 300"
        " detect-multiplier 3\n[R9-bgp]"
    )
    assert "Incomplete command" in transcript("huawei_vrp", tmp_path, "sys", "bgp 65001", f"{PEER} bfd")


def test_comware_peer_bfd(tmp_path: Path) -> None:
    screen = transcript(
        "h3c_comware",
        tmp_path,
        "system-view",
        "bgp 65001",
        f"{PEER} as-number 65002",
        f"{PEER} bfd",
        f"{PEER} bfd single-hop",
        f"{PEER} bfd",
        f"{PEER} bfd twohop",
        "dis cur | begin ^bgp",
    )
    assert screen.endswith(
        "bgp 65001\n peer 2001:DB8::2 as-number 65002\n peer 2001:DB8::2 bfd\n#\nreturn\n[R9-bgp-default]"
    )  # one line per peer: the last form typed
    unrecognized = " % Unrecognized command found at '^' position."
    assert refusal("[R9-bgp-default]", f"{PEER} bfd twohop", "twohop", unrecognized) in screen
    assert "peer 2001:DB8::2 bfd multi-hop\n" in transcript(
        "h3c_comware", tmp_path, "system-view", "bgp 65001", f"{PEER} bfd multi-hop", "dis cur | inc bfd"
    )


def test_comware_interface_bfd_timers(tmp_path: Path) -> None:
    refused = (
        ("bfd min-transmit-interval 29", "29"),  # single-hop intervals 30-10000 ms
        ("bfd min-receive-interval 10001", "10001"),
        ("bfd detect-multiplier 2", "2"),  # multiplier 3-50
        ("bfd detect-multiplier 51", "51"),
    )
    lines = ("bfd min-transmit-interval 300", "bfd min-receive-interval 300", "bfd detect-multiplier 3")
    screen = transcript(
        "h3c_comware",
        tmp_path,
        "system-view",
        "interface GigabitEthernet1/0/1",
        "ipv6 address 2001:db8::1/64",
        *lines,
        *(line for line, _ in refused),
        "bfd min-transmit-interval 10000",
        "display this",
    )
    assert screen.endswith(  # a new value replaces the old one
        "#\ninterface GigabitEthernet1/0/1\n ipv6 address 2001:DB8::1/64\n bfd min-transmit-interval 10000\n"
        " bfd min-receive-interval 300\n bfd detect-multiplier 3\n#\nreturn\n[R9-GigabitEthernet1/0/1]"
    )
    for line, marker in refused:
        assert refusal("[R9-GigabitEthernet1/0/1]", line, marker, COMWARE_WRONG) in screen, line
    vrp = transcript("huawei_vrp", tmp_path, "sys", "interface GigabitEthernet0/0/1", lines[0], "display this")
    assert "Error:" in vrp and "min-transmit" not in vrp.split("display this")[1]  # VRP sets the timers per peer


def test_peer_timers_replace_the_old_ones(tmp_path: Path) -> None:
    views: tuple[tuple[Platform, str], ...] = (("huawei_vrp", "[R9-bgp]"), ("h3c_comware", "[R9-bgp-default]"))
    for platform, bgp in views:
        screen = transcript(
            platform,
            tmp_path / platform,
            "system-view",
            "bgp 65001",
            f"{PEER} as-number 65002",
            f"{PEER} timer keepalive 1 hold 3",
            f"{PEER} timer keepalive 10 hold 30",
            "timer keepalive 1 hold 3",
            "timer keepalive 20 hold 60",
            "dis cur | inc timer",
        )
        assert screen.endswith(f" peer 2001:DB8::2 timer keepalive 10 hold 30\n timer keepalive 20 hold 60\n{bgp}")


def test_comware_interactive_save_and_logical_interfaces(tmp_path: Path) -> None:
    screen = transcript(
        "h3c_comware",
        tmp_path,
        "system-view",
        "interface vlan 10",
        "undo interface Vlan-interface10",
        "return",
        "save",
        "y",
        "",
        "y",
    )
    assert "[R9-Vlan-interface10]undo interface Vlan-interface10\n[R9]return" in screen
    assert "Are you sure? [Y/N]:y\nPlease input the file name(*.cfg)[flash:/startup.cfg]\n" in screen
    assert screen.endswith(
        "flash:/startup.cfg exists, overwrite? [Y/N]:y\nValidating file. Please wait...\n"
        "Saved the current configuration to mainboard device successfully.\n<R9>"
    )
    assert "Vlan-interface" not in (read_config(tmp_path, "R9", "saved") or "")


def test_comware_configures_undoes_and_saves(lab: Lab) -> None:
    conn = connect(lab.devices["C0"])
    out = conn.send_config_set(
        [
            "interface GigabitEthernet1/0/1",
            "ipv6 address 2001:db8:2::1 64",
            "shutdown",
            "undo shutdown",
            "quit",
            "bgp 65201",
            "peer 2001:db8:2::2 as-number 65202",
            "address-family ipv6 unicast",
            "peer 2001:db8:2::2 enable",
        ]
    )
    assert "[C0-bgp-default-ipv6]" in out and "%" not in out
    running = conn.send_command("display current-configuration")
    assert "interface GigabitEthernet1/0/1\n ipv6 address 2001:DB8:2::1/64\n#" in running
    assert " address-family ipv6 unicast\n  peer 2001:DB8:2::2 enable" in running
    assert "Saved the current configuration to mainboard device successfully." in conn.save_config()
    conn.disconnect()
    conn = connect(lab.devices["C0"])
    assert "bgp 65201" in conn.send_command("display saved-configuration")
    conn.disconnect()
    assert "bgp 65201" in (read_config(lab.state, "C0", "saved") or "")


def test_errors_are_the_platforms_text(lab: Lab) -> None:
    vrp, comware = connect(lab.devices["V1"]), connect(lab.devices["C1"])
    assert vrp.send_command("dispaly version") == "    ^\nError: Unrecognized command found at '^' position."
    assert comware.send_command("dispaly version") == "    ^\n % Unrecognized command found at '^' position."
    with pytest.raises(ConfigInvalidException, match="Wrong parameter"):
        vrp.send_config_set(["interface GigabitEthernet0/0/2", "ipv6 address 2001:db8::zz/64"], error_pattern=ERROR)
    assert "^\nError: Wrong parameter found at '^' position." in vrp.send_command("ipv6 address 2001:db8::1/129")
    assert "Wrong parameter" in vrp.send_command("interface GigabitEthernet0/0/9")
    assert "Wrong parameter" in vrp.send_command("bgp 0")
    vrp.send_command("interface loopback 3", expect_string=r"\]")
    assert vrp.find_prompt() == "[V1-LoopBack3]"
    comware.send_command("system-view", expect_string=r"\]")
    comware.send_command("interface GigabitEthernet1/0/2", expect_string=r"\]")
    with pytest.raises(ConfigInvalidException, match="Wrong parameter"):
        comware.send_config_set(
            ["ipv6 address 2001:db8::1:2:3:4:5:6:7/64"], error_pattern=ERROR, enter_config_mode=False
        )
    vrp.disconnect()
    comware.disconnect()


def test_twenty_concurrent_sessions_on_ten_devices(lab: Lab) -> None:
    def session(index: int) -> str:
        conn = connect(lab.devices[f"{'VC'[index % 2]}{index // 2 % 5 + 1}"])
        conn.send_config_set([f"interface LoopBack{index}", f"ipv6 address 2001:db8:ff::{index + 1}/128"])
        running = str(conn.send_command(f"display current-configuration | include 2001:DB8:FF::{index + 1}/"))
        conn.disconnect()
        return running

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(session, range(20)))
    assert results == [f" ipv6 address 2001:DB8:FF::{i + 1}/128" for i in range(20)]
    assert "interface LoopBack0\n ipv6 address 2001:DB8:FF::1/128" in (read_config(lab.state, "V1") or "")


def _save_one_change_the_other(device: DeviceSpec) -> str:
    """Save LoopBack1's address, leave LoopBack2's unsaved; return the running config after reconnecting."""
    conn = connect(device)
    conn.send_config_set(["interface LoopBack1", "ipv6 address 2001:db8:3::1/128"])
    conn.save_config()
    for command in ("system-view", "interface LoopBack2", "ipv6 address 2001:db8:3::2/128"):
        conn.send_command(command, expect_string=r"\]")
    conn.disconnect()
    conn = connect(device)
    running = str(conn.send_command("display current-configuration"))
    conn.disconnect()
    return running


def _running(device: DeviceSpec) -> str:
    conn = connect(device)
    running = str(conn.send_command("display current-configuration"))
    conn.disconnect()
    return running


def test_restart_keeps_saved_loses_unsaved(tmp_path: Path) -> None:
    devices = list(make_spec(tmp_path / "devices.json", 1).values())
    args = (tmp_path / "devices.json", tmp_path / "state", tmp_path / "netsim.log")
    host_key = tmp_path / "state" / "ssh_host_ed25519_key"
    ledger = Ledger(tmp_path)
    sim = NetsimProcess.start(*args, ledger=ledger)
    assert sim.alive() and [e.pid for e in ledger.entries("netsim")] == [sim.pid]
    with ThreadPoolExecutor(2) as pool:
        assert all("2001:DB8:3::2/128" in running for running in pool.map(_save_one_change_the_other, devices))
    key = host_key.read_bytes()
    sim.stop()
    assert not sim.alive() and process_start_time(sim.pid) is None and ledger.entries("netsim") == []
    assert not (tmp_path / "state" / "ready.json").exists()
    sim = NetsimProcess.start(*args, ledger=ledger)
    try:
        assert host_key.read_bytes() == key
        with ThreadPoolExecutor(2) as pool:
            for running in pool.map(_running, devices):
                assert "2001:DB8:3::1/128" in running and "2001:DB8:3::2/128" not in running
        assert all("LoopBack2" not in (read_config(args[1], d.name) or "") for d in devices)
    finally:
        sim.stop()
    assert process_start_time(sim.pid) is None


def test_start_fails_visibly_on_a_taken_port(tmp_path: Path) -> None:
    devices = make_spec(tmp_path / "devices.json", 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", devices["V0"].port))
        taken.listen()
        with pytest.raises(LabError, match="cannot listen"):
            NetsimProcess.start(tmp_path / "devices.json", tmp_path / "state", tmp_path / "netsim.log")


def test_stock_huawei_configures_undoes_and_saves(lab: Lab) -> None:
    saved = lab.stock_huawei.result(timeout=60)
    assert "ipv6 address 2001:DB8:1::1/64" in saved and "peer 2001:DB8:1::2 enable" in saved
    assert "ipv6 address 2001:DB8:1::1/64" in (read_config(lab.state, "V0", "saved") or "")
