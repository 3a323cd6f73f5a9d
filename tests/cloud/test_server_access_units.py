"""No lab needed: the keypair of ``server_access`` in desired state, plan and drift (made where servers go, servers
boot with it, a server without it is created again once, a new key replaces the keypair, never pruned)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nxgov.cloud import checks, desired
from nxgov.cloud.actual import Actual, NodeFacts
from nxgov.cloud.desired import Context
from nxgov.cloud.drift import find
from nxgov.cloud.plan import diff
from nxgov.cloud.resources import Resource
from nxgov.cloud.servers import addresses
from nxgov.estate.model import Estate
from tests.cloud.conftest import lab_shape

CONTEXT = Context(identity_node={"yinchuan": "yinchuan", "zhongwei": "yinchuan"},
                  users={"yinchuan": frozenset({"admin"})}, me={"yinchuan": "admin"})
RESIZE = {"yinchuan": True, "zhongwei": True}


def _key(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[Estate, str]:
    """The lab shape with server_access on a key of its own, and that key's public half."""
    public = _key(tmp_path / "servers.key")
    creds = tmp_path / "servers.yaml"
    creds.write_text(f"username: root\nssh_key: {tmp_path / 'servers.key'}\n", encoding="utf-8")
    creds.chmod(0o600)
    doc = lab_shape("unit")
    doc["credentials"]["lab-servers"] = {"file": str(creds)}
    return Estate.model_validate(doc), public


def _existing(estate: Estate) -> list[Resource]:
    return [r.model_copy(update={"id": r.key}) for r in desired.build(estate, CONTEXT).resources]


def test_keypair_on_every_node_with_servers_and_every_server_boots_with_it(keyed: tuple[Estate, str]) -> None:
    estate, public = keyed
    resources = desired.build(estate, CONTEXT).resources
    keypairs = [r for r in resources if r.kind == "keypair"]
    assert sorted(r.node for r in keypairs) == ["yinchuan", "zhongwei"]
    assert all(r.name == "nxgov-ops" and r.attrs == {"public_key": public, "user": "admin"} for r in keypairs)
    servers = [r for r in resources if r.kind == "server"]
    assert servers and all(r.attrs["key_name"] == "nxgov-ops" for r in servers)


def test_without_server_access_no_keypair_and_no_key_name(keyed: tuple[Estate, str]) -> None:
    estate = keyed[0].model_copy(update={"server_access": None})
    resources = desired.build(estate, CONTEXT).resources
    assert not [r for r in resources if r.kind == "keypair"]
    assert all("key_name" not in r.attrs for r in resources if r.kind == "server")


def test_a_server_without_the_key_is_created_again_once(keyed: tuple[Estate, str]) -> None:
    estate, _ = keyed
    wanted = desired.build(estate, CONTEXT).resources
    before = [r.model_copy(update={"attrs": {**r.attrs, "key_name": None}}) if r.kind == "server" else r
              for r in _existing(estate)]
    changes, _ = diff(wanted, before, prune=False, can_resize=RESIZE)
    servers = [c for c in changes if c.resource.kind == "server"]
    assert servers and all(c.action == "replace" and c.reason.startswith("key_name: Nova puts a server's keypair in "
                                                                         "only when it is created") for c in servers)
    assert {c.resource.kind for c in changes} == {"server", "attachment"}
    facts = NodeFacts(flavors={}, flavor_ids={}, images={}, compute_hosts=1)
    drift = find(estate, Actual(before, CONTEXT, {"yinchuan": facts, "zhongwei": facts}))
    assert {(c.kind, c.detail.split(":")[0]) for c in drift.changed} == {("server", "key_name")}
    after, _ = diff(wanted, _existing(estate), prune=False, can_resize=RESIZE)
    assert after == []


def test_a_new_key_replaces_the_keypair_and_warns_for_the_servers_keeping_the_old(keyed: tuple[Estate, str]) -> None:
    estate, _ = keyed
    wanted = desired.build(estate, CONTEXT).resources
    old = [r.model_copy(update={"attrs": {**r.attrs, "public_key": "ssh-ed25519 AAAAold"}}) if r.kind == "keypair"
           else r for r in _existing(estate)]
    changes, _ = diff(wanted, old, prune=False, can_resize=RESIZE)
    assert [(c.action, c.key) for c in changes] == [("replace", "yinchuan/keypair/nxgov-ops"),
                                                    ("replace", "zhongwei/keypair/nxgov-ops")]
    assert changes[0].reason.startswith("public_key: a keypair's key cannot change")
    warnings = checks.keypair_warnings(changes, old)
    assert len(warnings) == 2 and "unitd-web-web-1" in warnings[0] and "old key only" in warnings[0]


def test_keypairs_are_never_pruned_nor_orphans(keyed: tuple[Estate, str]) -> None:
    estate, _ = keyed
    theirs = Resource(kind="keypair", node="yinchuan", department="", name="alice-laptop", id="alice-laptop",
                      attrs={"public_key": "ssh-ed25519 AAAAalice", "user": "admin"})
    existing = [*_existing(estate), theirs]
    changes, unpruned = diff(desired.build(estate, CONTEXT).resources, existing, prune=True, can_resize=RESIZE)
    assert changes == [] and unpruned == 0
    facts = NodeFacts(flavors={}, flavor_ids={}, images={}, compute_hosts=1)
    assert not find(estate, Actual(existing, CONTEXT, {"yinchuan": facts, "zhongwei": facts})).found


def test_addresses_put_ipv6_first() -> None:
    server = {"addresses": {"unitd-app": [
        {"addr": "198.51.100.5", "version": 4, "OS-EXT-IPS:type": "fixed"},
        {"addr": "203.0.113.9", "version": 4, "OS-EXT-IPS:type": "floating"},
        {"addr": "2001:db8:6500:1::5", "version": 6, "OS-EXT-IPS:type": "fixed"}]}}
    assert addresses(server) == ["2001:db8:6500:1::5", "198.51.100.5"]
