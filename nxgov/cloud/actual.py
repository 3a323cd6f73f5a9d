"""What exists on the nodes, read with one list call per kind per node (and per project only for quotas).

Nothing is fetched resource by resource: an admin connection lists every project's networks,
subnets, router ports, security groups (rules inline), server groups, servers (flavor, addresses,
security groups, volumes, tags and keypair name inline), volumes and the keypairs (Nova lists the
connecting user's own: a keypair belongs to a user) in one call each, and Neutron's quotas in one call.
Nova and Cinder have no "all quotas" call, so their quotas cost one call per nxgov project per node.
Keystone (projects, users, roles, role assignments) is read once per distinct auth_url.

Nova's quotas are read from ``GET /limits?tenant_id=``, not ``GET /os-quota-sets/{id}``: both give the
project's cores, RAM and instances limits, but Nova checks the project id of a quota-set read with a call
to Keystone, which makes it dearer (on the lab: 0.2 s against 0.03 s while Keystone had no cache, 37 ms
against 25 ms with it).

Listings are read as plain JSON (:func:`paged` follows the services' "next" links): at this scale,
openstacksdk's resource objects cost the client more CPU than the services spend answering.

A node's calls run in two pools of :data:`NODE_WORKERS` threads sharing the node's connection (keystoneauth
fetches tokens under a lock, and requests' connection pool is thread-safe), one for listings and one for
the per-project quota reads, so that neither waits behind the other; the nodes run in parallel. The
project list is asked for first, and the quota reads start as soon as it is back; each service's first
listing goes alone, the rest of its listings when it returns (:data:`SERVICES`).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nxgov.cloud import naming
from nxgov.cloud.access import normalise
from nxgov.cloud.connect import NodeClient, explain
from nxgov.cloud.desired import Context
from nxgov.cloud.ipv6 import IPv6Net
from nxgov.cloud.resources import Kind, Resource

NODE_WORKERS = 8


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

    def can_resize(self) -> dict[str, bool]:
        """Per node: whether Nova can resize a server in place (it needs a second compute host)."""
        return {node: facts.compute_hosts > 1 for node, facts in self.facts.items()}

    def fingerprint(self) -> str:
        """SHA-256 of the state a plan compares: every resource's key, id and attributes."""
        rows = sorted((r.key, r.id, r.attrs) for r in self.resources)
        return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def read(clients: dict[str, NodeClient], estate: str, departments: set[str]) -> Actual:
    """Read every node in ``clients``: the projects tagged for ``estate`` and those named after one of its
    ``departments`` (read even before nxgov has tagged them), and what is inside them."""
    identity_node = _identity_groups(clients)
    for client in clients.values():
        client.connect()
    reads = _Reads(clients)
    try:
        for ident in dict.fromkeys(identity_node.values()):
            members = [node for node, owner in identity_node.items() if owner == ident]
            reads.submit(ident, "projects", functools.partial(_projects, clients[ident], estate, departments),
                         then=functools.partial(_start_quota_reads, reads, members))
        for node, client in clients.items():
            listings = _listings(client)
            for first, *rest in SERVICES:
                reads.submit(node, first, listings[first],
                             then=functools.partial(_start_listings, reads, node, {n: listings[n] for n in rest}))
        for ident in dict.fromkeys(identity_node.values()):
            for name, fn in _identity_listings(clients[ident]).items():
                reads.submit(ident, name, fn)
        got = reads.results()
    finally:
        reads.close()
    identities = {ident: _identity(clients[ident], got[ident]) for ident in dict.fromkeys(identity_node.values())}
    resources: list[Resource] = [r for i in identities.values() for r in i.resources]
    facts: dict[str, NodeFacts] = {}
    ipv6: dict[tuple[str, str], IPv6Net] = {}
    for node in clients:
        found = _normalise(node, identities[identity_node[node]].projects, got[node])
        found += _keypairs(node, identities[identity_node[node]].me, got[node]["keypairs"])
        resources.extend(found)
        facts[node] = _facts(got[node])
        for r in found:
            if r.kind == "subnet" and r.name.endswith("-v6"):
                net = r.name[len(r.department) + 1:-3]
                ipv6.setdefault((r.department, net), ipaddress.IPv6Network(r.attrs["cidr"]))
    context = Context(identity_node=identity_node,
                      users={node: frozenset(i.users.values()) for node, i in identities.items()},
                      me={node: i.me for node, i in identities.items()}, ipv6=ipv6)
    project_ids = {(node, name): pid for node, i in identities.items() for pid, name in i.projects.items()}
    return Actual(resources, context, facts, project_ids)


