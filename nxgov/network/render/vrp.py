"""Huawei VRP (V200R0xx): ``display current-configuration`` blocks.

Not rendered, because the lab's simulated VRP does not take them yet: BFD for BGP (``peer X bfd
enable``) and the passive end (``peer X listen-only``); the 1 s / 3 s BGP timers cover failover.
"""

from __future__ import annotations

from nxgov.network.intent import DeviceIntent
from nxgov.network.render.display import address, bgp_family, bgp_peers, discard_route, display


def port_name(port: int) -> str:
    return f"GigabitEthernet0/0/{port}"


def render(intent: DeviceIntent) -> str:
    sections: list[list[str]] = [[f" sysname {intent.name}"], [f" router id {intent.router_id}"], [" ipv6"]]
    for interface in intent.interfaces:
        sections.append([f"interface {port_name(interface.port)}", f" description {interface.description}",
                         " ipv6 enable", f" ipv6 address {address(interface.address)}"])
    sections.append(["interface LoopBack0", " ipv6 enable", f" ipv6 address {address(intent.loopback)}/128"])
    sections.append([f"bgp {intent.asn}", *bgp_peers(intent), " #", " ipv6-family unicast",
                     *bgp_family(intent, f"maximum load-balancing {intent.ecmp_paths}")])
    sections.append(discard_route(intent))
    return display(sections)
