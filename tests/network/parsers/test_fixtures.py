"""Every fixture (a device's output as real devices print it) parsed, against the result beside it.

``fixtures/<platform>/<command, spaces as _>/<case>.txt`` is the output; ``<case>.yaml`` the expected
``rows`` (the getter results as plain data) and ``unparsed`` (the lines and records reported as not understood).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from nxgov.network.parsers import Command, comware, vrp

FIXTURES = Path(__file__).parent / "fixtures"
COMMANDS: dict[str, Command[Any]] = {
    f"{platform}/{command.text.replace(' ', '_')}": command
    for platform, module in (("huawei_vrp", vrp), ("h3c_comware", comware))
    for command in (module.BGP_PEERS, module.INTERFACES, module.ROUTES)
}
CASES = sorted(FIXTURES.glob("*/*/*.txt"))


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES).with_suffix("")) for c in CASES])
def test_fixture_parses_to_its_expected_result(case: Path) -> None:
    command = COMMANDS[str(case.parent.relative_to(FIXTURES))]
    expected = yaml.safe_load(case.with_suffix(".yaml").read_text())
    parsed = command.parse(case.read_text())
    assert json.loads(json.dumps([asdict(row) for row in parsed.rows])) == expected["rows"]
    assert list(parsed.unparsed) == expected["unparsed"]


def test_every_command_has_fixtures() -> None:
    assert {str(c.parent.relative_to(FIXTURES)) for c in CASES} == set(COMMANDS)
    assert all(c.with_suffix(".yaml").is_file() for c in CASES)