SERVICES = (("flavors", "hypervisors", "server_groups", "servers", "keypairs"), ("images",), ("volumes",),
            ("networks", "subnets", "routers", "ports", "security_groups", "network_quotas"))
"""A node's listings by service. The first of each is made alone: the service's keystonemiddleware validates
a new token once and caches it, where a burst of concurrent first calls would each have Keystone validate
it. The others start as soon as it is back."""


class _Reads:
    """Calls on per-node thread pools, where a call may start others when it returns (``then``)."""

    def __init__(self, clients: dict[str, NodeClient]) -> None:
        self.clients = clients
        self.pools = {(node, kind): ThreadPoolExecutor(max_workers=NODE_WORKERS)
                      for node in clients for kind in ("listing", "quota")}
        self.futures: dict[str, dict[str, Future[Any]]] = {node: {} for node in clients}
        self._lock = threading.Lock()

    def submit(self, node: str, name: str, fn: Callable[[], Any],
               then: Callable[[Any], object] | None = None, kind: str = "listing") -> None:
        def run() -> Any:
            value = fn()
            if then is not None:
                then(value)
            return value

        with self._lock:
            self.futures[node][name] = self.pools[(node, kind)].submit(run)

    def results(self) -> dict[str, dict[str, Any]]:
        """Every call's result once all are done (those started by others too); the first failure raises."""
        seen = -1
        while True:
            with self._lock:
                pending = [(node, f) for node, named in self.futures.items() for f in named.values()]
            if len(pending) == seen:
                return {node: {name: f.result() for name, f in named.items()}
                        for node, named in self.futures.items()}
            seen = len(pending)
            for node, future in pending:
                _result(future, self.clients[node])

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(cancel_futures=True)


def _start_listings(reads: _Reads, node: str, listings: dict[str, Callable[[], Any]], _: object) -> None:
    for name, fn in listings.items():
        reads.submit(node, name, fn)


def _start_quota_reads(reads: _Reads, nodes: list[str], projects: list[dict[str, Any]]) -> None:
    for node in nodes:
        for name, fn in _quota_reads(reads.clients[node], {p["id"]: p["name"] for p in projects}).items():
            reads.submit(node, name, fn, kind="quota")


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


def _projects(client: NodeClient, estate: str, departments: set[str]) -> list[dict[str, Any]]:
    """nxgov's projects: tagged for ``estate``, or named after one of its departments."""
    marks = {naming.TAG, naming.estate_tag(estate)}
    found = []
    for p in paged(client.conn.identity, "/projects", "projects", {"domain_id": "default"}):
        tagged = marks <= set(p.get("tags") or [])
        if tagged or p["name"] in departments:
            found.append({"id": p["id"], "name": p["name"], "description": p.get("description") or "",
                          "tagged": tagged})
    return found


def _identity_listings(client: NodeClient) -> dict[str, Callable[[], Any]]:
    identity = client.conn.identity
    return {"users": functools.partial(paged, identity, "/users", "users"),
            "roles": functools.partial(paged, identity, "/roles", "roles"),
            "role_assignments": functools.partial(paged, identity, "/role_assignments", "role_assignments")}


