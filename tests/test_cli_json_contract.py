"""With ``-o json`` stdout is exactly one JSON document, whatever happens; people's messages go to stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Run

Nx = Callable[..., Run]
NINGXIA = ROOT / "inventories" / "ningxia"


def _one_document(result: Run) -> Any:
    """The single JSON document on stdout (json.loads refuses anything after it)."""
    assert result.out.strip(), f"nothing on stdout; stderr: {result.err}"
    return json.loads(result.out)


def _a_device() -> str:
    from nxgov.estate import load_estate

    extranet = load_estate(NINGXIA).estate.extranet
    assert extranet is not None
    return extranet.devices[0].name


OK_COMMANDS: list[list[str]] = [
    ["estate", "validate"],
    ["estate", "show"],
    ["estate", "show", "--sites", "--devices"],
    ["estate", "generate", "--scale", "region", "--dry-run", "--out", "{tmp}/gen"],
    ["estate", "generate", "--scale", "region", "--out", "{tmp}/gen"],
    ["audit", "show"],
    ["audit", "verify"],
    ["net", "ipv6", "plan", "--dry-run"],
    ["net", "ipv6", "show"],
    ["net", "ipv6", "export", "--format", "json"],
    ["net", "ipv6", "export", "--format", "csv"],
    ["net", "ipv6", "export", "--format", "csv", "--out", "{tmp}/prefixes.csv"],
    ["net", "ipv6", "export", "--format", "json", "--out", "{tmp}/plan.json"],
    ["net", "render", "--out", "{tmp}/rendered"],
    ["net", "render", "-d", "{device}"],
]

FAILING_COMMANDS: list[tuple[list[str], int, str]] = [
    (["estate", "validate", "{tmp}/missing"], 2, "EstateError"),
    (["estate", "generate", "--scale", "region", "--out", "/proc/nxgov-gen"], 2, "InputError"),
    (["cloud", "plan", "--out", "/proc/nxgov-plan.json"], 2, "InputError"),
    (["net", "render", "--site", "999999"], 2, "InputError"),
    (["audit", "show", "--since", "yesterday"], 2, "InputError"),
    # Click's usage errors: unknown option, missing argument, bad choice, unknown command, group without command.
    (["audit", "show", "--bogus"], 2, "InputError"),
    (["net", "history"], 2, "InputError"),
    (["net", "ipv6", "show", "--kind", "nope"], 2, "InputError"),
    (["nosuch"], 2, "InputError"),
    (["estate"], 2, "InputError"),
]


def _fill(args: list[str], tmp_path: Path) -> list[str]:
    return [a.format(tmp=tmp_path, device=_a_device()) for a in args]


@pytest.mark.parametrize("args", OK_COMMANDS, ids=lambda a: " ".join(a))
def test_each_command_prints_one_json_document(nxgov: Nx, tmp_path: Path, args: list[str]) -> None:
    planned = nxgov("-o", "json", "net", "ipv6", "plan")
    assert planned.code == 0, planned.err
    _one_document(planned)
    result = nxgov("-o", "json", *_fill(args, tmp_path))
    assert result.code == 0, result.err
    document = _one_document(result)
    assert isinstance(document, dict)
    assert "schema" in document


@pytest.mark.parametrize(("args", "code", "kind"), FAILING_COMMANDS, ids=lambda a: " ".join(a) if isinstance(a, list)
                         else str(a))
def test_each_error_is_one_json_document(nxgov: Nx, tmp_path: Path, args: list[str], code: int, kind: str) -> None:
    result = nxgov("-o", "json", *_fill(args, tmp_path))
    assert result.code == code, result.err
    document = _one_document(result)
    assert document["ok"] is False
    assert set(document["error"]) == {"type", "message", "hint"}
    assert document["error"]["type"] == kind
    assert document["error"]["message"]
    assert isinstance(document["problems"], list)
    assert "Traceback" not in result.err
    assert result.err.strip(), "people get the message on stderr too"


def test_usage_error_without_json_stays_human(nxgov: Nx) -> None:
    result = nxgov("audit", "show", "--bogus")
    assert result.code == 2
    assert result.out == ""
    assert "No such option: --bogus" in result.err
    assert "nxgov audit show -h" in result.err


def test_export_to_a_file_reports_it_in_the_document(nxgov: Nx, tmp_path: Path) -> None:
    assert nxgov("net", "ipv6", "plan").code == 0
    out = tmp_path / "prefixes.csv"
    result = nxgov("-o", "json", "net", "ipv6", "export", "--format", "csv", "--out", str(out))
    assert result.code == 0, result.err
    document = _one_document(result)
    assert document["schema"] == "nxgov.net.ipv6.exported/1"
    assert document["out"] == str(out)
    assert document["format"] == "csv"
    assert document["lines"] == out.read_text(encoding="utf-8").count("\n")
    assert "wrote" in result.err


def test_csv_export_to_stdout_in_json_mode_carries_the_csv(nxgov: Nx) -> None:
    assert nxgov("net", "ipv6", "plan").code == 0
    plain = nxgov("net", "ipv6", "export", "--format", "csv")
    result = nxgov("-o", "json", "net", "ipv6", "export", "--format", "csv")
    document = _one_document(result)
    assert document["schema"] == "nxgov.net.ipv6.exported/1"
    assert document["out"] is None
    assert document["content"] == plain.out
