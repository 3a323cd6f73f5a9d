"""Config diff benchmark: a router's running configuration against a changed candidate, side by side (never asserted).

The work is what one ``compare_config`` does (a commit does it 3-5 times): parse the running and the
candidate configuration, work out the lines the merge must send, merge, render both and make the
operator's unified diff; then what a rollback plans (undo lines, lines to re-add, remaining
differences). The configurations have 1,000, 4,000 and 10,000 lines (interfaces, static routes, an
IPv6 ACL, BGP peers, as a region or city router carries), the candidate spells IPv6 addresses in lower
case as the renderer does, and differs in a handful of lines.

1. nxgov now (``nxgov.network.drivers.config``): the first diff of a text, and the same again (as a
   commit's later diffs, with the IPv6 spellings cached); the best of 3 each.
2. nxgov before the fix (``git show HEAD:nxgov/network/drivers/config.py`` as of the issue, or
   ``--before REV``), up to ``--before-max`` lines (default 4,000: it is quadratic, ~80 s at 4,000);
   larger sizes are extrapolated, as it is said in the output. Its output is checked to equal nxgov's.
3. hier_config 3.x (``huawei_vrp`` driver), the peer: parse both, ``difference`` (the candidate's lines
   the running lacks: a merge, as nxgov's) and ``WorkflowRemediation.remediation_config`` (a replace,
   with ``undo`` lines). Installed into bench/.venv-peers only (``pip install hier-config``), run there
   as a subprocess; left out with ``--skip-peer``. It compares text exactly, so it is given the
   candidate with addresses as the device spells them (upper case).

Goal: 10,000 lines in under 0.5 s for nxgov.

Run: ``.venv/bin/python bench/config_diff.py [--sizes 1000,4000,10000] [--before-max 4000] [--skip-peer]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nxgov.network.drivers import config  # noqa: E402
from nxgov.network.drivers.vrp import VrpDriver  # noqa: E402

PEERS = ROOT / "bench" / ".venv-peers"
BEFORE = "d9657e5"
"""The last commit with the quadratic config.py."""
SYNTAX = VrpDriver.dialect.syntax

PEER_SCRIPT = """
import json, sys, time
from pathlib import Path
from hier_config import Platform, WorkflowRemediation, get_hconfig

running_text, candidate_text = Path(sys.argv[1]).read_text(), Path(sys.argv[2]).read_text()
start = time.perf_counter()
running = get_hconfig(Platform.HUAWEI_VRP, running_text)
candidate = get_hconfig(Platform.HUAWEI_VRP, candidate_text)
parsed = time.perf_counter()
merge = candidate.difference(running)
merged = time.perf_counter()
remediation = WorkflowRemediation(running, candidate).remediation_config
done = time.perf_counter()
print(json.dumps({"parse": parsed - start, "difference": merged - parsed, "remediation": done - merged,
                  "merge_lines": len(list(merge.all_children())),
                  "remediation_lines": len(list(remediation.all_children()))}))
