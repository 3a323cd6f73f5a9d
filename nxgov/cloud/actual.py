"""What exists on the nodes, read with one list call per kind per node (and per project only for quotas).

Nothing is fetched resource by resource: an admin connection lists every project's networks,
subnets, router ports, security groups (rules inline), server groups, servers (flavor, addresses,
security groups, volumes and tags inline) and volumes in one call each, and Neutron's quotas in one
call. Nova and Cinder have no "all quotas" call, so their quotas cost one call per nxgov project per
node. Keystone (projects, users, roles, role assignments) is read once per distinct auth_url.

Nova's quotas are read from ``GET /limits?tenant_id=``, not ``GET /os-quota-sets/{id}``: both give the
project's cores, RAM and instances limits, but Nova checks the project id of a quota-set read with a call
to Keystone, which makes it ten times dearer (0.3 s against 0.02 s on the lab).

A node's calls run in a pool of :data:`NODE_WORKERS` threads sharing the node's connection (keystoneauth
fetches tokens under a lock, and requests' connection pool is thread-safe); the nodes run in parallel, and
the listings start at once, while Keystone is read (only the quota reads wait for the project ids), one
per service first (:data:`FIRST_PER_SERVICE`).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nxgov.cloud import naming
from nxgov.cloud.connect import NodeClient, explain
from nxgov.cloud.desired import Context
from nxgov.cloud.ipv6 import IPv6Net
from nxgov.cloud.resources import Kind, Resource

NODE_WORKERS = 8
FIRST_PER_SERVICE = ("flavors", "images", "networks", "volumes")
"""One listing per service, made before the others: the service's keystonemiddleware validates the new
token once and caches it, where a burst of concurrent first calls would each have Keystone validate it."""


@dataclass(frozen=True)
class NodeFacts:
    """What a node offers, for preflight checks: flavors (vcpus, ram MiB, disk GiB), images, compute hosts."""

    flavors: dict[str, tuple[int, int, int]]
    flavor_ids: dict[str, str]
    images: dict[str, str]
    compute_hosts: int


@dataclass
class Actual:
    """Every nxgov-relevant resource found, the context desired state needs, and the nodes' facts."""

    resources: list[Resource]
    context: Context
    facts: dict[str, NodeFacts]
    project_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    """(identity node, project name) → project id."""

    def fingerprint(self) -> str:
        """SHA-256 of the state a plan compares: every resource's key, id and attributes."""
        rows = sorted((r.key, r.id, r.attrs) for r in self.resources)
        return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def read(clients: dict[str, NodeClient], estate: str, departments: set[str]) -> Actual:
    """Read every node in ``clients``: the projects tagged for ``estate`` and those named after one of its
    ``departments`` (read even before nxgov has tagged them), and what is inside them."""
    identity_node = _identity_groups(clients)
    pools = {node: ThreadPoolExecutor(max_workers=NODE_WORKERS) for node in clients}
    try:
        identity_futures = {node: pools[node].submit(_read_identity, clients[node], estate, departments)
                            for node in dict.fromkeys(identity_node.values())}
        listings = {node: _listings(client) for node, client in clients.items()}
        futures = {node: {name: pools[node].submit(listings[node][name]) for name in FIRST_PER_SERVICE}
                   for node in clients}
        for node, client in clients.items():
            for name in FIRST_PER_SERVICE:
                _result(futures[node][name], client)
            futures[node].update({name: pools[node].submit(fn) for name, fn in listings[node].items()
                                  if name not in FIRST_PER_SERVICE})
        identities: dict[str, _Identity] = {node: _result(f, clients[node]) for node, f in identity_futures.items()}
        for node, client in clients.items():
            for name, fn in _quota_reads(client, identities[identity_node[node]].projects).items():
                futures[node][name] = pools[node].submit(fn)
        got = {node: {name: _result(f, clients[node]) for name, f in node_futures.items()}
               for node, node_futures in futures.items()}
    finally:
        for pool in pools.values():
            pool.shutdown(cancel_futures=True)
    per_node = {node: (_normalise(node, identities[identity_node[node]].projects, got[node]), _facts(got[node]))
                for node in clients}
    resources: list[Resource] = []
    for ident in identities.values():
        resources.extend(ident.resources)
    facts: dict[str, NodeFacts] = {}
    ipv6: dict[tuple[str, str], IPv6Net] = {}
    for node, (found, node_facts) in per_node.items():
        resources.extend(found)
        facts[node] = node_facts
        for r in found:
            if r.kind == "subnet" and r.name.endswith("-v6"):
                net = r.name[len(r.department) + 1:-3]
                ipv6.setdefault((r.department, net), ipaddress.IPv6Network(r.attrs["cidr"]))
    context = Context(identity_node=identity_node,
                      users={node: frozenset(i.users.values()) for node, i in identities.items()},
                      me={node: i.me for node, i in identities.items()}, ipv6=ipv6)
    project_ids = {(node, name): pid for node, i in identities.items() for pid, name in i.projects.items()}
    return Actual(resources, context, facts, project_ids)


