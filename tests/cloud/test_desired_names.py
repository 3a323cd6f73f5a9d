"""Two different resources may never share a key in the desired state (issue 9: a server silently dropped)."""

from __future__ import annotations

from typing import Any

import pytest

from nxgov.cloud import desired
from nxgov.cloud.desired import Context
from nxgov.errors import InputError
from nxgov.estate.model import Estate


def _system(code: str, server: str, volume_gb: int) -> dict[str, Any]:
    return {"code": code, "department": "ab", "level": 2, "placement": {"mode": "single", "node": "yinchuan"},
            "servers": [{"name": server, "flavor": "m1.small", "image": "cirros", "volumes_gb": [volume_gb]}]}


def _estate(*systems: dict[str, Any]) -> Estate:
    return Estate.model_validate({
        "estate": "names",
        "clouds": {"yinchuan": {"cloud": "nx-yinchuan", "role": "primary"}},
        "cloud_ipv6": "2001:db8:6500::/40",
        "departments": [{"code": "ab", "name": "AB", "quotas": {"cores": 8, "ram_gb": 16, "instances": 4},
                         "networks": [{"name": "app"}]}],
        "systems": list(systems),
    })


CONTEXT = Context(identity_node={"yinchuan": "yinchuan"}, users={"yinchuan": frozenset({"admin"})},
                  me={"yinchuan": "admin"})


def test_two_servers_deriving_one_name_are_refused() -> None:
    estate = _estate(_system("ab-x", "web", 10), _system("ab", "x-web", 20))
    with pytest.raises(InputError, match=r"ab-x-web-1.*system ab-x.*system ab"):
        desired.build(estate, CONTEXT)


def test_repeats_of_one_resource_are_kept_once() -> None:
    system = _system("ab-x", "web", 10)
    system["placement"] = {"mode": "active-active", "nodes": ["yinchuan", "zhongwei"]}
    system["servers"][0]["count"] = 4
    estate = Estate.model_validate({**_estate().model_dump(mode="json"),
                                    "clouds": {"yinchuan": {"cloud": "a", "role": "primary"},
                                               "zhongwei": {"cloud": "b", "role": "primary"}},
                                    "systems": [system]})
    context = Context(identity_node={"yinchuan": "yinchuan", "zhongwei": "yinchuan"},
                      users={"yinchuan": frozenset({"admin"})}, me={"yinchuan": "admin"})
    resources = desired.build(estate, context).resources
    keys = [r.key for r in resources]
    assert len(keys) == len(set(keys))
    assert keys.count("yinchuan/server_group/ab-x-web") == 1
