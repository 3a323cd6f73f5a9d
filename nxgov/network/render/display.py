"""What VRP and Comware share: the ``display current-configuration`` layout and address forms."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from nxgov.network.intent import DeviceIntent, Neighbor


def display(sections: Iterable[Sequence[str]]) -> str:
    """Sections separated by ``#`` lines (a global line is indented one space), ending ``return``."""
    return "".join("#\n" + "\n".join(section) + "\n" for section in sections) + "#\nreturn\n"


def address(text: str) -> str:
    """An interface address as the devices show it: ``2001:DB8:6401::2/64``."""
    return text.upper()


def network(prefix: str) -> str:
    """A route or BGP network as the devices show it: ``2001:DB8:6410:: 48``."""
    return prefix.upper().replace("/", " ")


def bgp_peers(intent: DeviceIntent, own: Callable[[Neighbor, str], list[str]] = lambda n, peer: []) -> list[str]:
    """The peer lines of the ``bgp`` view: those both platforms spell alike, then each peer's ``own`` lines
    (given the neighbor and its address as the devices show it)."""
    lines = [f" router-id {intent.router_id}"]
    for n in intent.neighbors:
        peer = n.address.upper()
        lines += [f" peer {peer} as-number {n.asn}", f" peer {peer} description {n.description}",
                  f" peer {peer} timer keepalive {intent.timers.keepalive} hold {intent.timers.hold}",
                  *own(n, peer)]
    return lines


def bgp_family(intent: DeviceIntent, ecmp: str) -> list[str]:
    """The IPv6 unicast family's lines (two spaces in): ECMP, the announced networks, the peers enabled."""
    lines = [f"  {ecmp}"]
    lines += [f"  network {network(prefix)}" for prefix in intent.networks]
    lines += [f"  peer {n.address.upper()} enable" for n in intent.neighbors]
    return lines


def discard_route(intent: DeviceIntent) -> list[str]:
    """The static route that holds the site's block for BGP (``NULL0``)."""
    return [f" ipv6 route-static {network(intent.site_prefix)} NULL0"]
