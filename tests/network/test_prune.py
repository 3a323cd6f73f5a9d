"""What ``net push --prune`` types, per platform, from fixtures (one directory per case, as NAPALM's tests).

Each case in ``tests/network/prune/<platform>/<case>/`` holds ``running.cfg`` (what the device shows),
``pushed.cfg`` (what nxgov made on it: the archive's ``pushed.cfg``), ``candidate.cfg`` (the new render) and
``commands.txt``: every line a push with prune types, removals first. ``kept.txt`` (optional) lists lines of
the running configuration nxgov did not make, which must stay; ``pushed.cfg`` may be missing (never pushed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nxgov.network.drivers import config
from nxgov.network.drivers.comware import ComwareDriver
from nxgov.network.drivers.frr import FrrDriver
from nxgov.network.drivers.vrp import VrpDriver

FIXTURES = Path(__file__).parent / "prune"
SYNTAX = {"frr": FrrDriver.dialect.syntax, "vrp": VrpDriver.dialect.syntax, "comware": ComwareDriver.dialect.syntax}
CASES = sorted(path for path in FIXTURES.glob("*/*") if path.is_dir())


def plan(case: Path) -> tuple[list[str], list[config.Node]]:
    """The lines a push with prune types, and the running configuration after them."""
    syntax = SYNTAX[case.parent.name]
    pushed = case / "pushed.cfg"
    running = config.parse((case / "running.cfg").read_text(), syntax)
    made = config.parse(pushed.read_text() if pushed.exists() else "", syntax)
    candidate = config.parse((case / "candidate.cfg").read_text(), syntax)
    removals, pruned = config.prune(running, made, candidate, syntax)
    todo = config.missing(pruned, candidate, syntax)
    lines = [step.line for step in (*config.commands(removals, syntax), *config.commands(todo, syntax))]
    return lines, config.merged(pruned, todo)


@pytest.mark.parametrize("case", CASES, ids=[f"{case.parent.name}-{case.name}" for case in CASES])
def test_removal_commands(case: Path) -> None:
    lines, after = plan(case)
    assert lines == (case / "commands.txt").read_text().splitlines()
    syntax = SYNTAX[case.parent.name]
    shown = set(config.differences([], after))
    kept = case / "kept.txt"
    for line in kept.read_text().splitlines() if kept.exists() else ():
        assert config.line_key(line) in {path.rsplit(" > ", 1)[-1] for path in shown}, line
    candidate = config.parse((case / "candidate.cfg").read_text(), syntax)
    assert config.missing(after, candidate, syntax) == []  # the device then holds the whole candidate


@pytest.mark.parametrize("case", CASES, ids=[f"{case.parent.name}-{case.name}" for case in CASES])
def test_pruning_again_changes_nothing(case: Path) -> None:
    syntax = SYNTAX[case.parent.name]
    _, after = plan(case)
    candidate = config.parse((case / "candidate.cfg").read_text(), syntax)
    removals, pruned = config.prune(after, candidate, candidate, syntax)
    assert removals == [] and config.missing(pruned, candidate, syntax) == []


def test_a_line_nxgov_never_pushed_is_never_removed() -> None:
    syntax = FrrDriver.dialect.syntax
    running = config.parse("interface eth4\n description by-hand\nexit\n!\nipv6 route ::/0 blackhole\n", syntax)
    candidate = config.parse("ipv6 route 2001:db8::/48 blackhole\n", syntax)
    assert config.prune(running, [], candidate, syntax) == ([], running)
    made = config.parse("interface eth4\n description by-hand\nexit\n", syntax)
    removals, _ = config.prune(running, made, candidate, syntax)
    assert [step.line for step in config.commands(removals, syntax)] == ["interface eth4", "no description", "exit"]


def test_negations_nxgov_pushed_are_not_undone() -> None:
    syntax = FrrDriver.dialect.syntax
    made = config.parse("router bgp 65001\n no bgp default ipv4-unicast\n bgp router-id 10.0.0.1\n", syntax)
    running = config.parse("router bgp 65001\n bgp router-id 10.0.0.1\n no bgp default ipv4-unicast\n", syntax)
    candidate = config.parse("router bgp 65001\n bgp router-id 10.0.0.1\n", syntax)
    assert config.prune(running, made, candidate, syntax)[0] == []


@pytest.mark.parametrize(("syntax", "line", "removal"), [
    (FrrDriver.dialect.syntax, "neighbor 2001:db8::9 remote-as 4200000104", "no neighbor 2001:db8::9"),
    (FrrDriver.dialect.syntax, "neighbor 2001:db8::9 description frr-640104-a", "no neighbor 2001:db8::9 description "
                                                                        "frr-640104-a"),
    (FrrDriver.dialect.syntax, "description to-640104-a", "no description"),
    (FrrDriver.dialect.syntax, "ipv6 address 2001:db8::8/127", "no ipv6 address 2001:db8::8/127"),
    (VrpDriver.dialect.syntax, "peer 2001:DB8::9 as-number 4200000104", "undo peer 2001:DB8::9"),
    (VrpDriver.dialect.syntax, "peer 2001:DB8::9 description frr-640104-a", "undo peer 2001:DB8::9 description"),
    (VrpDriver.dialect.syntax, "ipv6 route-static 2001:DB8:6412:: 48 NULL0",
     "undo ipv6 route-static 2001:DB8:6412:: 48 NULL0"),
    (ComwareDriver.dialect.syntax, "peer 2001:DB8::9 as-number 4200000104", "undo peer 2001:DB8::9"),
    (ComwareDriver.dialect.syntax, "description to-640104-b", "undo description"),
    (ComwareDriver.dialect.syntax, "network 2001:DB8:6412:: 48", "undo network 2001:DB8:6412:: 48"),
])
def test_removal_line(syntax: config.Syntax, line: str, removal: str) -> None:
    assert config.removal(line, syntax) == removal