def _identity(client: NodeClient, got: dict[str, Any]) -> _Identity:
    users = {u["id"]: u["name"] for u in got["users"]}
    roles = {r["id"]: r["name"] for r in got["roles"]}
    projects = {p["id"]: p["name"] for p in got["projects"]}
    resources = [Resource(kind="project", node=client.node, department=p["name"], name=p["name"], id=p["id"],
                          attrs={"description": p["description"], "tagged": p["tagged"]})
                 for p in got["projects"]]
    for a in got["role_assignments"]:
        project_id = ((a.get("scope") or {}).get("project") or {}).get("id")
        user_id = (a.get("user") or {}).get("id")
        role = roles.get((a.get("role") or {}).get("id", ""))
        if project_id in projects and user_id in users and role == naming.MEMBER_ROLE:
            dept, user = projects[project_id], users[user_id]
            resources.append(Resource(kind="role_assignment", node=client.node, department=dept,
                                      name=naming.role_assignment(dept, user, role), id=f"{user_id}:{project_id}",
                                      attrs={"user": user, "role": role}))
    me = users.get(str(client.conn.current_user_id), client.username)
    return _Identity(client.node, projects, users, me, resources)


def paged(adapter: Any, path: str, key: str, params: dict[str, Any] | None = None,
          microversion: str | None = None) -> list[dict[str, Any]]:
    """Every item of a listing as plain JSON, following the service's "next" links (Nova, Cinder and Neutron
    put them in ``<key>_links``, Keystone in ``links``, Glance in ``next``)."""
    from openstack import exceptions as os_exc

    items: list[dict[str, Any]] = []
    url: str | None = path
    while url:
        response = adapter.get(url, params=params, microversion=microversion)
        os_exc.raise_from_response(response)
        body = response.json()
        items.extend(body[key])
        url, params = next_link(body, key), None
    return items


def next_link(body: dict[str, Any], key: str) -> str | None:
    """The next page of a listing answer, or None on the last page."""
    for link in body.get(f"{key}_links") or []:
        if link.get("rel") == "next":
            return str(link["href"])
    links = body.get("links")
    following = links.get("next") if isinstance(links, dict) else body.get("next")
    if isinstance(following, str) and following.startswith("/v2/"):
        return following[len("/v2"):]
    return following if isinstance(following, str) else None


COMPUTE_MICROVERSION = "2.47"
"""Servers' flavors inline by name (2.47, Pike): what nxgov reads from Nova needs no later microversion."""

NEUTRON_FIELDS = {
    "networks": ("id", "name", "project_id", "tags"),
    "subnets": ("id", "name", "project_id", "network_id", "cidr", "tags"),
    "routers": ("id", "name", "project_id", "tags"),
    "ports": ("id", "project_id", "device_id", "fixed_ips"),
    "security-groups": ("id", "name", "project_id", "tags", "security_group_rules"),
}
"""Only the fields nxgov compares: Neutron builds and policy-checks fewer attributes per resource."""


def _listings(client: NodeClient) -> dict[str, Callable[[], Any]]:
    """The node's one-call listings, as plain JSON (openstacksdk's resource objects cost more CPU than the
    services' answers at this scale); they need no project ids, so they start while Keystone is read."""
    conn = client.conn

    def neutron(collection: str, **filters: str) -> Callable[[], list[dict[str, Any]]]:
        params = {"fields": list(NEUTRON_FIELDS[collection]), **filters}
        return functools.partial(paged, conn.network, f"/{collection}", collection.replace("-", "_"), params)

    return {
        "flavors": functools.partial(paged, conn.compute, "/flavors/detail", "flavors"),
        "images": functools.partial(paged, conn.image, "/images", "images"),
        "hypervisors": functools.partial(paged, conn.compute, "/os-hypervisors", "hypervisors"),
        "networks": neutron("networks"),
        "subnets": neutron("subnets"),
        "routers": neutron("routers"),
        "ports": neutron("ports", device_owner="network:router_interface"),
        "security_groups": neutron("security-groups"),
        "server_groups": functools.partial(server_groups, conn.compute),
        "servers": functools.partial(paged, conn.compute, "/servers/detail", "servers", {"all_tenants": "True"},
                                     COMPUTE_MICROVERSION),
        "keypairs": functools.partial(paged, conn.compute, "/os-keypairs", "keypairs", None, COMPUTE_MICROVERSION),
        "volumes": functools.partial(paged, conn.block_storage, "/volumes/detail", "volumes",
                                     {"all_tenants": "True"}),
        "network_quotas": functools.partial(paged, conn.network, "/quotas", "quotas"),
    }


