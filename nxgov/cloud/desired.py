"""Estate → the resources that should exist on each node.

A department gets resources on the nodes its systems are placed on:

- active-active: server i of ``count`` goes to node ``i mod len(nodes)`` (Yinchuan, Zhongwei, ...),
  and each node gets an anti-affinity server group for the servers it holds;
- active-standby: the primary node holds every server, running; the standby node holds the same
  networks and volumes, and the servers stopped (``SHUTOFF``) or not at all (``standby_servers``);
- single: every server on the one node.

Security baselines (one group per baseline the department's systems need, :func:`baseline_rules`):
every baseline allows SSH (22/tcp) and ICMP from the ``operations`` prefixes only; the level 1-2
baseline also allows HTTP and HTTPS (80, 443/tcp) from anywhere; level 3-5 allows nothing else.
Egress is Neutron's default (everything, both families).

Keypairs (only when the estate sets ``server_access``, :mod:`nxgov.cloud.access`): every node that gets
servers gets the Nova keypair ``server_access.keypair`` holding the public half of the
``server_access.credentials`` key, owned by the Keystone user nxgov connects as (``Context.me``: the user of
the admin connection and of the project-scoped ones that create the servers, so Nova finds the keypair when
it boots them); every server gets it as ``key_name``. A server made without it is created again with it
(``key_name`` cannot change in place). Without ``server_access`` servers carry no ``key_name`` and no
keypair is declared.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nxgov.cloud import naming
from nxgov.cloud.access import Access, access_of
from nxgov.cloud.ipv6 import IPv6Net, allocate
from nxgov.cloud.resources import Kind, Resource
from nxgov.errors import InputError
from nxgov.estate.model import Department, Estate, Server, System

EGRESS_DEFAULTS = ("egress IPv4 any any any", "egress IPv6 any any any")


@dataclass(frozen=True)
class Context:
    """What desired state needs from the nodes: Keystone sharing, known users, IPv6 already allocated."""

    identity_node: dict[str, str]
    """node → the node whose connection manages its Keystone (nodes with one auth_url share it)."""
    users: dict[str, frozenset[str]]
    """identity node → the Keystone user names there."""
    me: dict[str, str]
    """identity node → the user nxgov connects as (it gets the member role to create servers)."""
    ipv6: dict[tuple[str, str], IPv6Net] = field(default_factory=dict)


@dataclass
class Desired:
    resources: list[Resource]
    warnings: list[str]


@dataclass(frozen=True)
class Placed:
    """One server of a system on one node."""

    system: System
    server: Server
    node: str
    name: str
    status: str
    group: str | None


def build(estate: Estate, context: Context) -> Desired:
    """Every resource the estate asks for, on every node, and warnings (e.g. operators not in Keystone).

    With ``server_access`` this reads its credentials' private key (InputError when it cannot)."""
    warnings: list[str] = []
    placed = list(placements(estate))
    access = access_of(estate)
    nodes_of: dict[str, list[str]] = {}
    for system in estate.systems:
        for node in system.placement.node_names(estate.primary_nodes()):
            nodes_of.setdefault(system.department, [])
            if node not in nodes_of[system.department]:
                nodes_of[system.department].append(node)
    departments = [d for d in estate.departments if nodes_of.get(d.code)]
    prefixes = allocate(estate, departments, context.ipv6)
    out: list[Resource] = []
    for dept in departments:
        out.extend(_identity(dept, nodes_of[dept.code], context, warnings))
        levels = sorted({naming.baseline(s.level) for s in estate.systems if s.department == dept.code})
        for node in nodes_of[dept.code]:
            out.extend(_department_on_node(estate, dept, node, prefixes, levels))
    if access is not None:
        for node in dict.fromkeys(item.node for item in placed):
            out.append(Resource(kind="keypair", node=node, department="", name=access.keypair,
                                attrs={"public_key": access.public_key,
                                       "user": context.me[context.identity_node[node]]}))
    for item in placed:
        out.extend(_server(estate, item, access))
    out.extend(_standby_volumes(estate))
    return Desired(dedupe(out), warnings)


def _identity(dept: Department, nodes: list[str], context: Context, warnings: list[str]) -> Iterator[Resource]:
    for identity in dict.fromkeys(context.identity_node[n] for n in nodes):
        yield Resource(kind="project", node=identity, department=dept.code, name=dept.code,
                       attrs={"description": dept.name, "tagged": True})
        users = context.users.get(identity, frozenset())
        for user in dict.fromkeys([context.me[identity], *dept.operators]):
            if user not in users:
                warnings.append(f"department {dept.code}: operator {user!r} is not a Keystone user on node "
                                f"{identity}; skipped (create the user, or remove it from operators)")
                continue
            yield Resource(kind="role_assignment", node=identity, department=dept.code,
                           name=naming.role_assignment(dept.code, user, naming.MEMBER_ROLE),
                           attrs={"user": user, "role": naming.MEMBER_ROLE})


