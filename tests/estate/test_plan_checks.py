"""What a later command would refuse in the estate, ``estate validate`` reports first, located (issue 9).

The IPv6 plan (``net ipv6 plan``), the extranet's links and the cloud's IPv6 'auto' allocation each check
the estate; a valid estate passes all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.estate.test_broken_estates import BASE

PREFIX = "prefix: 2001:db8:6400::/40"
CLOUD_IPV6 = "cloud_ipv6: 2001:db8:6500::/40\n"
IN_PLAN = ("inside the extranet's address plan", "move management addresses")


def _prefix(name: str, new: str, message: str, hint: str, path: str = "extranet.prefix") -> tuple[str, ...]:
    """The case ``name``: the extranet's prefix changed to ``new``."""
    return name, PREFIX, f"prefix: {new}", path, message, hint


CASES = [
    _prefix("extranet-is-cloud-ipv6", "2001:db8:6500::/40", "overlaps cloud_ipv6 2001:db8:6500::/40", "own block"),
    _prefix("extranet-inside-cloud-ipv6", "2001:db8:6500::/44", "overlaps cloud_ipv6 2001:db8:6500::/40", "own block"),
    ("operations-is-extranet", CLOUD_IPV6, CLOUD_IPV6 + "operations: [2001:db8:6400::/40]\n", "operations[0]",
     *IN_PLAN),
    _prefix("prefix-too-long", "2001:db8:6400::/48", "the address plan needs /32 to /44", "/40"),
    ("device-host-in-plan", "host: 127.0.0.1, port: 10022", "host: 2001:db8:6420::9, port: 10022",
     "extranet.devices[0].host", *IN_PLAN),
    _prefix("level-pool-too-small", "2001:db8:6400::/44", "the city pool is full", "shorter length",
            path="extranet.sites[1]"),
    ("parent-site-without-device", "    - {name: ce-c, site: '640100', platform: frr",
     "    - {name: ce-c, site: '640104', platform: frr", "extranet.devices[0]",
     "has no device on plane A to link to at its parent site 640100", "add a device to site 640100"),
    ("auto-ipv6-without-cloud-ipv6", CLOUD_IPV6, "", "departments[0].ipv6",
     "asks for an 'auto' IPv6 block, but cloud_ipv6 is not set", "set cloud_ipv6"),
]


@pytest.mark.parametrize(("name", "old", "new", "path", "message", "hint"), CASES, ids=[c[0] for c in CASES])
def test_later_check_is_reported_by_validate(name: str, old: str, new: str, path: str, message: str, hint: str,
                                             tmp_path: Path, nxgov: Callable[..., Run]) -> None:
    assert old in BASE
    (tmp_path / "estate.yaml").write_text(BASE.replace(old, new, 1), encoding="utf-8")
    result = nxgov("-o", "json", "estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    located = [p for p in result.json()["problems"] if message in p["message"]]
    assert located, result.err
    assert located[0]["path"] == path and located[0]["line"] and hint in located[0]["hint"]


def test_a_valid_estate_plans(tmp_path: Path, nxgov: Callable[..., Run]) -> None:
    (tmp_path / "estate.yaml").write_text(BASE, encoding="utf-8")
    assert nxgov("estate", "validate", str(tmp_path / "estate.yaml")).code == 0
    result = nxgov("-e", str(tmp_path / "estate.yaml"), "net", "ipv6", "plan", "--dry-run")
    assert result.code == 0, result.err
