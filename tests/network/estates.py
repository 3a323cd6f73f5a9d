"""Estates for the plan, intent and render tests: the samples, the full scale (loaded once), small variants."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from nxgov.estate import load_estate
from nxgov.estate.generate import generate, write
from nxgov.estate.model import Estate
from nxgov.network.ipv6plan import PlanOutcome, compute_plan
from tests.conftest import ROOT


@functools.cache
def sample(name: str) -> Estate:
    """``inventories/<name>`` (ningxia: 28 sites on two planes; lab: dual-homed FRR routers)."""
    return load_estate(ROOT / "inventories" / name).estate


@functools.cache
def full_scale() -> Estate:
    """The generated full-scale estate (2,932 sites, 5,864 devices), written out and loaded like any estate."""
    with tempfile.TemporaryDirectory() as tmp:
        write(generate("full"), Path(tmp))
        return load_estate(Path(tmp)).estate


@functools.cache
def full_scale_plan() -> PlanOutcome:
    """A fresh plan of the full-scale estate."""
    return compute_plan(full_scale())


def with_extranet(estate: Estate, **changes: Any) -> Estate:
    """``estate`` with extranet fields replaced (``sites``, ``devices`` as lists of dicts, ``prefix``)."""
    extranet = estate.extranet
    assert extranet is not None
    data = extranet.model_dump()
    data.update(changes)
    return Estate.model_validate({**estate.model_dump(), "extranet": data})


def site(code: str, level: str, parent: str | None) -> dict[str, Any]:
    return {"code": code, "name": f"site {code}", "level": level, "parent": parent}


def devices_for(code: str) -> list[dict[str, Any]]:
    """A plane-A VRP and a plane-B Comware for site ``code``, as the generator makes them."""
    return [{"name": f"ce-{code}-{plane.lower()}", "site": code, "plane": plane, "platform": platform,
             "host": "2001:db8:64fe::1", "credentials": "extranet"}
            for plane, platform in (("A", "huawei_vrp"), ("B", "h3c_comware"))]


def grown(estate: Estate, new_sites: list[dict[str, Any]]) -> Estate:
    """``estate`` with ``new_sites`` (and their two devices each) added."""
    extranet = estate.extranet
    assert extranet is not None
    data = extranet.model_dump()
    devices = [d for s in new_sites for d in devices_for(s["code"])]
    return with_extranet(estate, sites=data["sites"] + new_sites, devices=data["devices"] + devices)


def without(estate: Estate, code: str) -> Estate:
    """``estate`` without site ``code``, its devices and (recursively) its children."""
    extranet = estate.extranet
    assert extranet is not None
    gone = {code}
    for s in extranet.sites:
        if s.parent in gone:
            gone.add(s.code)
    return with_extranet(estate, sites=[s.model_dump() for s in extranet.sites if s.code not in gone],
                         devices=[d.model_dump() for d in extranet.devices if d.site not in gone])
