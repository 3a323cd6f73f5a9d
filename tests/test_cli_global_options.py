"""Global options work before the group and after the subcommand, as a new operator types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from nxgov.cli.main import hoist_global_options
from tests.conftest import ROOT, Run

Nx = Callable[..., Run]
LAB = str(ROOT / "inventories" / "lab")


@pytest.mark.parametrize("args", [
    ["-e", LAB, "-o", "json", "estate", "show"],
    ["estate", "show", "-e", LAB, "-o", "json"],
    ["estate", "show", "--estate", LAB, "--output", "json"],
    ["estate", "show", f"--estate={LAB}", "--output=json"],
    ["-o", "json", "estate", "show", "-e", LAB],
], ids=["before", "after", "after-long", "after-equals", "mixed"])
def test_estate_and_output_in_either_position(nxgov: Nx, args: list[str]) -> None:
    result = nxgov(*args)
    assert result.code == 0, result.err
    assert json.loads(result.out)["estate"] == "lab"


def test_state_audit_log_operator_and_verbose_after_the_subcommand(nxgov: Nx, tmp_path: Path) -> None:
    state, log = tmp_path / "other.db", tmp_path / "other.jsonl"
    planned = nxgov("net", "ipv6", "plan", "--state", str(state), "--audit-log", str(log), "--operator", "alice",
                    "-vv")
    assert planned.code == 0, planned.err
    assert state.exists()
    shown = nxgov("audit", "show", "--audit-log", str(log), "-o", "json")
    assert shown.code == 0, shown.err
    assert [r["operator"] for r in json.loads(shown.out)["records"]] == ["alice"]


def test_lab_up_accepts_the_estate_its_help_asks_for() -> None:
    assert hoist_global_options(["lab", "up", "--estate", "inventories/lab", "--dry-run"]) == [
        "--estate", "inventories/lab", "lab", "up", "--dry-run"]
    assert hoist_global_options(["-o", "json", "lab", "up", "-e", "x", "-v"]) == [
        "-o", "json", "-e", "x", "-v", "lab", "up"]


def test_a_subcommand_keeps_its_own_options_and_their_values() -> None:
    assert hoist_global_options(["net", "render", "-d", "-o", "--out", "dir"]) == ["net", "render", "-d", "-o",
                                                                                "--out", "dir"]
    assert hoist_global_options(["net", "history", "-e"]) == ["net", "history", "-e"]
    assert hoist_global_options(["audit", "show", "--", "-v"]) == ["audit", "show", "--", "-v"]


def test_an_option_the_subcommand_defines_is_not_taken_as_global() -> None:
    app = typer.Typer()

    @app.callback()
    def root(output: str = typer.Option("table", "--output", "-o"),
             verbose: int = typer.Option(0, "--verbose", "-v", count=True)) -> None:
        """Root."""

    @app.command()
    def save(out: str = typer.Option("", "-o", "--out")) -> None:
        """Save."""

    command = typer.main.get_command(app)
    assert hoist_global_options(["save", "-o", "f", "-v"], command) == ["-v", "save", "-o", "f"]
