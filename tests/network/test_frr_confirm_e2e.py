"""Confirm or revert on the lab's real FRR routers, through the real CLI (issue 12 §6): a push that breaks plane A's
BGP on the county's router is not confirmed by verify and is reverted without anyone acting (audited, exit 1); a
good push is confirmed by verify; with ``--no-wait``, ``net revert-due`` reverts the overdue change.

Reuses :mod:`tests.network.test_frr_e2e`'s fixture (bare routers cabled from the test's own IPv6 plan, bare again
afterwards). Only the extranet part of the lab is rebuilt (``nxgov lab up --only extranet``); the rest of the lab
is never brought up or down here (others use it).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nxgov.lab.frr import Extranet
from nxgov.lab.openstack import default_lab_dir
from nxgov.network import confirm
from tests.lab.conftest_netns import wait_until
from tests.network.test_frr_e2e import CONVERGE_S, COUNTY, Flow, all_both_up, flow

__all__ = ["flow"]
pytestmark = pytest.mark.lab
BAD_AS = "4200000099"


@pytest.fixture(scope="module")
def lab_session() -> Iterator[dict[str, object]]:
    """The lab directory, without ``nxgov lab up`` of the whole lab (others may be using it): flow rebuilds only the
    extranet part (with its management bridge). When that part was not up before, it is taken down afterwards."""
    if os.geteuid() != 0:
        pytest.skip("the rehearsal lab needs root")
    lab_dir = default_lab_dir()
    was_up = Path("/sys/class/net/nxl-mgmt").exists()
    yield {"lab_dir": lab_dir}
    if not was_up:
        Extranet(lab_dir).down()


@pytest.fixture(scope="module")
def configured(flow: Flow) -> Flow:
    pushed, _ = flow.push()
    assert pushed.code == 0, pushed.out + pushed.err
    wait_until(flow.extranet.established, CONVERGE_S, "a BGP session Established per lab link")
    flow.verify_until(all_both_up, "every site both-up")
    return flow


def _candidates(flow: Flow, directory: Path, edit: str) -> Path:
    """The county's rendered configuration in ``directory``, with plane A's peer given a wrong AS (``bad``) or with
    a harmless prefix list added (``good``)."""
    rendered = flow.nx("net", "render", "--out", str(directory))
    assert rendered.code == 0, rendered.err
    path = directory / f"{COUNTY}.cfg"
    text = path.read_text()
    if edit == "bad":
        address = next(line.split()[1] for line in text.splitlines()
                       if line.startswith(" neighbor ") and " description plane A " in line)
        old = next(line for line in text.splitlines() if line.startswith(f" neighbor {address} remote-as "))
        text = text.replace(old, f" neighbor {address} remote-as {BAD_AS}")
    else:
        text = text.replace("!\ninterface", "!\nipv6 prefix-list confirm-e2e seq 5 permit 2001:db8:7000::/48\n!\n"
                                            "interface", 1)
    path.write_text(text)
    return directory


def _audit(flow: Flow, command: str) -> list[dict[str, Any]]:
    lines = (flow.state.parent / "audit.jsonl").read_text().splitlines()
    return [record for record in map(json.loads, lines) if record["command"] == command]


def test_a_push_that_breaks_plane_a_is_reverted_without_anyone_acting(configured: Flow, tmp_path: Path) -> None:
    flow = configured
    before = flow.extranet.vtysh(COUNTY, "show running-config")
    candidates = _candidates(flow, tmp_path, "bad")
    started = time.monotonic()
    result = flow.nx("-o", "json", "net", "push", "-d", COUNTY, "--candidates", str(candidates),
                     "--confirm-within", "20s", "--yes")
    took = time.monotonic() - started
    assert result.code == 1, result.out + result.err
    document = result.json()
    [device] = document["devices"]
    assert device["status"] == "changed" and any(BAD_AS in line for line in device["commands"])
    outcome = document["confirm"]
    assert outcome["confirmed"] == [] and outcome["revert_failed"] == [] and outcome["pending"] == []
    [reverted] = outcome["reverted"]
    print(f"\nbad push: not confirmed, reverted {took:.1f} s after the push started; reason: {reverted['reason']}")
    assert reverted["device"] == COUNTY and "plane A was up before the push" in reverted["reason"]
    assert took >= 20
    assert flow.extranet.vtysh(COUNTY, "show running-config") == before
    [record] = _audit(flow, "net revert")
    assert (record["target"], record["result"]) == (COUNTY, "changed")
    assert record["details"]["push"] == outcome["push"] and "plane A" in record["details"]["reason"]
    assert _audit(flow, "net confirm") == [] and confirm.open_changes(flow.state) == []
    flow.verify_until(all_both_up, "every site both-up again after the revert")


def test_a_good_push_is_confirmed_by_verify_and_nothing_reverted(configured: Flow, tmp_path: Path) -> None:
    flow = configured
    candidates = _candidates(flow, tmp_path, "good")
    result = flow.nx("-o", "json", "net", "push", "-d", COUNTY, "--candidates", str(candidates),
                     "--confirm-within", "30s", "--yes")
    assert result.code == 0, result.out + result.err
    outcome = result.json()["confirm"]
    assert [c["device"] for c in outcome["confirmed"]] == [COUNTY] and outcome["reverted"] == []
    assert "both-up" in outcome["confirmed"][0]["reason"]
    assert "ipv6 prefix-list confirm-e2e seq 5" in flow.extranet.vtysh(COUNTY, "show running-config")
    [record] = [r for r in _audit(flow, "net confirm") if r["details"]["push"] == outcome["push"]]
    assert record["target"] == COUNTY and record["details"]["by"] == "verify"
    assert confirm.open_changes(flow.state) == []


def test_no_wait_leaves_it_pending_and_revert_due_reverts_it_when_overdue(configured: Flow, tmp_path: Path) -> None:
    flow = configured
    before = flow.extranet.vtysh(COUNTY, "show running-config")
    candidates = _candidates(flow, tmp_path, "bad")
    result = flow.nx("-o", "json", "net", "push", "-d", COUNTY, "--candidates", str(candidates),
                     "--confirm-within", "10s", "--no-wait", "--yes")
    assert result.code == 0, result.out + result.err
    [pending] = result.json()["confirm"]["pending"]
    assert pending["device"] == COUNTY and BAD_AS in flow.extranet.vtysh(COUNTY, "show running-config")
    again = flow.nx("net", "push", "-d", COUNTY, "--yes")
    assert again.code == 2 and "awaits confirmation" in again.err
    looked = flow.nx("-o", "json", "net", "revert-due", "--dry-run")
    assert looked.code == 0 and looked.json()["confirmed"] == [], looked.out + looked.err
    while confirm.now() < confirm.open_changes(flow.state)[0].deadline:
        time.sleep(0.5)
    due = flow.nx("-o", "json", "net", "revert-due")
    assert due.code == 1, due.out + due.err
    assert [r["device"] for r in due.json()["reverted"]] == [COUNTY]
    assert flow.extranet.vtysh(COUNTY, "show running-config") == before
    assert [r["details"]["push"] for r in _audit(flow, "net revert")][-1] == pending["push"]
    quiet = flow.nx("-o", "json", "net", "revert-due")
    assert quiet.code == 0 and quiet.json()["pending"] == []
    flow.verify_until(all_both_up, "every site both-up again after the revert")
