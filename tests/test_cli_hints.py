"""Hints name a command that really lists what they refer to."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import Run

Nx = Callable[..., Run]


def test_an_unknown_site_points_to_a_listing_that_has_the_sites(nxgov: Nx) -> None:
    assert nxgov("net", "ipv6", "plan").code == 0
    result = nxgov("net", "render", "--site", "999999")
    assert result.code == 2
    assert "nxgov estate show --sites" in result.err
    listing = nxgov("estate", "show", "--sites")
    assert listing.code == 0, listing.err
    assert "640104" in listing.out


def test_an_unknown_device_points_to_a_listing_that_has_the_devices(nxgov: Nx) -> None:
    assert nxgov("net", "ipv6", "plan").code == 0
    result = nxgov("net", "render", "-d", "zz-nothing-like-it")
    assert result.code == 2
    assert "nxgov estate show --devices" in result.err
    listing = nxgov("-o", "json", "estate", "show", "--devices")
    assert listing.code == 0, listing.err
    devices = json.loads(listing.out)["devices"]
    names = [d["name"] for d in devices]
    assert names
    table = nxgov("estate", "show", "--devices")
    assert names[0] in table.out


def test_estate_show_lists_sites_in_json(nxgov: Nx) -> None:
    result = nxgov("-o", "json", "estate", "show", "--sites")
    sites = json.loads(result.out)["sites"]
    assert {"code", "name", "level", "parent"} <= set(sites[0])
    assert "devices" not in json.loads(result.out)
