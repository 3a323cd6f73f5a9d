"""Device intents: uplinks per plane for plane-attached and dual-homed devices; both planes carry each site."""

from __future__ import annotations

import pytest

from nxgov.errors import InputError
from nxgov.estate.model import Estate
from nxgov.network.intent import DeviceIntent, build_intents
from nxgov.network.ipv6plan import compute_plan
from nxgov.network.topology import build_topology
from tests.network.estates import full_scale_plan, sample


def intents(estate: Estate) -> dict[str, DeviceIntent]:
    return {i.name: i for i in build_intents(compute_plan(estate))}


def uplinks(intent: DeviceIntent) -> list[tuple[str, str]]:
    return [(n.plane, n.peer) for n in intent.neighbors if not n.passive]


def test_plane_attached_devices_have_one_uplink_on_their_plane() -> None:
    by_name = intents(sample("ningxia"))
    a, b = by_name["ce-640104-a"], by_name["ce-640104-b"]
    assert uplinks(a) == [("A", "ce-640100-a")] and uplinks(b) == [("B", "ce-640100-b")]
    assert a.planes == ("A",) and b.planes == ("B",)
    assert [(i.port, i.plane, i.role, i.peer) for i in a.interfaces] == [(0, "A", "uplink", "ce-640100-a")]
    assert a.asn == by_name["ce-640104-b"].asn != by_name["ce-640100-a"].asn
    assert a.neighbors[0].asn == by_name["ce-640100-a"].asn
    assert by_name["ce-640000-a"].neighbors and not uplinks(by_name["ce-640000-a"])  # the region roots the plane


def test_dual_homed_device_has_one_uplink_per_plane_to_its_dual_homed_parent() -> None:
    by_name = intents(sample("lab"))
    county = by_name["frr-640104"]
    assert county.planes == ("A", "B")
    assert uplinks(county) == [("A", "frr-640100"), ("B", "frr-640100")]
    assert [i.port for i in county.interfaces] == [0, 1]
    city = by_name["frr-640100"]
    down = {(n.plane, n.peer): n for n in city.neighbors if n.passive}
    assert set(down) == {("A", "frr-640104"), ("B", "frr-640104")}
    # the ends of each link are ::1 (parent) and ::2 (child) of one /64, and each side peers with the other
    for plane in ("A", "B"):
        child_end = next(i for i in county.interfaces if i.plane == plane)
        parent_end = next(i for i in city.interfaces if i.plane == plane and i.peer == "frr-640104")
        assert child_end.address.endswith("::2/64") and parent_end.address.endswith("::1/64")
        assert child_end.address[:-5] == parent_end.address[:-5]
        assert down[(plane, "frr-640104")].address == child_end.address.split("/")[0]
        assert next(n for n in county.neighbors if n.plane == plane).address == parent_end.address.split("/")[0]


def test_plane_devices_under_a_dual_homed_parent_link_to_it() -> None:
    by_name = intents(sample("lab"))
    assert uplinks(by_name["vrp-640100-a"]) == [("A", "frr-640000")]
    assert uplinks(by_name["cmw-640100-b"]) == [("B", "frr-640000")]


def test_ecmp_covers_every_path_to_a_neighbouring_site() -> None:
    """The region has four links to city 640100 (its dual-homed router on A and B, its VRP CE on A, its Comware CE
    on B), each carrying the city's block: with two paths BGP's oldest-path tie-break could keep one plane only."""
    by_name = {i.name: i for i in build_intents(compute_plan(sample("lab")))}
    assert by_name["frr-640000"].ecmp_paths == 4
    assert {name: i.ecmp_paths for name, i in by_name.items() if name != "frr-640000"} == dict.fromkeys(
        set(by_name) - {"frr-640000"}, 2)


def test_both_planes_carry_every_sites_prefix() -> None:
    outcome = full_scale_plan()
    carried: dict[str, set[str]] = {}
    for intent in build_intents(outcome):
        assert intent.networks == (f"{intent.loopback}/128", intent.site_prefix)
        assert intent.timers.hold == 3 and intent.ecmp_paths == 2
        for plane in intent.planes:
            carried.setdefault(intent.site_prefix, set()).add(plane)
    assert len(carried) == 2932 and all(planes == {"A", "B"} for planes in carried.values())


def test_a_site_without_a_device_on_a_plane_at_the_parent_is_refused() -> None:
    extranet = sample("ningxia").extranet
    assert extranet is not None
    broken = extranet.model_copy(update={"devices": [d for d in extranet.devices if d.name != "ce-640100-b"]})
    with pytest.raises(InputError, match=r"ce-640104-b .* has no device on plane B to link to at its parent site"):
        build_topology(broken)


def test_unknown_device_is_named() -> None:
    with pytest.raises(InputError, match="the estate has no device ce-nope"):
        build_intents(compute_plan(sample("ningxia")), ["ce-nope"])
