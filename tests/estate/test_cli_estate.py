"""``nxgov estate`` through real processes: exit codes, stable JSON, generate with dry-run and audit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT


def test_validate_sample_estates(nxgov) -> None:  # type: ignore[no-untyped-def]
    for name, sites in (("ningxia", 28), ("lab", None)):
        result = nxgov("-o", "json", "estate", "validate", str(ROOT / "inventories" / name))
        assert result.code == 0, result.err
        doc = result.json()
        assert doc["schema"] == "nxgov.estate.validate/1" and doc["ok"] is True and doc["problems"] == []
        if sites is not None:
            assert doc["counts"]["sites"] == sites


def test_ningxia_has_the_regions_shape(nxgov) -> None:  # type: ignore[no-untyped-def]
    doc = nxgov("-o", "json", "estate", "show").json()
    assert doc["schema"] == "nxgov.estate.show/1"
    assert doc["sites_by_level"] == {"region": 1, "city": 5, "county": 22, "township": 0, "village": 0}
    assert doc["counts"]["departments"] >= 10 and doc["counts"]["systems"] >= 20
    assert set(doc["systems_by_level"]) >= {"1", "2", "3"}
    modes = {m for counts in doc["systems_by_level"].values() for m, n in counts.items() if n}
    assert modes == {"active-active", "active-standby", "single"}
    assert doc["devices_by_plane"] == {"A": {"huawei_vrp": 28}, "B": {"h3c_comware": 28}}


def test_show_table_output(nxgov) -> None:  # type: ignore[no-untyped-def]
    result = nxgov("estate", "show")
    assert result.code == 0
    for title in ("Departments", "Systems by protection level", "Extranet sites per level", "Devices per plane"):
        assert title in result.out


def test_invalid_estate_json_error_document(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "e.yaml").write_text("estate: x\nclouds: {}\nbogus: 1\n")
    result = nxgov("-o", "json", "estate", "validate", str(tmp_path / "e.yaml"))
    assert result.code == 2
    doc = result.json()
    assert doc["ok"] is False and doc["error"]["type"] == "EstateError"
    assert any(p["path"] == "bogus" and p["line"] == 3 for p in doc["problems"])


def test_unknown_option_is_bad_input(nxgov) -> None:  # type: ignore[no-untyped-def]
    result = nxgov("estate", "validate", "--no-such-option")
    assert result.code == 2 and "Traceback" not in result.err


def test_generate_dry_run_writes_nothing(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "gen"
    result = nxgov("-o", "json", "estate", "generate", "--scale", "medium", "--out", str(out), "--dry-run")
    assert result.code == 0, result.err
    assert result.json()["dry_run"] is True and not out.exists()
    assert not (tmp_path / "audit.jsonl").exists()


def test_generate_writes_valid_estate_audits_and_refuses_overwrite(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "gen"
    result = nxgov("estate", "generate", "--scale", "medium", "--out", str(out))
    assert result.code == 0, result.err
    check = nxgov("-o", "json", "estate", "validate", str(out)).json()
    assert check["counts"]["sites"] == 1 + 5 + 22 + 22 * 3 + 22 * 3 * 4
    assert check["counts"]["devices"] == 2 * check["counts"]["sites"]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert records[-1]["command"] == "estate generate" and records[-1]["target"] == str(out)
    again = nxgov("estate", "generate", "--scale", "medium", "--out", str(out))
    assert again.code == 2 and "already exists" in again.err and "--force" in again.err


def test_help_lists_groups(nxgov) -> None:  # type: ignore[no-untyped-def]
    result = nxgov("--help")
    assert result.code == 0 and "estate" in result.out and "audit" in result.out
