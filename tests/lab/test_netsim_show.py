"""The simulated devices' state ``display`` commands, rendered from FRR's JSON (fixtures under netsim_show/, one per
case: the input JSON and what nxgov's own VRP and Comware parsers must read back from either rendering)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from nxgov.estate.ports import default_name
from nxgov.lab.netsim.comware import COMWARE
from nxgov.lab.netsim.dialect import Dialect
from nxgov.lab.netsim.show import Port, short_name
from nxgov.lab.netsim.vrp import VRP
from nxgov.network.parsers import comware, vrp

FIXTURES = Path(__file__).parent / "netsim_show"
CASES = sorted(path.stem for path in FIXTURES.glob("*.json"))
PLATFORMS: dict[str, tuple[Dialect, ModuleType]] = {"huawei_vrp": (VRP, vrp), "h3c_comware": (COMWARE, comware)}


def _name(platform: str, text: str) -> str:
    """``portN`` in a fixture: the platform's default name of port N."""
    return default_name(platform, int(text[4:])) if text.startswith("port") else text


def _read(parsers: ModuleType, what: str, lines: list[str]) -> list[Any]:
    parsed = getattr(parsers, what).parse("\n".join(lines) + "\n")
    assert parsed.unparsed == (), parsed.unparsed
    return list(parsed.rows)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("case", CASES)
def test_rendered_state_reads_back_with_nxgovs_parsers(case: str, platform: str) -> None:
    data = json.loads((FIXTURES / f"{case}.json").read_text())
    expected = yaml.safe_load((FIXTURES / f"{case}.yaml").read_text())
    dialect, parsers = PLATFORMS[platform]
    if "bgp" in data:
        assert [asdict(row) for row in _read(parsers, "BGP_PEERS", dialect.show_bgp(data["bgp"]))] == expected["bgp"]
    if "routes" in data:
        def rename(linux: str) -> str:
            return "LoopBack0" if linux == "lo" else default_name(platform, int(linux.removeprefix("eth")))

        rows = _read(parsers, "ROUTES", dialect.show_routes(data["routes"], rename))
        index = 0 if platform == "huawei_vrp" else 1
        assert [(r.prefix, r.protocol, list(r.interfaces)) for r in rows] == [
            (e["prefix"], e["protocol"][index], [_name(platform, i) for i in e["interfaces"]])
            for e in expected["routes"]]
    if "ports" in data:
        ports = [Port(**{**p, "name": _name(platform, p["name"])}) for p in data["ports"]]
        rows = _read(parsers, "INTERFACES", dialect.show_interfaces(ports))
        assert [asdict(r) for r in rows] == [{**e, "name": _name(platform, e["name"])} for e in expected["interfaces"]]


def test_a_wrapped_peer_is_printed_as_the_devices_print_it() -> None:
    data = json.loads((FIXTURES / "every_state_long_uptime_wrapped.json").read_text())
    table = VRP.show_bgp(data["bgp"])
    at = table.index("  2001:DB8:6401:2300:0:FFFF:0:1")
    assert table[at + 1].startswith(" " * 18 + "4  4200000003")
    assert table[table.index("  2001:DB8:6401:1::2") + 1] == (
        "                  4  4200000002    90211    90213     0  626h43m Established       12")
    assert "0626h43m Established" in "\n".join(COMWARE.show_bgp(data["bgp"]))


@pytest.mark.parametrize(("full", "short"), [("GigabitEthernet1/0/1", "GE1/0/1"), ("LoopBack0", "Loop0"),
                                             ("Ten-GigabitEthernet1/0/49", "XGE1/0/49"), ("NULL0", "NULL0"),
                                             ("Vlan-interface10", "Vlan10")])
def test_comware_abbreviates_interface_names_in_its_tables(full: str, short: str) -> None:
    assert short_name(full) == short and comware.interface_name(short) == full