def server_groups(compute: Any) -> list[dict[str, Any]]:
    """Every project's server groups. Nova pages them by ``offset`` without "next" links."""
    groups: list[dict[str, Any]] = []
    while True:
        page = paged(compute, "/os-server-groups", "server_groups",
                     {"all_projects": "True", "limit": SERVER_GROUP_PAGE, "offset": len(groups)},
                     COMPUTE_MICROVERSION)
        groups.extend(page)
        if len(page) < SERVER_GROUP_PAGE:
            return groups


SERVER_GROUP_PAGE = 1000
"""Nova's default ``max_limit``: a shorter page is the last one."""


def _quota_reads(client: NodeClient, projects: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """The per-project reads: Nova and Cinder quotas of each of nxgov's projects."""
    reads: dict[str, Callable[[], Any]] = {}
    for pid in projects:
        reads[f"compute_quota:{pid}"] = functools.partial(compute_limits, client.conn, pid)
        reads[f"volume_quota:{pid}"] = functools.partial(volume_quota, client.conn, pid)
    return reads


def compute_limits(conn: Any, project_id: str) -> dict[str, int]:
    """A project's Nova quota (cores, ram in MiB, instances) from its absolute limits."""
    absolute = _get_json(conn.compute, "/limits", {"tenant_id": project_id})["limits"]["absolute"]
    return {"cores": absolute["maxTotalCores"], "ram": absolute["maxTotalRAMSize"],
            "instances": absolute["maxTotalInstances"]}


def volume_quota(conn: Any, project_id: str) -> dict[str, int]:
    """A project's Cinder quota: gigabytes, volumes, snapshots."""
    quota = _get_json(conn.block_storage, f"/os-quota-sets/{project_id}")["quota_set"]
    return {"gigabytes": quota["gigabytes"], "volumes": quota["volumes"], "snapshots": quota["snapshots"]}


def _get_json(adapter: Any, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    from openstack import exceptions as os_exc

    response = adapter.get(path, params=params)
    os_exc.raise_from_response(response)
    body: dict[str, Any] = response.json()
    return body


def _facts(got: dict[str, Any]) -> NodeFacts:
    return NodeFacts(flavors={f["name"]: (f["vcpus"], f["ram"], f["disk"]) for f in got["flavors"]},
                     flavor_ids={f["name"]: f["id"] for f in got["flavors"]},
                     images={i["name"]: i["id"] for i in got["images"]},
                     compute_hosts=len(got["hypervisors"]))


def _normalise(node: str, projects: dict[str, str], got: dict[str, Any]) -> list[Resource]:
    out: list[Resource] = []

    def add(kind: Kind, project_id: str | None, name: str, rid: str, system: str | None = None,
            **attrs: Any) -> None:
        out.append(Resource(kind=kind, node=node, department=projects[project_id or ""], name=name, id=rid,
                            system=system, attrs=attrs))

    def owned(items: list[dict[str, Any]], owner: str = "project_id") -> list[dict[str, Any]]:
        return [item for item in items if item.get(owner) in projects]

    def tagged(item: dict[str, Any]) -> bool:
        return naming.TAG in (item.get("tags") or [])

    networks, subnets_found, routers_found = owned(got["networks"]), owned(got["subnets"]), owned(got["routers"])
    nets = {n["id"]: n["name"] for n in networks}
    for n in networks:
        add("network", n["project_id"], n["name"], n["id"], tagged=tagged(n))
    subnets = {s["id"]: s["name"] for s in subnets_found}
    for s in subnets_found:
        add("subnet", s["project_id"], s["name"], s["id"], network=nets.get(s["network_id"], s["network_id"]),
            cidr=s["cidr"], tagged=tagged(s))
    routers = {r["id"]: r["name"] for r in routers_found}
    for r in routers_found:
        add("router", r["project_id"], r["name"], r["id"], tagged=tagged(r))
    for p in owned(got["ports"]):
        if p["device_id"] in routers:
            for ip in p.get("fixed_ips") or []:
                sub = subnets.get(ip.get("subnet_id", ""), ip.get("subnet_id", ""))
                add("router_interface", p["project_id"], naming.router_interface(routers[p["device_id"]], sub),
                    p["id"], router=routers[p["device_id"]], subnet=sub)
    for g in owned(got["security_groups"]):
        if g["name"] != "default":
            rules = sorted(rule_text(rule) for rule in g.get("security_group_rules") or [])
            add("security_group", g["project_id"], g["name"], g["id"], rules=rules, tagged=tagged(g))
    group_of: dict[str, str] = {}
    for g in owned(got["server_groups"]):
        policy = g.get("policy") or (g.get("policies") or [""])[0]
        add("server_group", g["project_id"], g["name"], g["id"], policy=policy)
        for member in g.get("members") or []:
            group_of[member] = g["name"]
    images = {i["id"]: i["name"] for i in got["images"]}
    volumes_found = owned(got["volumes"], "os-vol-tenant-attr:tenant_id")
    volumes = {v["id"]: v["name"] for v in volumes_found}
    for v in volumes_found:
        add("volume", v["os-vol-tenant-attr:tenant_id"], v["name"], v["id"], size=v["size"],
            tagged=naming.TAG in (v.get("metadata") or {}))
    for s in owned(got["servers"], "tenant_id"):
        flavor = (s.get("flavor") or {}).get("original_name") or ""
        image = images.get((s.get("image") or {}).get("id", ""), "") if s.get("image") else ""
        add("server", s["tenant_id"], s["name"], s["id"], flavor=flavor, image=image,
            network=",".join(sorted((s.get("addresses") or {}).keys())),
            security_groups=sorted({g["name"] for g in s.get("security_groups") or []}), status=s["status"],
            server_group=group_of.get(s["id"]), tagged=tagged(s), key_name=s.get("key_name"))
        for attached in s.get("os-extended-volumes:volumes_attached") or []:
            vol = volumes.get(attached.get("id", ""))
            if vol is not None:
                add("attachment", s["tenant_id"], naming.attachment(s["name"], vol), f"{s['id']}:{attached['id']}",
                    server=s["name"], volume=vol)
    net_quotas = {q.get("project_id") or q.get("tenant_id"): q for q in got["network_quotas"]}
    for pid in projects:
        add("quota_compute", pid, projects[pid], pid, **got[f"compute_quota:{pid}"])
        add("quota_volume", pid, projects[pid], pid, **got[f"volume_quota:{pid}"])
        nq = net_quotas.get(pid)
        if nq is not None:
            add("quota_network", pid, projects[pid], pid, networks=nq["network"], routers=nq["router"],
                security_groups=nq["security_group"])
    return out


def _keypairs(node: str, me: str, listed: list[dict[str, Any]]) -> list[Resource]:
    """The keypairs of the user nxgov connects as (Nova lists the caller's own): no department, never pruned."""
    return [Resource(kind="keypair", node=node, department="", name=k["name"], id=k["name"],
                     attrs={"public_key": normalise(k.get("public_key") or ""), "user": me})
            for k in (item.get("keypair", item) for item in listed)]


def rule_text(rule: dict[str, Any]) -> str:
    """A security group rule as ``direction ethertype protocol ports remote`` (see desired.baseline_rules)."""
    protocol = rule.get("protocol") or "any"
    if protocol in ("icmpv6", "ipv6-icmp") or (protocol == "icmp" and rule.get("ethertype") == "IPv6"):
        protocol = "ipv6-icmp"
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    ports = "any" if low is None else (str(low) if low == high else f"{low}-{high}")
    remote = rule.get("remote_ip_prefix") or ("group" if rule.get("remote_group_id") else "any")
    return f"{rule.get('direction')} {rule.get('ethertype')} {protocol} {ports} {remote}"
