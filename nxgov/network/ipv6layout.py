"""The layout of the extranet's numbering plan: the pools every number comes from.

``extranet.prefix`` (any length from /32 to /44) is cut into 16 nibble-aligned slices, one
per purpose, and each level of the site tree draws fixed-size nibble-aligned blocks from its own
slice (a per-level pool). For the region's 2001:db8:6400::/40:

=====  ====================  ==========================================  ======  =========================
slice  /44                   holds                                        block   room
=====  ====================  ==========================================  ======  =========================
0      2001:db8:6400::/44    loopbacks 2001:db8:6400::/96                 /128    2^32-1 devices
                             plane i's links: (i+1)-th /48 (A: 6401::/48) /64     65,536 links per plane
1      2001:db8:6410::/44    the region (its first /48), then cities      /48     1 + 15 cities
2      2001:db8:6420::/44    counties                                     /52     256
3      2001:db8:6430::/44    townships                                    /56     4,096
4      2001:db8:6440::/44    villages                                     /60     65,536
5-15                         not planned: growth, and management (the estates put device
                             management addresses in 2001:db8:64fe::/48, checked not to overlap)
=====  ====================  ==========================================  ======  =========================

Why per-level pools rather than nesting a county's townships inside the county's block: the tree is
uneven (counties differ widely in how many townships they have, townships in villages) and it
changes (townships merge, villages move to another township). Nesting in a /40 on nibble boundaries
leaves at most 15 children per parent at the lower levels; pools give every level room for
thousands whatever the shape, and a site keeps its block when it moves to another parent. Each site
announces its own block into both planes (about 3,000 routes at full scale, nothing for a router),
so routing loses no aggregation it needs. Blocks: a /48 for the region and each city, /52 per county,
/56 per township, /60 per village (16 /64 LANs).

Links: one /64 per link (and per plane), the parent's end ::1 and the child's ::2, as in the lab
(RFC 4291 /64s; no /127 vendor quirks; the /64 is reserved whole). Loopbacks: a /128 per device from a
/96, so the low 32 bits (the slot, never 0) are a unique BGP router id. ASNs: one private 4-byte ASN
per site, 4,200,000,000 + n in plan order (parents first), as the lab numbers its routers. Ports: each
device's link ports are numbered 0..47 (uplinks first), so cabling never shifts when a link is added.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from nxgov.errors import InputError
from nxgov.estate.model import Extranet

Kind = Literal["site", "asn", "loopback", "link", "port"]
State = Literal["active", "reserved"]
PREFIX_KINDS: tuple[Kind, ...] = ("site", "loopback", "link")

SITE_BLOCK = {"region": 48, "city": 48, "county": 52, "township": 56, "village": 60}
SITE_SLICE = {"region": 1, "city": 1, "county": 2, "township": 3, "village": 4}
PLANNED_SLICES = 5
SHORTEST, LONGEST = 32, 44
LINK_LENGTH = 64
LOOPBACK_BITS = 32
MAX_PLANES = 15
PRIVATE_ASN_FIRST, PRIVATE_ASN_LAST = 4_200_000_000, 4_294_967_294
PORTS_PER_DEVICE = 48


@dataclass(frozen=True)


class Pool:
    """Where one kind of number comes from: slots ``first`` .. ``first + capacity - 1``.

    A prefix pool (``length`` > 0) hands out /length blocks, slot n being the n-th block from ``base``;
    a number pool (``length`` 0) hands out ``base + n``.
    """

    name: str
    kind: Kind
    span: str
    base: int
    length: int
    first: int
    capacity: int

    def value(self, slot: int) -> str:
        if not self.length:
            return str(self.base + slot)
        return f"{ipaddress.IPv6Address(self.base + (slot << (128 - self.length))).compressed}/{self.length}"

    @property
    def unit(self) -> str:
        return f"/{self.length} blocks" if self.length else {"port": "ports", "asn": "ASNs"}.get(self.kind, "numbers")


@dataclass(frozen=True)
class Layout:
    """The pools cut from one extranet prefix (port pools are per device: :meth:`port_pool`)."""

    prefix: ipaddress.IPv6Network
    pools: dict[str, Pool]

    def port_pool(self, device: str) -> Pool:
        return Pool(f"port:{device}", "port", f"link ports of {device}", 0, 0, 0, PORTS_PER_DEVICE)

    def planned_span(self) -> str:
        """The slices the plan hands out, as text: the first to the last planned /(len+4)."""
        slice_len = self.prefix.prefixlen + 4
        last = int(self.prefix.network_address) + ((PLANNED_SLICES - 1) << (128 - slice_len))
        return f"{self.prefix.network_address}/{slice_len} to {ipaddress.IPv6Address(last)}/{slice_len}"

    def in_plan(self, low: int, high: int) -> bool:
        """Whether addresses ``low`` .. ``high`` (as integers) overlap a slice the plan hands out."""
        first = int(self.prefix.network_address)
        last = first + (PLANNED_SLICES << (124 - self.prefix.prefixlen)) - 1
        return low <= last and high >= first


def build_layout(extranet: Extranet) -> Layout:
    """The pools of ``extranet.prefix`` (see the module's docstring)."""
    prefix = ipaddress.IPv6Network(extranet.prefix)
    if not SHORTEST <= prefix.prefixlen <= LONGEST:
        raise InputError(f"extranet.prefix {prefix} is /{prefix.prefixlen}; the address plan needs /{SHORTEST} "
                         f"to /{LONGEST}",
                         "use the region's allocation, e.g. a /40 (one /48 per city, /60 per village)")
    planes = [p.name for p in extranet.planes]
    if len(planes) > MAX_PLANES:
        raise InputError(f"the extranet has {len(planes)} planes; the address plan has link pools for {MAX_PLANES}")
    slice_len = prefix.prefixlen + 4
    net = int(prefix.network_address)

    def cut(index: int, length: int) -> int:
        return net + (index << (128 - length))

    def span(base: int, length: int) -> str:
        return f"{ipaddress.IPv6Address(base).compressed}/{length}"

    pools: dict[str, Pool] = {}
    upper = cut(SITE_SLICE["city"], slice_len)
    pools["region"] = Pool("region", "site", span(upper, SITE_BLOCK["region"]), upper, SITE_BLOCK["region"], 0, 1)
    pools["city"] = Pool("city", "site", span(upper, slice_len), upper, SITE_BLOCK["city"], 1,
                         2 ** (SITE_BLOCK["city"] - slice_len) - 1)
    for level in ("county", "township", "village"):
        base = cut(SITE_SLICE[level], slice_len)
        pools[level] = Pool(level, "site", span(base, slice_len), base, SITE_BLOCK[level], 0,
                            2 ** (SITE_BLOCK[level] - slice_len))
    pools["loopback"] = Pool("loopback", "loopback", span(net, 128 - LOOPBACK_BITS), net, 128, 1,
                             2**LOOPBACK_BITS - 1)
    link_len = prefix.prefixlen + 8
    for index, plane in enumerate(planes):
        base = cut(index + 1, link_len)
        pools[f"link:{plane}"] = Pool(f"link:{plane}", "link", span(base, link_len), base, LINK_LENGTH, 0,
                                      2 ** (LINK_LENGTH - link_len))
    pools["asn"] = Pool("asn", "asn", f"{PRIVATE_ASN_FIRST}-{PRIVATE_ASN_LAST}", PRIVATE_ASN_FIRST, 0, 0,
                        PRIVATE_ASN_LAST - PRIVATE_ASN_FIRST + 1)
    return Layout(prefix, pools)
