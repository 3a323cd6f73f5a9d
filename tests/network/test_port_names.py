"""Interface names from the estate: a model's pattern, a device's own names, the platforms' defaults unchanged."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nxgov.errors import InputError
from nxgov.estate.model import Estate
from nxgov.estate.ports import DEFAULT_PATTERNS, clashes, default_name, name_problem, namer, parse_pattern
from nxgov.network.intent import DeviceIntent, build_intents
from nxgov.network.ipv6plan import compute_plan
from nxgov.network.parsers import BgpPeer, InterfaceState, Route
from nxgov.network.render import render
from tests.network.estates import sample, with_extranet

MODELS = {"ce6881": {"platform": "huawei_vrp", "ports": "100GE1/0/{n+1}"},
          "msr3620": {"platform": "h3c_comware", "ports": "GE0/{n}"}}


def named(changes: dict[str, dict[str, Any]], estate: Estate | None = None) -> Estate:
    """The ningxia sample with ``changes`` made to devices by name (and the models above declared)."""
    base = estate or sample("ningxia")
    assert base.extranet is not None
    devices = [{**d.model_dump(), **changes.get(d.name, {})} for d in base.extranet.devices]
    return with_extranet(base, devices=devices, models=MODELS)


def intent_of(estate: Estate, name: str) -> DeviceIntent:
    return build_intents(compute_plan(estate), [name])[0]


def test_defaults_are_the_names_nxgov_always_rendered() -> None:
    assert [default_name(p, 0) for p in DEFAULT_PATTERNS] == ["GigabitEthernet0/0/0", "GigabitEthernet1/0/1", "eth0",
                                                              "GigabitEthernet0/0"]
    assert default_name("h3c_comware", 11) == "GigabitEthernet1/0/12"


def test_patterns() -> None:
    pattern = parse_pattern("100GE1/0/{n+1}")
    assert (pattern.name(0), pattern.name(47), pattern.text) == ("100GE1/0/1", "100GE1/0/48", "100GE1/0/{n+1}")
    assert [pattern.port(n) for n in ("100GE1/0/1", "100GE1/0/48", "100GE1/0/0", "100GE1/0/01", "100GE1/0/x")] == [
        0, 47, None, None, None]
    for bad in ("100GE1/0/1", "eth{n}{n}", "eth{m}", "{n}}"):
        with pytest.raises(ValueError):
            parse_pattern(bad)


def test_names_for_the_platform() -> None:
    assert name_problem("100GE1/0/1", "huawei_vrp") is None and name_problem("Eth-Trunk1", "huawei_vrp") is None
    assert name_problem("XGigabitEthernet0/0/1", "frr") is not None and name_problem("eth0", "frr") is None
    assert "white space" in str(name_problem("GE 1/0/1", "h3c_comware"))
    assert "empty" in str(name_problem("", "cisco_ios")) and "loopback" in str(name_problem("LoopBack0", "huawei_vrp"))
    assert clashes("huawei_vrp", None, {0: "GigabitEthernet0/0/1", 1: "GigabitEthernet0/0/2"}) == [
        (1, "port 1 is mapped to 'GigabitEthernet0/0/2', the name pattern 'GigabitEthernet0/0/{n}' gives port 2")]
    assert clashes("huawei_vrp", None, {0: "GigabitEthernet0/0/1", 1: "GigabitEthernet0/0/0"}) == []
    assert namer("huawei_vrp", "100GE1/0/{n}", {2: "Eth-Trunk7"})(2) == "Eth-Trunk7"


def test_render_with_a_model_gives_its_names_and_keeps_ports_and_addresses() -> None:
    plain = intent_of(sample("ningxia"), "ce-640100-a")
    mapped = intent_of(named({"ce-640100-a": {"model": "ce6881"}}), "ce-640100-a")
    assert [i.port for i in mapped.interfaces] == [i.port for i in plain.interfaces] == list(range(7))
    assert [i.name for i in mapped.interfaces] == [f"100GE1/0/{n + 1}" for n in range(7)]
    text = render(mapped)
    assert "interface 100GE1/0/1\n description plane A uplink to ce-640000-a\n" in text
    assert "GigabitEthernet" not in text and text.count("\ninterface 100GE1/0/") == 7
    assert re.sub(r"interface 100GE1/0/(\d+)", lambda m: f"interface GigabitEthernet0/0/{int(m[1]) - 1}",
                  text) == render(plain)


def test_render_with_a_devices_own_names_and_the_default_for_the_rest() -> None:
    estate = named({"ce-640100-b": {"ports": {0: "Ten-GigabitEthernet1/0/49"}},
                    "ce-640104-b": {"model": "msr3620", "ports": {0: "GE0/9"}}})
    city = render(intent_of(estate, "ce-640100-b"))
    assert "interface Ten-GigabitEthernet1/0/49\n description plane B uplink to ce-640000-b\n" in city
    assert "interface GigabitEthernet1/0/2\n" in city and "interface GigabitEthernet1/0/1\n" not in city
    county = intent_of(estate, "ce-640104-b")
    assert [i.name for i in county.interfaces] == ["GE0/9"]


def test_defaults_unchanged_for_devices_the_estate_does_not_name() -> None:
    estate = named({"ce-640100-a": {"model": "ce6881"}})
    for name in ("ce-640000-a", "ce-640100-b", "ce-640104-a"):
        assert render(intent_of(estate, name)) == render(intent_of(sample("ningxia"), name))
        assert all(i.name is None for i in intent_of(estate, name).interfaces)


def test_two_ports_sharing_a_name_are_never_rendered() -> None:
    """What 'estate validate' reports; an estate built past it (here: in Python) is still refused at intent time."""
    estate = named({"ce-640100-a": {"ports": {0: "GigabitEthernet0/0/3"}}})
    with pytest.raises(InputError, match="ports 0 and 3 are both named GigabitEthernet0/0/3"):
        intent_of(estate, "ce-640100-a")


def test_frr_lab_routers_take_the_estates_names() -> None:
    from nxgov.lab.frr import cabled

    lab = sample("lab")
    assert lab.extranet is not None
    estate = with_extranet(lab, devices=[{**d.model_dump(), **({"ports": {0: "up0"}} if d.name == "frr-640104" else {})}
                                         for d in lab.extranet.devices])
    intents = build_intents(compute_plan(estate))
    routers = {r.name: r for r in cabled(intents, {i.name: "192.0.2.1" for i in intents}).routers}
    assert routers["frr-640104"].ports[0].name == "up0" and routers["frr-640100"].ports[0].name == "eth0"


class _Reader:
    """A device that reports every interface up; its driver's default naming is deliberately not the estate's."""

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def interface_name(self, port: int) -> str:
        return f"default{port}"

    def get_bgp_peers(self) -> tuple[BgpPeer, ...]:
        return ()

    def get_interface_states(self) -> tuple[InterfaceState, ...]:
        return ()

    def get_routes(self) -> tuple[Route, ...]:
        return ()


def test_verify_reads_ports_by_the_estates_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from nxgov.network import verify
    from nxgov.network.drivers import Target

    monkeypatch.setattr(verify, "driver", lambda target, options: _Reader())
    estate = named({"ce-640100-a": {"model": "ce6881"}})
    intents = {i.name: i for i in build_intents(compute_plan(estate), ["ce-640100-a", "ce-640000-a"])}
    targets = [Target(name, "huawei_vrp", "192.0.2.1", 22, None) for name in intents]  # type: ignore[arg-type]
    readings = {r.device: r for r in verify.read(targets, intents, None, [])}  # type: ignore[arg-type]
    assert readings["ce-640100-a"].ports == {n: f"100GE1/0/{n + 1}" for n in range(7)}
    region = readings["ce-640000-a"].ports
    assert region and all(name == f"default{port}" for port, name in region.items())
