"""FRRouting 8.4: a ``frr.conf`` (integrated vtysh config) in ``show running-config`` order and form.

Checked against bgpd 8.4.4: neighbors sorted by address, each neighbor's lines in FRR's order, BFD
profile values that equal FRR's defaults left out (FRR does not print them). Interfaces are named
``eth<port>`` unless the estate names them; the loopback is ``lo``. BFD (bfdd) runs on every session with
one profile.
"""

from __future__ import annotations

import ipaddress

from nxgov.estate.ports import default_name
from nxgov.network.intent import DeviceIntent, interface_name

BFD_PROFILE = "nxgov"
BFD_DEFAULT_MULTIPLIER, BFD_DEFAULT_INTERVAL_MS = 3, 300


def port_name(port: int) -> str:
    """The platform's default name of ``port`` (a device whose estate entry names its ports may differ)."""
    return default_name("frr", port)


def render(intent: DeviceIntent) -> str:
    lines = [f"hostname {intent.name}", "service integrated-vtysh-config", "!",
             f"ipv6 route {intent.site_prefix} blackhole", "!"]
    for interface in intent.interfaces:
        lines += [f"interface {interface_name(intent, interface)}", f" description {interface.description}",
                  f" ipv6 address {interface.address}", "exit", "!"]
    lines += ["interface lo", f" ipv6 address {intent.loopback}/128", "exit", "!"]
    lines += [
        f"router bgp {intent.asn}",
        f" bgp router-id {intent.router_id}",
        " no bgp ebgp-requires-policy",
        " no bgp default ipv4-unicast",
        " bgp default ipv6-unicast",
        " bgp bestpath as-path multipath-relax",
    ]
    for n in sorted(intent.neighbors, key=lambda n: int(ipaddress.IPv6Address(n.address))):
        peer = f" neighbor {n.address}"
        lines += [f"{peer} remote-as {n.asn}", f"{peer} description {n.description}", f"{peer} bfd",
                  f"{peer} bfd profile {BFD_PROFILE}"]
        if n.passive:
            lines.append(f"{peer} passive")
        timers = intent.timers
        lines += [f"{peer} timers {timers.keepalive} {timers.hold}", f"{peer} timers connect {timers.connect}"]
    lines += [" !", " address-family ipv6 unicast", *(f"  network {prefix}" for prefix in intent.networks),
              f"  maximum-paths {intent.ecmp_paths}", " exit-address-family", "exit", "!"]
    lines += ["bfd", f" profile {BFD_PROFILE}"]
    if intent.bfd.multiplier != BFD_DEFAULT_MULTIPLIER:
        lines.append(f"  detect-multiplier {intent.bfd.multiplier}")
    if intent.bfd.interval_ms != BFD_DEFAULT_INTERVAL_MS:
        lines += [f"  receive-interval {intent.bfd.interval_ms}", f"  transmit-interval {intent.bfd.interval_ms}"]
    lines += [" exit", " !", "exit", "!"]
    return "\n".join(lines) + "\n"
