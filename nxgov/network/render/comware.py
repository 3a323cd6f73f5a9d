"""H3C Comware 7 (MSR): ``display current-configuration`` blocks.

IPv6 forwarding is on by default (no global ``ipv6``) and an interface takes an address without
``ipv6 enable``. Not rendered, because the lab's simulated Comware does not take them yet: BFD for
BGP (``peer X bfd``); the 1 s / 3 s BGP timers cover failover.
"""

from __future__ import annotations

from nxgov.network.intent import DeviceIntent
from nxgov.network.render.display import address, bgp_family, bgp_peers, discard_route, display


def port_name(port: int) -> str:
    return f"GigabitEthernet1/0/{port + 1}"


def render(intent: DeviceIntent) -> str:
    sections: list[list[str]] = [[f" sysname {intent.name}"], [f" router id {intent.router_id}"]]
    for interface in intent.interfaces:
        sections.append([f"interface {port_name(interface.port)}", f" description {interface.description}",
                         f" ipv6 address {address(interface.address)}"])
    sections.append(["interface LoopBack0", f" ipv6 address {address(intent.loopback)}/128"])
    sections.append([f"bgp {intent.asn}", *bgp_peers(intent), " #", " address-family ipv6 unicast",
                     *bgp_family(intent, f"balance {intent.ecmp_paths}")])
    sections.append(discard_route(intent))
    return display(sections)