def _result(future: Future[Any], client: NodeClient) -> Any:
    try:
        return future.result()
    except Exception as error:
        raise explain(error, client.node, client.entry) from error


def _identity_groups(clients: dict[str, NodeClient]) -> dict[str, str]:
    """node → the first node (estate order) with the same auth_url: they share one Keystone."""
    first: dict[str, str] = {}
    return {node: first.setdefault(client.auth_url, node) for node, client in clients.items()}


@dataclass
class _Identity:
    node: str
    projects: dict[str, str]
    """project id → name, of nxgov's projects (tagged, or named after a department)."""
    users: dict[str, str]
    me: str
    resources: list[Resource]


def _read_identity(client: NodeClient, estate: str, departments: set[str]) -> _Identity:
    conn = client.conn
    with ThreadPoolExecutor(max_workers=4) as pool:
        projects_f = pool.submit(lambda: list(conn.identity.projects(domain_id="default")))
        users_f = pool.submit(lambda: list(conn.identity.users()))
        roles_f = pool.submit(lambda: list(conn.identity.roles()))
        assignments_f = pool.submit(lambda: list(conn.identity.role_assignments()))
    users = {u.id: u.name for u in users_f.result()}
    roles = {r.id: r.name for r in roles_f.result()}
    projects: dict[str, str] = {}
    resources: list[Resource] = []
    marks = {naming.TAG, naming.estate_tag(estate)}
    for p in projects_f.result():
        tagged = marks <= set(p.tags or [])
        if tagged or p.name in departments:
            projects[p.id] = p.name
            attrs = {"description": p.description or "", "tagged": tagged}
            resources.append(Resource(kind="project", node=client.node, department=p.name, name=p.name, id=p.id,
                                      attrs=attrs))
    for a in assignments_f.result():
        project_id = ((a.scope or {}).get("project") or {}).get("id")
        user_id = (a.user or {}).get("id")
        role = roles.get((a.role or {}).get("id", ""))
        if project_id in projects and user_id in users and role == naming.MEMBER_ROLE:
            dept, user = projects[project_id], users[user_id]
            resources.append(Resource(kind="role_assignment", node=client.node, department=dept,
                                      name=naming.role_assignment(dept, user, role), id=f"{user_id}:{project_id}",
                                      attrs={"user": user, "role": role}))
    me = users.get(str(conn.current_user_id), client.username)
    return _Identity(client.node, projects, users, me, resources)


def _listings(client: NodeClient) -> dict[str, Callable[[], Any]]:
    """The node's one-call listings; they need no project ids, so they start while Keystone is read."""
    return {
        "flavors": lambda: list(client.conn.compute.flavors(details=True)),
        "images": lambda: list(client.conn.image.images()),
        "hypervisors": lambda: list(client.conn.compute.hypervisors()),
        "networks": lambda: list(client.conn.network.networks()),
        "subnets": lambda: list(client.conn.network.subnets()),
        "routers": lambda: list(client.conn.network.routers()),
        "ports": lambda: list(client.conn.network.ports(device_owner="network:router_interface")),
        "security_groups": lambda: list(client.conn.network.security_groups()),
        "server_groups": lambda: list(client.conn.compute.server_groups(all_projects=True)),
        "servers": lambda: list(client.conn.compute.servers(details=True, all_projects=True)),
        "volumes": lambda: list(client.conn.block_storage.volumes(details=True, all_projects=True)),
        "network_quotas": lambda: list(client.conn.network.quotas()),
    }


