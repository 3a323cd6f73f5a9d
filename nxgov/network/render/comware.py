"""H3C Comware 7 (MSR): ``display current-configuration`` blocks.

IPv6 forwarding is on by default (no global ``ipv6``) and an interface takes an address without
``ipv6 enable``. BFD for BGP as the intent carries it for FRR (300 ms x 3), in Comware 7's syntax as the
HPE/H3C command references give it (no global ``bfd`` command is needed on Comware 7):

- ``peer X bfd`` in the BGP instance view: "enable BFD for the link to a BGP peer", IPv6 peers included;
  single-hop for a directly connected eBGP peer (HPE 5710 / MSR V7 Layer 3 IP Routing Command Reference,
  "peer bfd");
- the session's timers are the interface's: ``bfd min-transmit-interval 300``, ``bfd min-receive-interval
  300``, ``bfd detect-multiplier 3`` in the link's interface view (HP MSR2000/3000/4000 High Availability
  Command Reference, Comware 7: interface view, single-hop control packets).

The passive end is not rendered: Comware 7 has no BGP command that stops a peer from opening the
session (its ``peer X ignore`` shuts the peer down instead); BGP's collision detection settles two opens.
"""

from __future__ import annotations

from nxgov.estate.ports import default_name
from nxgov.network.intent import DeviceIntent, Neighbor, interface_name
from nxgov.network.render.display import address, bgp_family, bgp_peers, discard_route, display


def port_name(port: int) -> str:
    """The platform's default name of ``port`` (a device whose estate entry names its ports may differ)."""
    return default_name("h3c_comware", port)


def render(intent: DeviceIntent) -> str:
    bfd = intent.bfd
    sections: list[list[str]] = [[f" sysname {intent.name}"], [f" router id {intent.router_id}"]]
    for interface in intent.interfaces:
        sections.append([f"interface {interface_name(intent, interface)}", f" description {interface.description}",
                         f" ipv6 address {address(interface.address)}",
                         f" bfd min-transmit-interval {bfd.interval_ms}",
                         f" bfd min-receive-interval {bfd.interval_ms}", f" bfd detect-multiplier {bfd.multiplier}"])
    sections.append(["interface LoopBack0", f" ipv6 address {address(intent.loopback)}/128"])

    def own(n: Neighbor, peer: str) -> list[str]:
        return [f" peer {peer} bfd"]

    sections.append([f"bgp {intent.asn}", *bgp_peers(intent, own), " #", " address-family ipv6 unicast",
                     *bgp_family(intent, f"balance {intent.ecmp_paths}")])
    sections.append(discard_route(intent))
    return display(sections)
