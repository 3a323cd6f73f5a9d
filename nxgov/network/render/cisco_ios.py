"""Cisco IOS / IOS XE: a running-config. IPv6 unicast routing, eBGP with 1 s / 3 s timers (no BFD)."""

from __future__ import annotations

from nxgov.estate.ports import default_name
from nxgov.network.intent import DeviceIntent, interface_name


def port_name(port: int) -> str:
    """The platform's default name of ``port`` (a device whose estate entry names its ports may differ)."""
    return default_name("cisco_ios", port)


def render(intent: DeviceIntent) -> str:
    lines = [f"hostname {intent.name}", "!", "ipv6 unicast-routing", "!",
             "interface Loopback0", f" ipv6 address {intent.loopback}/128", "!"]
    for interface in intent.interfaces:
        lines += [f"interface {interface_name(intent, interface)}", f" description {interface.description}",
                  " ipv6 enable", f" ipv6 address {interface.address}", " no shutdown", "!"]
    lines += [f"router bgp {intent.asn}", f" bgp router-id {intent.router_id}", " bgp log-neighbor-changes",
              " no bgp default ipv4-unicast"]
    for n in intent.neighbors:
        lines += [f" neighbor {n.address} remote-as {n.asn}", f" neighbor {n.address} description {n.description}",
                  f" neighbor {n.address} timers {intent.timers.keepalive} {intent.timers.hold}"]
        if n.passive:
            lines.append(f" neighbor {n.address} transport connection-mode passive")
    lines += [" !", " address-family ipv6", *(f"  network {prefix}" for prefix in intent.networks),
              f"  maximum-paths {intent.ecmp_paths}", *(f"  neighbor {n.address} activate" for n in intent.neighbors),
              " exit-address-family", "!", f"ipv6 route {intent.site_prefix} Null0", "!", "end"]
    return "\n".join(lines) + "\n"
