"""Every registered command under every damage case of the inputs it reads (issue 9 §3; see cases.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.mark import ParameterSet

from tests.corpus.cases import CASES, Case, xfail_reason
from tests.corpus.commands import COMMANDS, Command
from tests.corpus.workspace import OUTPUT_LIMIT, SECRET, Result, Workspace


def _params() -> list[ParameterSet]:
    params: list[ParameterSet] = []
    for case in CASES:
        for command in COMMANDS:
            if not command.runs_under(case.target):
                continue
            reason = xfail_reason(case, command)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, command, id=f"{case.name}--{command.name}", marks=marks))
    return params


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path)
    try:
        yield ws
    finally:
        ws.close()


@pytest.mark.parametrize(("case", "command"), _params())
def test_bad_input(case: Case, command: Command, workspace: Workspace) -> None:
    workspace.build(command.seed)
    lines = case.damage(workspace)
    damaged = case.file(workspace)
    before = workspace.snapshot(command.watches)
    records_before = workspace.audit_records()

    result = workspace.run("-o", "json", *workspace.argv(command.argv))

    gist = (result.err.strip().splitlines() or [""])[0][:200]
    context = f"[exit {result.code}: {gist}]\n--- stdout ---\n{result.out[:3000]}\n--- stderr ---\n{result.err[:3000]}"
    assert result.code >= 0, f"killed by signal {-result.code} (over the CPU or memory limit?)\n{context}"
    assert "Traceback" not in result.both, context
    assert len(result.out) + len(result.err) <= OUTPUT_LIMIT, f"{len(result.both):,} characters of output"
    assert SECRET not in result.both, f"the secret was printed\n{context}"
    assert SECRET not in workspace.written_text(), "the secret was written to the audit log or an output file"
    expected = case.expected(command)
    assert result.code == expected, f"expected exit {expected} {context}"
    _one_json_document(result, expected, context)
    if case.fails(command):
        _names_the_file(result, workspace, damaged, lines, case.says, context)
    _nothing_changed_unaudited(command, workspace, expected, before, records_before)


def _one_json_document(result: Result, expected: int, context: str) -> None:
    try:
        document = json.loads(result.out)
    except ValueError as error:
        raise AssertionError(f"-o json: stdout is not exactly one JSON document ({error})\n{context}") from None
    assert isinstance(document, dict), context
    if expected == 2:
        assert document.get("ok") is False and isinstance(document.get("error"), dict), context
        assert document["error"].get("message"), context


def _names_the_file(result: Result, ws: Workspace, damaged: Path, lines: object, says: tuple[str, ...],
                    context: str) -> None:
    relative = str(damaged.relative_to(ws.root))
    assert relative in result.err, f"stderr does not name {relative} {context}"
    if lines is not None:
        wanted = "|".join(str(n) for n in sorted(lines))  # type: ignore[call-overload]
        pattern = rf"{re.escape(relative)}:({wanted})\b|\bline ({wanted})\b"
        assert re.search(pattern, result.err), f"stderr does not give the line ({wanted}) {context}"
    for words in says:
        assert words.lower() in result.err.lower(), f"stderr does not say {words!r} {context}"


def _nothing_changed_unaudited(command: Command, ws: Workspace, expected: int, before: dict[str, object],
                               records_before: list[dict[str, object]]) -> None:
    """A failed run changes nothing; a successful one changes the state store or a mutator's files only with
    an audit record of it (a reader that succeeds may write its own output, e.g. ``net render --out``)."""
    after = ws.snapshot(command.watches)
    changed = [watch for watch in command.watches if after[watch] != before[watch]]
    if expected != 0:
        assert not changed, f"{', '.join(changed)} changed although the command failed"
        return
    if not command.mutates:
        changed = [watch for watch in changed if watch == "state"]
    if not changed:
        return
    new = ws.audit_records()[len(records_before):]
    audited = [r for r in new if r.get("command") == command.audit_command and r.get("result") == "changed"]
    assert command.audit_command and audited, f"{', '.join(changed)} changed without an audit record of it"
