"""Configuration text (parse, merge, undo) and credentials, without a device."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.estate.model import CredentialRef
from nxgov.network.drivers import config
from nxgov.network.drivers.comware import ComwareDriver
from nxgov.network.drivers.credentials import resolve
from nxgov.network.drivers.frr import FrrDriver
from nxgov.network.drivers.vrp import VrpDriver

VRP = VrpDriver.dialect.syntax
RUNNING = """!Software Version V200R010C10SPC700
#
 sysname V0
#
 ipv6
#
interface GigabitEthernet0/0/1
 description to-core
 ipv6 enable
#
interface GigabitEthernet0/0/2
#
bgp 65101
 peer 2001:DB8::2 as-number 65102
 #
 ipv6-family unicast
  peer 2001:DB8::2 enable
#
return
"""


def _text(tree: list[config.Node]) -> list[str]:
    return [line for node in tree for line in config.render([node], VRP) if line != "#"]


def test_vrp_display_parses_into_views() -> None:
    tree = config.parse(RUNNING, VRP)
    assert [node.text for node in tree] == ["sysname V0", "ipv6", "interface GigabitEthernet0/0/1",
                                            "interface GigabitEthernet0/0/2", "bgp 65101"]
    bgp = tree[-1]
    assert [n.text for n in bgp.children] == ["peer 2001:DB8::2 as-number 65102", "ipv6-family unicast"]
    assert [n.text for n in bgp.children[1].children] == ["peer 2001:DB8::2 enable"]


def test_merge_sends_only_missing_lines_in_their_views_and_is_idempotent() -> None:
    candidate = config.parse("""#
interface GigabitEthernet0/0/1
 ipv6 enable
 ipv6 address 2001:db8:0::1/127
#
bgp 65101
 peer 2001:db8::2 as-number 65102
 ipv6-family unicast
  peer 2001:DB8::2 enable
  network 2001:DB8:1:: 48
#
return""", VRP)
    running = config.parse(RUNNING, VRP)
    todo = config.missing(running, candidate, VRP)
    assert [step.line for step in config.commands(todo, VRP)] == [
        "interface GigabitEthernet0/0/1", "ipv6 address 2001:db8:0::1/127", "quit",
        "bgp 65101", "ipv6-family unicast", "network 2001:DB8:1:: 48", "quit", "quit"]
    assert config.commands(todo, VRP)[5].view == "bgp 65101 > ipv6-family unicast"
    after = config.merged(running, todo)
    assert config.missing(after, candidate, VRP) == []
    diff = config.unified_diff(config.render(running, VRP), config.render(after, VRP), "V0")
    assert "+ ipv6 address 2001:db8:0::1/127" in diff and "+  network 2001:DB8:1:: 48" in diff


def test_negated_candidate_lines_are_satisfied_by_absence() -> None:
    running = config.parse(RUNNING, VRP)
    wanted = config.parse("interface GigabitEthernet0/0/1\n undo description\n undo shutdown\n", VRP)
    assert [s.line for s in config.commands(config.missing(running, wanted, VRP), VRP)] == [
        "interface GigabitEthernet0/0/1", "undo description", "quit"]


def test_undo_commands_remove_new_views_whole_and_lines_of_kept_ones() -> None:
    before = config.parse(RUNNING, VRP)
    changed = RUNNING.replace(" ipv6 enable\n", " ipv6 enable\n ipv6 address 2001:DB8::1/64\n").replace(
        " as-number 65102\n", " as-number 65102\n router-id 1.1.1.1\n")
    after = config.parse(changed + "interface LoopBack1\n ipv6 enable\n", VRP)
    assert config.undo_commands(before, after, VRP) == [
        "undo interface LoopBack1", "bgp 65101", "undo router-id 1.1.1.1", "quit",
        "interface GigabitEthernet0/0/1", "undo ipv6 address 2001:DB8::1/64", "quit"]
    assert config.differences(before, after) == [
        "bgp 65101 > router-id 1.1.1.1", "interface GigabitEthernet0/0/1 > ipv6 address 2001:db8::1/64",
        "interface LoopBack1", "interface LoopBack1 > ipv6 enable"]
    assert config.differences(before, config.parse(RUNNING, VRP)) == []


def test_comware_and_frr_texts() -> None:
    comware = config.parse("#\n version 7.1.064, Release 0821P16\n#\n sysname C0\n#\nbgp 65101\n"
                           " peer 2001:DB8::2 as-number 65102\n #\n address-family ipv6 unicast\n"
                           "  peer 2001:DB8::2 enable\n#\nreturn\n", ComwareDriver.dialect.syntax)
    assert [n.text for n in comware] == ["sysname C0", "bgp 65101"]
    frr = config.parse("Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\n"
                       "hostname r1\n!\ninterface eth0\n ipv6 address 2001:db8::1/64\nexit\n!\nrouter bgp 65101\n"
                       " neighbor 2001:db8::2 remote-as 65102\n !\n address-family ipv6 unicast\n"
                       "  neighbor 2001:db8::2 activate\n exit-address-family\nexit\n!\nend\n",
                       FrrDriver.dialect.syntax)
    assert [n.text for n in frr] == ["hostname r1", "interface eth0", "router bgp 65101"]
    assert [n.text for n in frr[2].children[1].children] == ["neighbor 2001:db8::2 activate"]
    assert config.undo_commands([], frr, FrrDriver.dialect.syntax)[:2] == ["no router bgp 65101", "interface eth0"]


def _secret_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "extranet.yaml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_credentials_from_a_private_file_hide_the_password(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "username: netops\npassword: S3cret-pass\n")
    creds = resolve("extranet", CredentialRef(file=str(path)))
    assert (creds.username, creds.password, creds.secrets) == ("netops", "S3cret-pass", ("S3cret-pass",))
    assert "S3cret-pass" not in repr(creds)


def test_credentials_file_readable_by_others_is_refused_with_a_chmod_hint(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "username: netops\npassword: x\n", 0o640)
    with pytest.raises(InputError, match="readable by group or others") as error:
        resolve("extranet", CredentialRef(file=str(path)))
    assert error.value.hint == f"chmod 600 {path}"


def test_credentials_from_the_environment(tmp_path: Path) -> None:
    ref = CredentialRef(env="NX_EXTRANET")
    creds = resolve("extranet", ref, {"NX_EXTRANET_USER": "ops", "NX_EXTRANET_PASSWORD": "pw-1"})
    assert (creds.username, creds.password) == ("ops", "pw-1")
    with pytest.raises(InputError, match="NX_EXTRANET_PASSWORD is not set"):
        resolve("extranet", ref, {})


def test_credentials_with_a_key_and_unknown_keys(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("key")
    os.chmod(key, 0o600)
    path = _secret_file(tmp_path, f"username: root\nssh_key: {key}\n")
    assert resolve("frr", CredentialRef(file=str(path))).ssh_key == key
    path = _secret_file(tmp_path, "username: root\npasword: typo\n")
    with pytest.raises(InputError, match=r"unknown key at line 2 \(did you mean 'password'\?\)"):
        resolve("frr", CredentialRef(file=str(path)))
