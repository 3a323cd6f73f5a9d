"""The estate's ``server_access`` (the login to the servers nxgov creates): every mistake located by `estate validate`,
exit 2; and the login and public key nxgov derives from it, with errors that never show the key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from nxgov.cloud.access import access_of, server_login
from nxgov.errors import InputError
from nxgov.estate import load_estate
from tests.estate.mistakes import Case, assert_located
from tests.estates_small import tiny_estate

CREDENTIALS = """\
credentials:
  extranet: {file: /etc/nxgov/extranet.yaml}
"""
ACCESS = """\
  ops-servers: {file: /etc/nxgov/ops-servers.yaml}
  by-env: {env: NX_OPS}
server_access: {credentials: ops-servers, keypair: nxgov-ops}
"""
BASE = tiny_estate("/etc/nxgov/extranet.yaml", "").replace(CREDENTIALS, CREDENTIALS + ACCESS, 1).replace(
    "  devices:\n", "  devices: []\n", 1)

CASES = [
    Case("unknown-entry", "server_access: {credentials: ops-servers,", "server_access: {credentials: ops-server,",
         "server_access.credentials", "unknown credentials entry 'ops-server'", "did you mean 'ops-servers'?"),
    Case("password-only-entry", "server_access: {credentials: ops-servers,", "server_access: {credentials: by-env,",
         "server_access.credentials", "credentials entry 'by-env' gives a password only", "add ssh_key:"),
    Case("keypair-name", "keypair: nxgov-ops}", "keypair: 'nxgov ops!'}", "server_access.keypair",
         "'nxgov ops!' is not a keypair name", "e.g. nxgov-ops"),
    Case("unknown-key", "keypair: nxgov-ops}", "keypair: nxgov-ops, user: root}", "server_access.user",
         "unknown key 'user'", "allowed keys here: credentials, keypair"),
    Case("missing-credentials", "server_access: {credentials: ops-servers, keypair: nxgov-ops}",
         "server_access: {keypair: nxgov-ops}", "server_access", "missing required field 'credentials'",
         "add credentials:"),
    Case("not-a-mapping", "server_access: {credentials: ops-servers, keypair: nxgov-ops}",
         "server_access: ops-servers", "server_access", "expected a mapping of keys, got text"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_server_access_mistake_is_located(case: Case, tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    result = assert_located(BASE, case, tmp_path, nxgov)
    assert "Traceback" not in result.err + result.out


def test_base_is_valid_and_keypair_defaults(tmp_path: Path) -> None:
    (tmp_path / "estate.yaml").write_text(BASE.replace(", keypair: nxgov-ops}", "}"), encoding="utf-8")
    access = load_estate(tmp_path / "estate.yaml").estate.server_access
    assert access is not None and access.keypair == "nxgov-ops" and access.credentials == "ops-servers"


def _estate_with_key(tmp_path: Path, key_options: list[str], file_extra: str = "") -> Path:
    key = tmp_path / "ops.key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-C", "ops@test", "-f", str(key), *key_options], check=True)
    creds = tmp_path / "ops-servers.yaml"
    creds.write_text(f"username: root\nssh_key: {key}\n{file_extra}", encoding="utf-8")
    creds.chmod(0o600)
    (tmp_path / "estate.yaml").write_text(BASE.replace("/etc/nxgov/ops-servers.yaml", str(creds)), encoding="utf-8")
    return key


def test_login_and_public_key_come_from_the_private_key(tmp_path: Path) -> None:
    key = _estate_with_key(tmp_path, ["-N", ""])
    loaded = load_estate(tmp_path / "estate.yaml")
    login = server_login(loaded)
    assert login.username == "root" and login.ssh_key == key
    access = access_of(loaded.estate)
    assert access is not None and access.keypair == "nxgov-ops"
    assert access.public_key == " ".join(Path(f"{key}.pub").read_text().split()[:2])


def test_an_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    key = _estate_with_key(tmp_path, ["-N", "a-long-passphrase"])
    with pytest.raises(InputError, match="is encrypted and the entry gives no passphrase"):
        access_of(load_estate(tmp_path / "estate.yaml").estate)
    creds = tmp_path / "ops-servers.yaml"
    creds.write_text(f"username: root\nssh_key: {key}\npassphrase: a-long-passphrase\n", encoding="utf-8")
    access = access_of(load_estate(tmp_path / "estate.yaml").estate)
    assert access is not None and access.public_key.startswith("ssh-ed25519 ")


def test_a_file_that_is_no_key_is_refused_without_showing_it(tmp_path: Path) -> None:
    key = _estate_with_key(tmp_path, ["-N", ""])
    key.write_text("not-a-key-but-a-secret-0451\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        access_of(load_estate(tmp_path / "estate.yaml").estate)
    assert "cannot be read as a private key" in raised.value.message
    assert "0451" not in str(raised.value) + str(raised.value.hint)


def test_a_password_login_has_no_key(tmp_path: Path) -> None:
    _estate_with_key(tmp_path, ["-N", ""])
    (tmp_path / "ops-servers.yaml").write_text("username: root\npassword: hunter2-secret\n", encoding="utf-8")
    with pytest.raises(InputError, match="'ops-servers' \\(server_access\\) has no SSH key") as raised:
        server_login(load_estate(tmp_path / "estate.yaml"))
    assert "hunter2" not in str(raised.value) + str(raised.value.hint)


def test_no_server_access_is_an_input_error_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "estate.yaml").write_text(BASE.replace("server_access: {credentials: ops-servers, keypair: "
                                                       "nxgov-ops}\n", ""), encoding="utf-8")
    loaded = load_estate(tmp_path / "estate.yaml")
    assert access_of(loaded.estate) is None
    with pytest.raises(InputError, match="declares no server_access") as raised:
        server_login(loaded)
    assert "add server_access:" in str(raised.value.hint)