def _quota_reads(client: NodeClient, projects: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """The per-project reads: Nova and Cinder quotas of each of nxgov's projects."""
    reads: dict[str, Callable[[], Any]] = {}
    for pid in projects:
        reads[f"compute_quota:{pid}"] = functools.partial(compute_limits, client.conn, pid)
        reads[f"volume_quota:{pid}"] = functools.partial(client.conn.block_storage.get_quota_set, pid)
    return reads


def compute_limits(conn: Any, project_id: str) -> dict[str, int]:
    """A project's Nova quota (cores, ram in MiB, instances) from its absolute limits."""
    from openstack import exceptions as os_exc

    response = conn.compute.get("/limits", params={"tenant_id": project_id})
    os_exc.raise_from_response(response)
    absolute = response.json()["limits"]["absolute"]
    return {"cores": absolute["maxTotalCores"], "ram": absolute["maxTotalRAMSize"],
            "instances": absolute["maxTotalInstances"]}


def _facts(got: dict[str, Any]) -> NodeFacts:
    return NodeFacts(flavors={f.name: (f.vcpus, f.ram, f.disk) for f in got["flavors"]},
                     flavor_ids={f.name: f.id for f in got["flavors"]},
                     images={i.name: i.id for i in got["images"]},
                     compute_hosts=len(got["hypervisors"]))


def _normalise(node: str, projects: dict[str, str], got: dict[str, Any]) -> list[Resource]:
    out: list[Resource] = []

    def add(kind: Kind, project_id: str | None, name: str, rid: str, system: str | None = None,
            **attrs: Any) -> None:
        out.append(Resource(kind=kind, node=node, department=projects[project_id or ""], name=name, id=rid,
                            system=system, attrs=attrs))

    def ours(project_id: str | None) -> bool:
        return project_id in projects

    def tagged(obj: Any) -> bool:
        return naming.TAG in (getattr(obj, "tags", None) or [])

    nets = {n.id: n.name for n in got["networks"] if ours(n.project_id)}
    for n in got["networks"]:
        if ours(n.project_id):
            add("network", n.project_id, n.name, n.id, tagged=tagged(n))
    subnets = {s.id: s.name for s in got["subnets"] if ours(s.project_id)}
    for s in got["subnets"]:
        if ours(s.project_id):
            add("subnet", s.project_id, s.name, s.id, network=nets.get(s.network_id, s.network_id), cidr=s.cidr,
                tagged=tagged(s))
    routers = {r.id: r.name for r in got["routers"] if ours(r.project_id)}
    for r in got["routers"]:
        if ours(r.project_id):
            add("router", r.project_id, r.name, r.id, tagged=tagged(r))
    for p in got["ports"]:
        if p.device_id in routers and ours(p.project_id):
            for ip in p.fixed_ips or []:
                sub = subnets.get(ip.get("subnet_id", ""), ip.get("subnet_id", ""))
                add("router_interface", p.project_id, naming.router_interface(routers[p.device_id], sub), p.id,
                    router=routers[p.device_id], subnet=sub)
    for g in got["security_groups"]:
        if ours(g.project_id) and g.name != "default":
            rules = sorted(rule_text(rule) for rule in g.security_group_rules)
            add("security_group", g.project_id, g.name, g.id, rules=rules, tagged=tagged(g))
    group_of: dict[str, str] = {}
    for g in got["server_groups"]:
        if ours(g.project_id):
            add("server_group", g.project_id, g.name, g.id, policy=(g.policy or (g.policies or [""])[0]))
            for member in g.member_ids or []:
                group_of[member] = g.name
    images = {i.id: i.name for i in got["images"]}
    volumes = {v.id: v.name for v in got["volumes"] if ours(v.project_id)}
    for v in got["volumes"]:
        if ours(v.project_id):
            add("volume", v.project_id, v.name, v.id, size=v.size, tagged=naming.TAG in (v.metadata or {}))
    for s in got["servers"]:
        if not ours(s.project_id):
            continue
        flavor = (s.flavor or {}).get("original_name") or (s.flavor or {}).get("name") or ""
        image = images.get((s.image or {}).get("id", ""), "") if s.image else ""
        add("server", s.project_id, s.name, s.id, flavor=flavor, image=image,
            network=",".join(sorted((s.addresses or {}).keys())),
            security_groups=sorted({g["name"] for g in s.security_groups or []}), status=s.status,
            server_group=group_of.get(s.id), tagged=tagged(s))
        for attached in s.attached_volumes or []:
            vol = volumes.get(attached.get("id", ""))
            if vol is not None:
                add("attachment", s.project_id, naming.attachment(s.name, vol), f"{s.id}:{attached['id']}",
                    server=s.name, volume=vol)
    net_quotas = {q.project_id or q.id: q for q in got["network_quotas"]}
    for pid in projects:
        cq, vq = got[f"compute_quota:{pid}"], got[f"volume_quota:{pid}"]
        add("quota_compute", pid, projects[pid], pid, **cq)
        add("quota_volume", pid, projects[pid], pid, gigabytes=vq.gigabytes, volumes=vq.volumes, snapshots=vq.snapshots)
        nq = net_quotas.get(pid)
        if nq is not None:
            add("quota_network", pid, projects[pid], pid, networks=nq.networks, routers=nq.routers,
                security_groups=nq.security_groups)
    return out


def rule_text(rule: dict[str, Any]) -> str:
    """A security group rule as ``direction ethertype protocol ports remote`` (see desired.baseline_rules)."""
    protocol = rule.get("protocol") or "any"
    if protocol in ("icmpv6", "ipv6-icmp") or (protocol == "icmp" and rule.get("ethertype") == "IPv6"):
        protocol = "ipv6-icmp"
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    ports = "any" if low is None else (str(low) if low == high else f"{low}-{high}")
    remote = rule.get("remote_ip_prefix") or ("group" if rule.get("remote_group_id") else "any")
    return f"{rule.get('direction')} {rule.get('ethertype')} {protocol} {ports} {remote}"