"""


def vrp_config(lines: int, *, lower: bool = False, changed: bool = False) -> str:
    """A VRP display of about ``lines`` lines; ``changed``: the candidate, with the changes of :data:`CHANGES`."""
    def a(address: str) -> str:
        return address.lower() if lower else address

    units = max(lines // 20, 1)  # a unit: 2 interfaces (12 lines), 3 routes, 1 ACL rule, 1 peer (4 lines)
    out = ["!Software Version V200R010C10SPC700", "#", " sysname R-YC-CORE-01", "#", " ipv6", "#"]
    for i in range(2 * units):
        description = "to-plane-b" if changed and i == 3 else f"to-ce-{i:05d}"
        out += [f"interface GigabitEthernet{i // 48}/0/{i % 48}", f" description {description}", " ipv6 enable",
                f" ipv6 address {a(f'2001:DB8:{i:X}::1/127')}"]
        if changed and i == 5:
            out.append(f" ipv6 address {a(f'2001:DB8:{i:X}:1::1/64')}")
        if i == 7:
            out.append(" undo ipv6 mtu" if changed else " ipv6 mtu 1500")
        out += [" undo shutdown", "#"]
    if changed:
        out += ["interface LoopBack100", f" ipv6 address {a('2001:DB8:FFFF::100/128')}", "#"]
    out += ["acl ipv6 number 3000"] + [f" rule {5 * (i + 1)} permit ipv6 source {a(f'2001:DB8:{i:X}::/48')}"
                                       for i in range(units)] + ["#"]
    peers = [a(f"2001:DB8:{i:X}::") for i in range(units)] + ([a("2001:DB8:FFFE::")] if changed else [])
    out += ["bgp 65101", " router-id 10.0.0.1"]
    for i, peer in enumerate(peers):
        out += [f" peer {peer} as-number {65200 + i % 1000}", f" peer {peer} description ce-{i:05d}"]
    out += [" #", " ipv6-family unicast"] + [f"  peer {peer} enable" for peer in peers] + [
        f"  peer {peer} bfd enable" for peer in peers] + ["#"]
    out += [f"ipv6 route-static {a(f'2001:DB8:{i:X}::')} 48 NULL0" for i in range(3 * units)]
    if changed:
        out.append(f"ipv6 route-static {a('2001:DB8:FFFD::')} 48 NULL0")
    out += ["#", "return"]
    return "\n".join(out) + "\n"


CHANGES = ["interface GigabitEthernet0/0/3", "description to-plane-b", "quit",
           "interface GigabitEthernet0/0/5", "ipv6 address 2001:db8:5:1::1/64", "quit",
           "interface GigabitEthernet0/0/7", "undo ipv6 mtu", "quit",
           "interface LoopBack100", "ipv6 address 2001:db8:ffff::100/128", "quit",
           "bgp 65101", "peer 2001:db8:fffe:: as-number {asn}",
           "peer 2001:db8:fffe:: description ce-{n:05d}",
           "ipv6-family unicast", "peer 2001:db8:fffe:: enable", "peer 2001:db8:fffe:: bfd enable", "quit", "quit",
           "ipv6 route-static 2001:db8:fffd:: 48 NULL0"]
"""What the merge must send for ``vrp_config(n, lower=True, changed=True)`` (``{n}``: the new peer's number)."""


def compare(lib: Any, running_text: str, candidate_text: str) -> tuple[list[str], str, list[str], list[str]]:
    """What ``compare_config`` and a rollback do with ``lib`` (a config module): commands, diff, undo, remaining."""
    candidate = lib.parse(candidate_text, SYNTAX)
    running = lib.parse(running_text, SYNTAX)
    todo = lib.missing(running, candidate, SYNTAX)
    after = lib.merged(running, todo)
    diff = lib.unified_diff(lib.render(running, SYNTAX), lib.render(after, SYNTAX), "R-YC-CORE-01")
    steps = [step.line for step in lib.commands(todo, SYNTAX)]
    undo = lib.undo_commands(running, after, SYNTAX)
    readd = [step.line for step in lib.commands(lib.missing(after, running, SYNTAX), SYNTAX)]
    return steps, diff, undo + readd, lib.differences(running, after)


def before_module(rev: str) -> Any:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:nxgov/network/drivers/config.py"],
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("config_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:config.py", "exec"), module.__dict__)  # our own history
    return module


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def peer(running_text: str, candidate_text: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="nxgov-bench-") as scratch:
        running, candidate = Path(scratch) / "running.cfg", Path(scratch) / "candidate.cfg"
        running.write_text(running_text)
        candidate.write_text(candidate_text)
        proc = subprocess.run([str(PEERS / "bin" / "python"), "-c", PEER_SCRIPT, str(running), str(candidate)],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the hier_config run failed:\n{proc.stderr[-2000:]}")
    report: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,4000,10000", help="configuration sizes in lines")
    parser.add_argument("--before", default=BEFORE, help="the git revision of the old config.py")
    parser.add_argument("--before-max", type=int, default=4000, help="largest size to run the old code on")
    parser.add_argument("--skip-peer", action="store_true", help="leave hier_config out")
    args = parser.parse_args()
    if not args.skip_peer and not (PEERS / "bin" / "python").exists():
        raise SystemExit(f"no {PEERS}: python3 -m venv {PEERS} && {PEERS}/bin/pip install hier-config "
                         "(or run with --skip-peer)")
    old = before_module(args.before)
    old_rate: float | None = None  # seconds per line², to extrapolate the quadratic old code

    print(f"{'lines':>7} | {'nxgov now: first, again':>23} | {'nxgov before':>22} | "
          f"{'hier_config parse+difference':>29} | {'hier_config parse+remediation':>30}")
    for size in (int(s) for s in args.sizes.split(",")):
        running_text = vrp_config(size)
        candidate_text = vrp_config(size, lower=True, changed=True)
        lines = running_text.count("\n")
        now = partial(compare, config, running_text, candidate_text)
        runs = []
        for _ in range(3):
            config._ipv6_key.cache_clear()  # the first diff of a text
            runs.append(timed(now))
        seconds, result = min(runs, key=lambda run: run[0])
        again = min(timed(now)[0] for _ in range(3))
        units = max(size // 20, 1)
        expected = [line.format(n=units, asn=65200 + units % 1000) for line in CHANGES]
        if result[0] != expected:
            raise SystemExit(f"{lines} lines: nxgov sends {result[0]!r}, not {expected!r}")

        if size <= args.before_max:
            before, old_result = timed(partial(compare, old, running_text, candidate_text))
            if old_result != result:
                raise SystemExit(f"{lines} lines: the old code's output differs from the new")
            old_rate = before / lines ** 2
            before_text = f"{before:.2f} s ({before / seconds:,.0f}x)"
        elif old_rate is not None:
            before_text = f"~{old_rate * lines ** 2:.0f} s (extrapolated)"
        else:
            before_text = "not run"

        if args.skip_peer:
            difference_text = remediation_text = "not run"
        else:
            report = peer(running_text, vrp_config(size, changed=True))
            difference_text = f"{report['parse'] + report['difference']:.2f} s"
            remediation_text = f"{report['parse'] + report['remediation']:.2f} s"
        now_text = f"{seconds:.3f} s, {again:.3f} s"
        print(f"{lines:>7,} | {now_text:>23} | {before_text:>22} | {difference_text:>29} | "
              f"{remediation_text:>30}")


if __name__ == "__main__":
    main()
