"""A credentials file's content never reaches a message: not when it is malformed YAML, has unknown keys or is not
UTF-8. The error names the file, line and column only, on stderr, in the JSON error document and in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.estate.model import CredentialRef
from nxgov.network.drivers.credentials import resolve
from tests.estates_small import comware, one_site_estate

SECRET = "Hunter2-S3cret-7f1c9a"


def _private(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def _estate(tmp_path: Path, credentials: Path) -> Path:
    estate = tmp_path / "estate.yaml"
    estate.write_text(one_site_estate("credtest", credentials, comware("R1", 1)), encoding="utf-8")
    return estate


def _files_holding(root: Path, secret: str, besides: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p != besides and secret.encode() in p.read_bytes()]


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_malformed_credentials_file_is_located_never_quoted(nxgov, tmp_path: Path, output: str) -> None:  # type: ignore[no-untyped-def]
    credentials = _private(tmp_path / "extranet.yaml", f'username: netops\npassword: "{SECRET}\n')
    estate = _estate(tmp_path, credentials)
    result = nxgov("-e", str(estate), "-o", output, "net", "backup")
    assert result.code == 2, result.err
    assert SECRET not in result.out and SECRET not in result.err
    assert "Traceback" not in result.err
    message = result.json()["error"]["message"] if output == "json" else " ".join(result.err.split())
    assert str(credentials) in message and "is not plain YAML data at line 3, column 1" in message
    assert _files_holding(tmp_path, SECRET, besides=credentials) == []


def test_the_error_of_a_malformed_file_holds_no_content(tmp_path: Path) -> None:
    path = _private(tmp_path / "c.yaml", f"username: netops\npassword: '{SECRET}\n")
    with pytest.raises(InputError) as raised:
        resolve("extranet", CredentialRef(file=str(path)))
    error = raised.value
    assert SECRET not in str(error) and SECRET not in repr(error.args)
    assert error.__cause__ is None and error.__context__ is None
    assert SECRET not in str(error.hint)
    assert "line 3, column 1" in error.message


def test_unknown_keys_are_located_not_named(tmp_path: Path) -> None:
    path = _private(tmp_path / "c.yaml", f"username: netops\npassword: x\n{SECRET}: y\n")
    with pytest.raises(InputError) as raised:
        resolve("extranet", CredentialRef(file=str(path)))
    assert SECRET not in str(raised.value)
    assert "unknown key at line 3" in raised.value.message


def test_a_file_that_is_not_utf8_is_located_not_quoted(tmp_path: Path) -> None:
    path = _private(tmp_path / "c.yaml", b"username: netops\npassword: " + SECRET.encode() + b"\xff\n")
    with pytest.raises(InputError) as raised:
        resolve("extranet", CredentialRef(file=str(path)))
    assert SECRET not in str(raised.value) and "0xff" not in str(raised.value)
    assert "not plain YAML data at line 2" in raised.value.message


def test_a_misspelt_key_is_located_with_the_key_it_may_be(tmp_path: Path) -> None:
    path = _private(tmp_path / "c.yaml", "username: root\npasword: typo\n")
    with pytest.raises(InputError) as raised:
        resolve("frr", CredentialRef(file=str(path)))
    assert "has an unknown key at line 2 (did you mean 'password'?)" in raised.value.message
    assert "pasword" not in str(raised.value)
