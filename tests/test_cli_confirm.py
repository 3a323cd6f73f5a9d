"""The one confirmation of mutating commands: asked on the terminal's stderr, refused without a terminal or in JSON."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import pytest

from nxgov.cli.output import confirm
from nxgov.errors import InputError

ASK = ("from nxgov.cli.output import confirm; "
       "print('answer', confirm('apply 3 change(s)?', yes=False, json=False, refusal='r', hint='h'))")


@pytest.mark.parametrize(("typed", "answer"), [(b"y\n", "True"), (b"n\n", "False")])
def test_the_question_goes_to_stderr_and_the_answer_counts(typed: bytes, answer: str) -> None:
    controller, terminal = pty.openpty()
    try:
        os.write(controller, typed)
        done = subprocess.run([sys.executable, "-c", ASK], stdin=terminal, capture_output=True, text=True, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.stdout == f"answer {answer}\n"
    assert "apply 3 change(s)? [y/N]" in done.stderr


@pytest.mark.parametrize("json", [True, False])
def test_without_a_terminal_or_in_json_it_refuses(json: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    with pytest.raises(InputError, match="needs confirmation") as caught:
        confirm("apply?", yes=False, json=json, refusal="apply needs confirmation", hint="pass --yes")
    assert caught.value.hint == "pass --yes"


def test_yes_goes_without_asking() -> None:
    assert confirm("apply?", yes=True, json=True, refusal="r", hint="h")
