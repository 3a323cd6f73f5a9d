"""Interface names per device or per model (``extranet.models``, ``devices[].model``, ``devices[].ports``), each
mistake reported by ``estate validate``, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.estate.test_broken_estates import BASE

MODELS = """\
  models:
    ce6881: {platform: huawei_vrp, ports: '100GE1/0/{n+1}'}
    msr3620: {platform: h3c_comware, ports: 'GE0/{n}'}
"""
VALID = (BASE.replace("platform: huawei_vrp,", "platform: huawei_vrp, model: ce6881,")
         .replace("platform: h3c_comware,", "platform: h3c_comware, ports: {0: Ten-GigabitEthernet1/0/49},")
         + MODELS)


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_models_and_port_names_are_valid(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "estate.yaml").write_text(VALID, encoding="utf-8")
    result = nxgov("estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 0, result.err


CASES = [
    ("unknown-model", "model: ce6881,", "model: ce6818,", "model: ce6818,", "extranet.devices[0].model",
     "unknown router model 'ce6818'", "did you mean 'ce6881'?"),
    ("model-of-another-platform", "model: ce6881,", "model: msr3620,", "model: msr3620,", "extranet.devices[0].model",
     "model msr3620 is a h3c_comware router, device ce-a is huawei_vrp", "platform: h3c_comware"),
    ("pattern-without-n", "ports: '100GE1/0/{n+1}'", "ports: '100GE1/0/1'", "ce6881:",
     "extranet.models.ce6881.ports", "has no {n} slot", "where the port number goes"),
    ("pattern-not-for-platform", "ports: 'GE0/{n}'", "ports: '{n}'", "msr3620:", "extranet.models.msr3620",
     "is not a h3c_comware interface name", "{n}"),
    ("port-mapped-twice", "{0: Ten-GigabitEthernet1/0/49}", "{0: Ten-GigabitEthernet1/0/49, '0': GE1/0/2}",
     "{0: Ten", "extranet.devices[1].ports", "duplicate key '0'", "keep one of the two"),
    ("name-on-two-ports", "{0: Ten-GigabitEthernet1/0/49}",
     "{0: Ten-GigabitEthernet1/0/49, 1: Ten-GigabitEthernet1/0/49}", "{0: Ten", "extranet.devices[1].ports[1]",
     "'Ten-GigabitEthernet1/0/49' is mapped to port 0 and to port 1", "its own interface"),
    ("name-the-pattern-gives-another-port", "{0: Ten-GigabitEthernet1/0/49}", "{0: GigabitEthernet1/0/3}",
     "{0: GigabitEthernet1/0/3}", "extranet.devices[1].ports[0]",
     "port 0 is mapped to 'GigabitEthernet1/0/3', the name pattern 'GigabitEthernet1/0/{n+1}' gives port 2",
     "map the other port too"),
    ("name-with-space", "{0: Ten-GigabitEthernet1/0/49}", "{0: 'Ten-GigabitEthernet 1/0/49'}", "{0: 'Ten",
     "extranet.devices[1].ports", "is not an interface name", "without spaces"),
    ("name-not-for-frr", "platform: frr, host: 127.0.0.1, port: 10020,",
     "platform: frr, ports: {0: GigabitEthernet0/0/1}, host: 127.0.0.1, port: 10020,", "ports: {0: Gig",
     "extranet.devices[2].ports[0]", "is not a Linux interface name (FRR)", "the device itself shows"),
    ("loopback-as-port", "platform: frr, host: 127.0.0.1, port: 10020,",
     "platform: frr, ports: {1: lo}, host: 127.0.0.1, port: 10020,", "ports: {1: lo}",
     "extranet.devices[2].ports[1]", "is the loopback", ""),
]


@pytest.mark.parametrize(("name", "old", "new", "at", "path", "message", "hint"), CASES, ids=[c[0] for c in CASES])
def test_port_naming_mistake_is_located(tmp_path: Path, nxgov, name: str, old: str, new: str, at: str,  # type: ignore[no-untyped-def]
                                        path: str, message: str, hint: str) -> None:
    assert old in VALID, f"case {name} does not apply"
    text = VALID.replace(old, new, 1)
    (tmp_path / "estate.yaml").write_text(text, encoding="utf-8")
    result = nxgov("estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 2, result.out
    assert "Traceback" not in result.err + result.out
    located = [ln for ln in result.err.splitlines() if message in ln]
    assert located, result.err
    assert path in located[0] and f"estate.yaml:{_line(text, at)}:" in located[0], located[0]
    assert hint in result.err
