"""Config diff on a router-sized configuration (10,000 lines): exactly the changes, nothing else (issue 9).

How fast it is is measured in bench/config_diff.py, never asserted here.
"""

from __future__ import annotations

from nxgov.network.drivers import config
from nxgov.network.drivers.vrp import VrpDriver

VRP = VrpDriver.dialect.syntax
PORTS = 1000  # 6 lines each, plus ACL rules, BGP peers and static routes: 10,000 lines


def _vrp(*, changed: bool = False) -> str:
    """A VRP display; ``changed``: the candidate (addresses in lower case, as rendered) with a handful of changes."""
    def a(address: str) -> str:
        return address.lower() if changed else address

    out = ["!Software Version V200R010C10SPC700", "#", " sysname R-YC-CORE-01", "#"]
    for i in range(PORTS):
        out += [f"interface GigabitEthernet{i // 48}/0/{i % 48}",
                f" description {'to-plane-b' if changed and i == 500 else f'to-ce-{i:04d}'}",
                " ipv6 enable", f" ipv6 address {a(f'2001:DB8:{i:X}::1/127')}"]
        if i == 700:
            out.append(" undo ipv6 mtu" if changed else " ipv6 mtu 1500")
        out += [" undo shutdown", "#"]
    out += ["acl ipv6 number 3000"] + [f" rule {5 * (i + 1)} permit ipv6 source {a(f'2001:DB8:{i:X}::/48')}"
                                       for i in range(1000)] + ["#"]
    peers = [a(f"2001:DB8:{i:X}::") for i in range(500)] + ([a("2001:DB8:FFFE::")] if changed else [])
    out += ["bgp 65101"] + [f" peer {peer} as-number {65200 + i}" for i, peer in enumerate(peers)]
    out += [" #", " ipv6-family unicast"] + [f"  peer {peer} enable" for peer in peers] + ["#"]
    out += [f"ipv6 route-static {a(f'2001:DB8:{i:X}::')} 48 NULL0" for i in range(1987 + (1 if changed else 0))]
    if changed:
        out += ["interface LoopBack100", f" ipv6 address {a('2001:DB8:FFFF::100/128')}"]
    return "\n".join([*out, "#", "return", ""])


def test_a_10000_line_diff_is_exactly_the_changes() -> None:
    running_text = _vrp()
    assert running_text.count("\n") == 10_000
    running, candidate = config.parse(running_text, VRP), config.parse(_vrp(changed=True), VRP)

    todo = config.missing(running, candidate, VRP)
    assert [step.line for step in config.commands(todo, VRP)] == [
        "interface GigabitEthernet10/0/20", "description to-plane-b", "quit",
        "interface GigabitEthernet14/0/28", "undo ipv6 mtu", "quit",
        "bgp 65101", "peer 2001:db8:fffe:: as-number 65700",
        "ipv6-family unicast", "peer 2001:db8:fffe:: enable", "quit", "quit",
        "ipv6 route-static 2001:db8:7c3:: 48 NULL0",
        "interface LoopBack100", "ipv6 address 2001:db8:ffff::100/128", "quit"]

    after = config.merged(running, todo)  # as text: "undo ipv6 mtu" is added, "ipv6 mtu 1500" stays
    assert [step.line for step in config.commands(config.missing(after, candidate, VRP), VRP)] == [
        "interface GigabitEthernet14/0/28", "undo ipv6 mtu", "quit"]
    diff = config.unified_diff(config.render(running, VRP), config.render(after, VRP), "R").splitlines()
    assert [line for line in diff[2:] if line[:1] in "+-"] == [
        "+ description to-plane-b", "+ undo ipv6 mtu", "+  peer 2001:db8:fffe:: enable",
        "+ peer 2001:db8:fffe:: as-number 65700", "+#", "+ipv6 route-static 2001:db8:7c3:: 48 NULL0", "+#",
        "+interface LoopBack100", "+ ipv6 address 2001:db8:ffff::100/128"]

    assert config.differences(running, after) == [
        "bgp 65101 > ipv6-family unicast > peer 2001:db8:fffe:: enable",
        "bgp 65101 > peer 2001:db8:fffe:: as-number 65700",
        "interface GigabitEthernet10/0/20 > description to-plane-b",
        "interface GigabitEthernet14/0/28 > undo ipv6 mtu",
        "interface LoopBack100", "interface LoopBack100 > ipv6 address 2001:db8:ffff::100/128",
        "ipv6 route-static 2001:db8:7c3:: 48 NULL0"]
    assert config.undo_commands(running, after, VRP) == [
        "undo interface LoopBack100", "undo ipv6 route-static 2001:db8:7c3:: 48 NULL0",
        "bgp 65101", "undo peer 2001:db8:fffe:: as-number 65700",
        "ipv6-family unicast", "undo peer 2001:db8:fffe:: enable", "quit", "quit",
        "interface GigabitEthernet14/0/28", "ipv6 mtu", "quit",
        "interface GigabitEthernet10/0/20", "undo description to-plane-b", "quit"]
    assert config.differences(running, config.parse(running_text, VRP)) == []


def test_equal_keys_match_the_first_line_and_negations_match_longer_lines() -> None:
    running = config.parse("interface Tunnel1\n ipv6 mtu 1400\n#\ninterface Tunnel1\n ipv6 enable\n#\n"
                           "ipv6-family\n", VRP)
    candidate = config.parse("interface Tunnel1\n ipv6 enable\n undo ipv6 mtu\n#\nundo ipv6\n#\n"
                             "interface Tunnel2\n ipv6 enable\n#\ninterface Tunnel2\n description b\n", VRP)
    todo = config.missing(running, candidate, VRP)
    assert [step.line for step in config.commands(todo, VRP)] == [
        "interface Tunnel1", "ipv6 enable", "undo ipv6 mtu", "quit",
        "interface Tunnel2", "ipv6 enable", "quit", "interface Tunnel2", "description b", "quit"]
    merged = config.merged(running, todo)
    assert [(node.text, [child.text for child in node.children]) for node in merged] == [
        ("interface Tunnel1", ["ipv6 mtu 1400", "ipv6 enable", "undo ipv6 mtu"]),
        ("interface Tunnel1", ["ipv6 enable"]), ("ipv6-family", []),
        ("interface Tunnel2", ["ipv6 enable", "description b"])]


def test_a_node_keys_its_current_text() -> None:
    node = config.Node("peer 2001:DB8:0::2  enable")
    assert node.key == "peer 2001:db8::2 enable"
    node.text = "peer 2001:DB8::3 enable"
    assert node.key == "peer 2001:db8::3 enable"
