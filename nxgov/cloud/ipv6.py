"""IPv6 for tenant networks: the department's block and each network's /64, when the estate says 'auto'.

Scheme (deterministic, and stable without a state file because the clouds hold the memory):

- A department whose ``ipv6`` is ``auto`` gets a /48 of ``cloud_ipv6``. Its slot is
  ``sha256(code) mod slots``, probing upwards past slots already taken (by departments with an
  explicit block, by departments that already hold a block, and by departments placed before it in
  code order). A department that already has an IPv6 subnet on a node keeps the /48 around it.
- A network whose ``ipv6`` is ``auto`` gets a /64 of its department's block the same way, keyed by
  ``sha256(department/network)``; an IPv6 subnet already on a node is kept as long as it lies in
  the department's block.

So adding or removing a department never renumbers another one, reordering the estate changes
nothing, and the usual outcome (no hash collision) is the same /48 on any fresh cloud.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping

from nxgov.errors import DepartmentInputError
from nxgov.estate.model import Department, Estate

IPv6Net = ipaddress.IPv6Network
DEPARTMENT_PREFIX = 48
NETWORK_PREFIX = 64


def allocate(estate: Estate, departments: list[Department],
             existing: Mapping[tuple[str, str], IPv6Net]) -> dict[tuple[str, str], IPv6Net]:
    """The IPv6 /64 of every (department code, network name) of ``departments``.

    ``existing`` holds the IPv6 prefixes already on the nodes, by (department, network).
    Raises :class:`DepartmentInputError` (an :class:`InputError`) when a block has no room left.
    """
    blocks = _department_blocks(estate, departments, existing)
    result: dict[tuple[str, str], IPv6Net] = {}
    for dept in departments:
        block = blocks[dept.code]
        taken = {net.ipv6 for net in dept.networks if isinstance(net.ipv6, IPv6Net)}
        kept = {key: prefix for key, prefix in existing.items()
                if key[0] == dept.code and prefix.prefixlen == NETWORK_PREFIX and prefix.subnet_of(block)}
        taken |= set(kept.values())
        for net in sorted(dept.networks, key=lambda n: n.name):
            if isinstance(net.ipv6, IPv6Net):
                result[(dept.code, net.name)] = net.ipv6
                continue
            if (dept.code, net.name) in kept:
                result[(dept.code, net.name)] = kept[(dept.code, net.name)]
                continue
            prefix = _probe(block, NETWORK_PREFIX, f"{dept.code}/{net.name}", taken)
            if prefix is None:
                raise DepartmentInputError(
                    dept.code, f"department {dept.code}: its IPv6 block {block} has no free /64 left for network "
                    f"{net.name}", "give the department a larger ipv6 block, or fewer networks")
            taken.add(prefix)
            result[(dept.code, net.name)] = prefix
    return result


def _department_blocks(estate: Estate, departments: list[Department],
                       existing: Mapping[tuple[str, str], IPv6Net]) -> dict[str, IPv6Net]:
    blocks: dict[str, IPv6Net] = {}
    taken: set[IPv6Net] = {d.ipv6 for d in estate.departments if isinstance(d.ipv6, IPv6Net)}
    auto = [d for d in departments if not isinstance(d.ipv6, IPv6Net)]
    for dept in departments:
        if isinstance(dept.ipv6, IPv6Net):
            blocks[dept.code] = dept.ipv6
    if not auto:
        return blocks
    pool = estate.cloud_ipv6
    if pool is None or pool.prefixlen > DEPARTMENT_PREFIX:
        raise DepartmentInputError(
            auto[0].code, f"department {auto[0].code} asks for an 'auto' IPv6 block, but cloud_ipv6 is "
            f"{pool or 'not set'}", f"set cloud_ipv6 to a /{DEPARTMENT_PREFIX} or shorter prefix, or "
            "give the department an explicit ipv6 block")
    held = {}
    for (code, _), prefix in existing.items():
        block = prefix.supernet(new_prefix=DEPARTMENT_PREFIX) if prefix.prefixlen >= DEPARTMENT_PREFIX else None
        if block is not None and block.subnet_of(pool) and code not in held:
            held[code] = block
    for dept in auto:
        if dept.code in held and held[dept.code] not in taken:
            blocks[dept.code] = held[dept.code]
            taken.add(held[dept.code])
    for dept in sorted(auto, key=lambda d: d.code):
        if dept.code in blocks:
            continue
        block = _probe(pool, DEPARTMENT_PREFIX, dept.code, taken)
        if block is None:
            raise DepartmentInputError(
                dept.code, f"IPv6 allocation exhausted: cloud_ipv6 {pool} has no free /{DEPARTMENT_PREFIX} left for "
                f"department {dept.code}",
                "widen cloud_ipv6, release departments that left, or give this one an explicit block")
        taken.add(block)
        blocks[dept.code] = block
    return blocks


def _probe(pool: IPv6Net, length: int, key: str, taken: set[IPv6Net]) -> IPv6Net | None:
    """The first free /length of ``pool`` at or after the slot ``key`` hashes to; None when all are taken."""
    slots = 1 << (length - pool.prefixlen)
    start = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % slots
    size = 1 << (128 - length)
    base = int(pool.network_address)
    limit = min(slots, 1 << 16)
    for step in range(limit):
        candidate = IPv6Net((base + ((start + step) % slots) * size, length))
        if not any(candidate.overlaps(other) for other in taken):
            return candidate
    return None
