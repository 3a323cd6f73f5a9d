"""An unparseable clouds.yaml is reported as unparseable, at its line and column, never as a missing entry, and
nothing of its content (it holds passwords) reaches stdout, stderr, the JSON error or the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

SECRET = "Hunter2-S3cret-c10d5"


def _estate(tmp_path: Path, clouds: str) -> Path:
    (tmp_path / "clouds.yaml").write_text(clouds, encoding="utf-8")
    (tmp_path / "clouds.yaml").chmod(0o600)
    estate = tmp_path / "estate.yaml"
    estate.write_text("estate: cloudsyaml\nclouds:\n  yinchuan: {cloud: nx-yc, region: RegionOne, role: primary, "
                      "clouds_yaml: clouds.yaml}\n", encoding="utf-8")
    return estate


@pytest.mark.parametrize("output", ["table", "json"])
def test_an_unparseable_clouds_yaml_is_named_with_line_and_column(nxgov, tmp_path: Path, output: str) -> None:  # type: ignore[no-untyped-def]
    estate = _estate(tmp_path, "clouds:\n  nx-yc:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n"
                               f'      username: nx\n      password: "{SECRET}\n    region_name: RegionOne\n')
    result = nxgov("-e", str(estate), "-o", output, "cloud", "plan")
    assert result.code == 2, result.err
    assert SECRET not in result.out + result.err and "Traceback" not in result.err
    message = result.json()["error"]["message"] if output == "json" else " ".join(result.err.split())
    assert f"{tmp_path / 'clouds.yaml'} is not valid YAML" in message and "line 6, column 17" in message
    assert "not found" not in message
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "clouds.yaml" and SECRET in p.read_text()]
    assert leaked == []


def test_a_missing_entry_is_still_reported_as_missing(nxgov, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    estate = _estate(tmp_path, "clouds:\n  other:\n    auth: {auth_url: 'http://127.0.0.1:1/v3'}\n")
    result = nxgov("-e", str(estate), "cloud", "plan")
    assert result.code == 2 and "clouds.yaml entry 'nx-yc' not found" in " ".join(result.err.split())
