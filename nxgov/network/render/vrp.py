"""Huawei VRP (V200R0xx): ``display current-configuration`` blocks.

BFD for BGP and the passive end, as the intent carries them for FRR (300 ms x 3; the parent waits for
the child to open), in VRP's syntax as Huawei's command references give it:

- ``bfd`` in the system view enables BFD globally (a view of its own, shown as a ``bfd`` block);
- ``peer X bfd min-tx-interval 300 min-rx-interval 300 detect-multiplier 3`` and ``peer X bfd enable`` in
  the BGP view, IPv6 peers included (S-series V200R0xx reference, "peer bfd enable": views "BGP view ...",
  ``peer { group-name | ipv4-address | ipv6-address } bfd enable``; "peer bfd" sets the three parameters;
  http://a10.tagan.ru/huawei/dc/peer_bfd_enable.html, NetEngine "peer bfd" pages for the parameters);
- ``peer X listen-only`` in the BGP view: "configures a peer to only listen to connection requests and not
  to proactively send connection requests" (Huawei command reference, "peer listen-only connect-only
  (BGP view)"); never on both ends, which the intent guarantees (only the parent's end is passive).

Every line is rendered in full, defaults included, so a device that hides default values is compared on
what nxgov set, not on what it prints by default.
"""

from __future__ import annotations

from nxgov.estate.ports import default_name
from nxgov.network.intent import DeviceIntent, Neighbor, interface_name
from nxgov.network.render.display import address, bgp_family, bgp_peers, discard_route, display


def port_name(port: int) -> str:
    """The platform's default name of ``port`` (a device whose estate entry names its ports may differ)."""
    return default_name("huawei_vrp", port)


def render(intent: DeviceIntent) -> str:
    sections: list[list[str]] = [[f" sysname {intent.name}"], [f" router id {intent.router_id}"], [" ipv6"],
                                 ["bfd"]]
    for interface in intent.interfaces:
        sections.append([f"interface {interface_name(intent, interface)}", f" description {interface.description}",
                         " ipv6 enable", f" ipv6 address {address(interface.address)}"])
    sections.append(["interface LoopBack0", " ipv6 enable", f" ipv6 address {address(intent.loopback)}/128"])

    def own(n: Neighbor, peer: str) -> list[str]:
        bfd = intent.bfd
        return [*([f" peer {peer} listen-only"] if n.passive else []),
                f" peer {peer} bfd min-tx-interval {bfd.interval_ms} min-rx-interval {bfd.interval_ms} "
                f"detect-multiplier {bfd.multiplier}",
                f" peer {peer} bfd enable"]

    sections.append([f"bgp {intent.asn}", *bgp_peers(intent, own), " #", " ipv6-family unicast",
                     *bgp_family(intent, f"maximum load-balancing {intent.ecmp_paths}")])
    sections.append(discard_route(intent))
    return display(sections)