def _department_on_node(estate: Estate, dept: Department, node: str, prefixes: dict[tuple[str, str], IPv6Net],
                        levels: list[int]) -> Iterator[Resource]:
    def make(kind: Kind, name: str, **attrs: Any) -> Resource:
        return Resource(kind=kind, node=node, department=dept.code, name=name, attrs=attrs)

    q = dept.quotas
    yield make("quota_compute", dept.code, cores=q.cores, ram=q.ram_gb * 1024, instances=q.instances)
    yield make("quota_network", dept.code, networks=q.networks, routers=q.routers,
               security_groups=q.security_groups)
    yield make("quota_volume", dept.code, gigabytes=q.volumes_gb, volumes=q.volumes, snapshots=q.snapshots)
    router = naming.router(dept.code)
    if dept.networks:
        yield make("router", router, tagged=True)
    for net in dept.networks:
        net_name = naming.network(dept.code, net.name)
        yield make("network", net_name, tagged=True)
        subnets: list[tuple[int, ipaddress.IPv4Network | IPv6Net]] = [(6, prefixes[(dept.code, net.name)])]
        if net.ipv4 is not None:
            subnets.insert(0, (4, net.ipv4))
        for version, cidr in subnets:
            sub = naming.subnet(dept.code, net.name, version)
            yield make("subnet", sub, network=net_name, cidr=str(cidr), tagged=True)
            yield make("router_interface", naming.router_interface(router, sub), router=router, subnet=sub)
    for level in levels:
        yield make("security_group", naming.security_group(dept.code, level),
                   rules=baseline_rules(level, estate.operations), tagged=True)


def baseline_rules(level: int, operations: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[str]:
    """The rules of a baseline, as ``direction ethertype protocol ports remote`` strings (sorted)."""
    rules = set(EGRESS_DEFAULTS)
    for prefix in operations:
        ether = f"IPv{prefix.version}"
        rules.add(f"ingress {ether} tcp 22 {prefix}")
        rules.add(f"ingress {ether} {'icmp' if prefix.version == 4 else 'ipv6-icmp'} any {prefix}")
    if naming.baseline(level) == 2:
        for port in (80, 443):
            rules.add(f"ingress IPv4 tcp {port} 0.0.0.0/0")
            rules.add(f"ingress IPv6 tcp {port} ::/0")
    return sorted(rules)


def placements(estate: Estate) -> Iterator[Placed]:
    """Every server of every system on each node it goes to (a standby node's stopped copies included)."""
    primaries = estate.primary_nodes()
    for system in estate.systems:
        placement = system.placement
        nodes = placement.node_names(primaries)
        for server in system.servers:
            for i in range(1, server.count + 1):
                name = naming.server(system.code, server.name, i)
                if placement.mode == "active-active":
                    node = nodes[(i - 1) % len(nodes)]
                    yield Placed(system, server, node, name, "ACTIVE", naming.server_group(system.code, server.name))
                elif placement.mode == "single":
                    yield Placed(system, server, nodes[0], name, "ACTIVE", None)
                else:
                    yield Placed(system, server, nodes[0], name, "ACTIVE", None)
                    if placement.standby_servers == "stopped":
                        yield Placed(system, server, nodes[1], name, "SHUTOFF", None)


def _server(estate: Estate, item: Placed, access: Access | None) -> Iterator[Resource]:
    system, server, node = item.system, item.server, item.node
    dept = estate.department(system.department)
    if not dept.networks:
        raise InputError(f"system {system.code}: department {dept.code} declares no network for its servers",
                         f"add a network to department {dept.code}, e.g. networks: [{{name: app}}]")
    net = server.network or dept.networks[0].name

    def make(kind: Kind, name: str, **attrs: Any) -> Resource:
        return Resource(kind=kind, node=node, department=dept.code, system=system.code, name=name, attrs=attrs)

    if item.group is not None:
        yield make("server_group", item.group, policy="anti-affinity")
    key = {} if access is None else {"key_name": access.keypair}
    yield make("server", item.name, flavor=server.flavor, image=server.image, network=naming.network(dept.code, net),
               security_groups=[naming.security_group(dept.code, system.level)], status=item.status,
               server_group=item.group, tagged=True, **key)
    for k, size in enumerate(server.volumes_gb, start=1):
        vol = naming.volume(item.name, k)
        yield make("volume", vol, size=size, tagged=True)
        yield make("attachment", naming.attachment(item.name, vol), server=item.name, volume=vol)


def _standby_volumes(estate: Estate) -> Iterator[Resource]:
    """Volumes of active-standby systems whose standby servers are absent: kept on the standby node."""
    for system in estate.systems:
        placement = system.placement
        if placement.mode != "active-standby" or placement.standby_servers != "absent":
            continue
        for server in system.servers:
            for i in range(1, server.count + 1):
                for k, size in enumerate(server.volumes_gb, start=1):
                    yield Resource(kind="volume", node=placement.standby or "", department=system.department,
                                   system=system.code, name=naming.volume(naming.server(system.code, server.name, i),
                                                                          k), attrs={"size": size, "tagged": True})


def dedupe(resources: list[Resource]) -> list[Resource]:
    """Drop repeats (a server group yielded once per server); two different resources with one key are an error.

    ``nxgov estate validate`` refuses estates whose cloud names collide, so this guards estates built in code.
    """
    seen: dict[str, Resource] = {}
    for resource in resources:
        first = seen.setdefault(resource.key, resource)
        if first != resource:
            raise InputError(f"{resource.kind} {resource.name} on node {resource.node} is derived twice: by "
                             f"{_owner(first)} and by {_owner(resource)}",
                             "rename one of the two (system, server or network) so that the cloud names differ")
    return list(seen.values())


def _owner(resource: Resource) -> str:
    return f"system {resource.system}" if resource.system else f"department {resource.department}"
