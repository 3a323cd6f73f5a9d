"""Render a device's intent as its platform's configuration text (``render(intent) -> str``).

VRP and Comware text is what ``display current-configuration`` prints (blocks separated by ``#``
lines, sub-view lines indented one space per level, addresses in the devices' upper-case form, ending
``return``), so a device configured from it prints the same blocks back. FRR text is a ``frr.conf``
(what ``show running-config`` prints) that vtysh of FRR 8.4 loads; Cisco IOS text is a running-config.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from nxgov.errors import InputError
from nxgov.network.intent import DeviceIntent, build_intents
from nxgov.network.ipv6plan import PlanOutcome
from nxgov.network.render import cisco_ios, comware, frr, vrp

RENDERERS: dict[str, Callable[[DeviceIntent], str]] = {
    "huawei_vrp": vrp.render,
    "h3c_comware": comware.render,
    "frr": frr.render,
    "cisco_ios": cisco_ios.render,
}


def render(intent: DeviceIntent) -> str:
    """The configuration of ``intent``'s device in its platform's own format."""
    renderer = RENDERERS.get(intent.platform)
    if renderer is None:
        raise InputError(f"device {intent.name}: no renderer for platform {intent.platform}",
                         f"platforms nxgov renders: {', '.join(RENDERERS)}")
    return renderer(intent)


def candidates(outcome: PlanOutcome, devices: Collection[str] | None = None) -> dict[str, str]:
    """Each device's (or each of ``devices``') configuration rendered from the IPv6 plan ``outcome``, by name."""
    return {intent.name: render(intent) for intent in build_intents(outcome, devices)}


__all__ = ["RENDERERS", "candidates", "render"]
