"""Carry out one change on one node through openstacksdk: create, update or delete one resource.

Neutron refuses tags in a create request, so networks, subnets, routers and security groups are
tagged right after; a run killed in between leaves an untagged resource that the next plan finds by
name and tags (an update).

Ids of resources a change refers to by name (the network of a subnet, the server of an attachment)
come from a registry filled from the actual state and from each create, so a change made earlier in
the same apply is found without another lookup. Servers, volumes and server groups are created with
a token scoped to the department's project; everything else with the node's admin connection. Both
authenticate as the same user (one clouds.yaml entry), which matters for keypairs: Nova keeps them per user
and finds a server's ``key_name`` among the keypairs of the user creating the server.
"""

from __future__ import annotations

import threading
from typing import Any

from nxgov.cloud import naming
from nxgov.cloud.actual import Actual, rule_text
from nxgov.cloud.connect import NodeClient
from nxgov.cloud.resources import IDENTITY_KINDS, Resource
from nxgov.errors import OperationError


class Registry:
    """key (node/kind/name) → id, shared by the worker threads of an apply."""

    def __init__(self, actual: Actual) -> None:
        self._ids = {r.key: r.id or "" for r in actual.resources}
        self._lock = threading.Lock()

    def put(self, key: str, rid: str) -> None:
        with self._lock:
            self._ids[key] = rid

    def drop(self, key: str) -> None:
        with self._lock:
            self._ids.pop(key, None)

    def get(self, node: str, kind: str, name: str) -> str:
        with self._lock:
            rid = self._ids.get(f"{node}/{kind}/{name}")
        if not rid:
            raise OperationError(f"{kind} {name} does not exist on node {node}, so what depends on it cannot be made",
                                 "see the failure of that resource above, fix it and apply again")
        return rid


class Provider:
    """Performs changes. ``wait`` is how long to wait for a server or volume to settle, in seconds."""

    def __init__(self, clients: dict[str, NodeClient], actual: Actual, estate: str, wait: float = 300.0) -> None:
        self.clients = clients
        self.registry = Registry(actual)
        self.identity_node = actual.context.identity_node
        self.estate = estate
        self.wait = wait

    # -- entry points -------------------------------------------------------------------------------------

    def create(self, r: Resource) -> None:
        getattr(self, f"_create_{r.kind}")(r)

    def update(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        getattr(self, f"_update_{r.kind}", self._update_by_create)(r, fields)

    def delete(self, r: Resource) -> None:
        getattr(self, f"_delete_{r.kind}")(r)
        self.registry.drop(r.key)

    # -- helpers ------------------------------------------------------------------------------------------

    def _admin(self, r: Resource) -> Any:
        return self.clients[r.node].conn

    def _project_id(self, r: Resource) -> str:
        node = r.node if r.kind in IDENTITY_KINDS else self.identity_node[r.node]
        return self.registry.get(node, "project", r.department)

    def _scoped(self, r: Resource) -> Any:
        return self.clients[r.node].scoped(r.department)

    def _id(self, r: Resource, kind: str, name: str) -> str:
        return self.registry.get(r.node, kind, name)

    def _update_by_create(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        self.create(r)

    # -- identity -----------------------------------------------------------------------------------------

    def _create_project(self, r: Resource) -> None:
        project = self._admin(r).identity.create_project(name=r.name, description=r.attrs["description"],
                                                         domain_id="default",
                                                         tags=[naming.TAG, naming.estate_tag(self.estate)])
        self.registry.put(r.key, project.id)
        self._forget_scoped(r.name)

    def _forget_scoped(self, project: str) -> None:
        """A project made or deleted under a name: no token scoped to an earlier project of that name is used again
        (Keystone may still accept one for a while, and the services would act in the old project)."""
        for client in self.clients.values():
            client.forget_scoped(project)

    def _update_project(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        conn = self._admin(r)
        project = conn.identity.get_project(self.registry.get(r.node, "project", r.name))
        tags = sorted({*(project.tags or []), naming.TAG, naming.estate_tag(self.estate)})
        conn.identity.update_project(project, description=r.attrs["description"], tags=tags)

    def _delete_project(self, r: Resource) -> None:
        """Keystone deletes a project without telling the other services: first remove, on every node of this
        Keystone, what they keep for it that nxgov never lists (Neutron's ``default`` security group, made
        with the project's first port, and the quota overrides), so that no orphan outlives the department."""
        project_id = r.id or ""
        for node, identity in self.identity_node.items():
            if identity != r.node or node not in self.clients:
                continue
            conn = self.clients[node].conn
            for group in conn.network.security_groups(project_id=project_id, name="default"):
                conn.network.delete_security_group(group, ignore_missing=True)
            conn.network.delete_quota(project_id, ignore_missing=True)
            conn.compute.revert_quota_set(project_id)
            conn.block_storage.revert_quota_set(project_id)
        self._admin(r).identity.delete_project(project_id, ignore_missing=True)
        self._forget_scoped(r.name)

    def _create_role_assignment(self, r: Resource) -> None:
        conn = self._admin(r)
        user = conn.identity.find_user(r.attrs["user"], ignore_missing=False)
        role = conn.identity.find_role(r.attrs["role"], ignore_missing=False)
        conn.identity.assign_project_role_to_user(self._project_id(r), user, role)

    def _delete_role_assignment(self, r: Resource) -> None:
        conn = self._admin(r)
        user_id, project_id = (r.id or ":").split(":", 1)
        role = conn.identity.find_role(r.attrs["role"], ignore_missing=False)
        conn.identity.unassign_project_role_from_user(project_id, user_id, role)

    # -- quotas (a "create" sets them too: Neutron lists only non-default quotas) --------------------------

    def _create_quota_compute(self, r: Resource) -> None:
        self._admin(r).compute.update_quota_set(self._project_id(r), **r.attrs)

    def _create_quota_network(self, r: Resource) -> None:
        self._admin(r).network.update_quota(self._project_id(r), **r.attrs)

    def _create_quota_volume(self, r: Resource) -> None:
        self._admin(r).block_storage.update_quota_set(self._project_id(r), **r.attrs)

    # -- network ------------------------------------------------------------------------------------------

    def _create_network(self, r: Resource) -> None:
        conn = self._admin(r)
        net = conn.network.create_network(name=r.name, project_id=self._project_id(r))
        self.registry.put(r.key, net.id)
        conn.network.set_tags(net, [naming.TAG])

    def _update_network(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        self._tag_neutron(r, "networks")

    def _delete_network(self, r: Resource) -> None:
        self._admin(r).network.delete_network(r.id, ignore_missing=True)

    def _create_subnet(self, r: Resource) -> None:
        cidr = r.attrs["cidr"]
        extra = {"ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"} if ":" in cidr else {}
        conn = self._admin(r)
        subnet = conn.network.create_subnet(
            name=r.name, network_id=self._id(r, "network", r.attrs["network"]), project_id=self._project_id(r),
            ip_version=6 if ":" in cidr else 4, cidr=cidr, **extra)
        self.registry.put(r.key, subnet.id)
        conn.network.set_tags(subnet, [naming.TAG])

    def _update_subnet(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        self._tag_neutron(r, "subnets")

    def _delete_subnet(self, r: Resource) -> None:
        self._admin(r).network.delete_subnet(r.id, ignore_missing=True)

    def _create_router(self, r: Resource) -> None:
        conn = self._admin(r)
        router = conn.network.create_router(name=r.name, project_id=self._project_id(r))
        self.registry.put(r.key, router.id)
        conn.network.set_tags(router, [naming.TAG])

    def _update_router(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        self._tag_neutron(r, "routers")

    def _delete_router(self, r: Resource) -> None:
        self._admin(r).network.delete_router(r.id, ignore_missing=True)

    def _create_router_interface(self, r: Resource) -> None:
        self._admin(r).network.add_interface_to_router(self._id(r, "router", r.attrs["router"]),
                                                       subnet_id=self._id(r, "subnet", r.attrs["subnet"]))

    def _delete_router_interface(self, r: Resource) -> None:
        self._admin(r).network.remove_interface_from_router(self._id(r, "router", r.attrs["router"]),
                                                            port_id=r.id)

    def _create_security_group(self, r: Resource) -> None:
        conn = self._admin(r)
        group = conn.network.create_security_group(
            name=r.name, project_id=self._project_id(r),
            description=f"nxgov baseline for protection level {r.name.rsplit('level', 1)[-1]}")
        self.registry.put(r.key, group.id)
        conn.network.set_tags(group, [naming.TAG])
        self._sync_rules(r, group)

    def _update_security_group(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        conn = self._admin(r)
        group = conn.network.get_security_group(self._id(r, "security_group", r.name))
        if naming.TAG not in (group.tags or []):
            conn.network.set_tags(group, sorted({*(group.tags or []), naming.TAG}))
        self._sync_rules(r, group)

    def _sync_rules(self, r: Resource, group: Any) -> None:
        conn = self._admin(r)
        existing = {rule_text(rule): rule["id"] for rule in group.security_group_rules or []}
        wanted = set(r.attrs["rules"])
        for text, rule_id in existing.items():
            if text not in wanted:
                conn.network.delete_security_group_rule(rule_id, ignore_missing=True)
        for text in sorted(wanted - set(existing)):
            conn.network.create_security_group_rule(security_group_id=group.id, project_id=group.project_id,
                                                    **_rule_body(text))

    def _delete_security_group(self, r: Resource) -> None:
        self._admin(r).network.delete_security_group(r.id, ignore_missing=True)

    def _tag_neutron(self, r: Resource, collection: str) -> None:
        conn = self._admin(r)
        finder = {"networks": conn.network.get_network, "subnets": conn.network.get_subnet,
                  "routers": conn.network.get_router}[collection]
        obj = finder(self._id(r, r.kind, r.name))
        conn.network.set_tags(obj, sorted({*(obj.tags or []), naming.TAG}))

    # -- compute and block storage -------------------------------------------------------------------------

    def _create_keypair(self, r: Resource) -> None:
        self._admin(r).compute.create_keypair(name=r.name, public_key=r.attrs["public_key"])
        self.registry.put(r.key, r.name)

    def _delete_keypair(self, r: Resource) -> None:
        self._admin(r).compute.delete_keypair(r.name, ignore_missing=True)

    def _create_server_group(self, r: Resource) -> None:
        group = self._scoped(r).compute.create_server_group(name=r.name, policy=r.attrs["policy"])
        self.registry.put(r.key, group.id)

    def _delete_server_group(self, r: Resource) -> None:
        self._admin(r).compute.delete_server_group(r.id, ignore_missing=True)

    def _create_volume(self, r: Resource) -> None:
        storage = self._scoped(r).block_storage
        volume = storage.create_volume(name=r.name, size=r.attrs["size"], metadata={naming.TAG: self.estate})
        self.registry.put(r.key, volume.id)
        storage.wait_for_status(volume, status="available", failures=["error"], interval=1, wait=self.wait)

    def _update_volume(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        storage = self._admin(r).block_storage
        volume = storage.get_volume(self._id(r, "volume", r.name))
        if "size" in fields:
            storage.extend_volume(volume, r.attrs["size"])
        if "tagged" in fields:
            storage.set_volume_metadata(volume, **{naming.TAG: self.estate})

    def _delete_volume(self, r: Resource) -> None:
        storage = self._admin(r).block_storage
        storage.delete_volume(r.id, ignore_missing=True)
        volume = storage.find_volume(r.id or "", ignore_missing=True, all_projects=True)
        if volume is not None:
            storage.wait_for_delete(volume, interval=1, wait=self.wait)

    def _create_server(self, r: Resource) -> None:
        facts_conn = self._admin(r)
        compute = self._scoped(r).compute
        flavor = facts_conn.compute.find_flavor(r.attrs["flavor"], ignore_missing=False)
        image = facts_conn.image.find_image(r.attrs["image"], ignore_missing=False)
        hints = {"group": self._id(r, "server_group", r.attrs["server_group"])} if r.attrs["server_group"] else {}
        role = "standby" if r.attrs["status"] == "SHUTOFF" else "active"
        key = {"key_name": r.attrs["key_name"]} if r.attrs.get("key_name") else {}
        server = compute.create_server(
            name=r.name, flavor_id=flavor.id, image_id=image.id,
            networks=[{"uuid": self._id(r, "network", r.attrs["network"])}],
            security_groups=[{"name": g} for g in r.attrs["security_groups"]], tags=[naming.TAG],
            metadata={naming.TAG: self.estate, "nxgov-system": r.system or "", "nxgov-role": role},
            scheduler_hints=hints, **key)
        self.registry.put(r.key, server.id)
        self._wait_server(compute, server, "ACTIVE", r)
        if r.attrs["status"] == "SHUTOFF":
            compute.stop_server(server)
            self._wait_server(compute, server, "SHUTOFF", r)

    def _update_server(self, r: Resource, fields: dict[str, list[Any]]) -> None:
        compute = self._admin(r).compute
        server = compute.get_server(self._id(r, "server", r.name))
        if "flavor" in fields:
            flavor = compute.find_flavor(r.attrs["flavor"], ignore_missing=False)
            compute.resize_server(server, flavor.id)
            self._wait_server(compute, server, "VERIFY_RESIZE", r)
            compute.confirm_server_resize(server)
            self._wait_server(compute, server, server.status, r)
        if "security_groups" in fields:
            old, new = fields["security_groups"]
            for name in set(new) - set(old or []):
                compute.add_security_group_to_server(server, {"name": name})
            for name in set(old or []) - set(new):
                compute.remove_security_group_from_server(server, {"name": name})
        if "tagged" in fields:
            compute.add_tag_to_server(server, naming.TAG)
        if "status" in fields:
            want = r.attrs["status"]
            (compute.start_server if want == "ACTIVE" else compute.stop_server)(server)
            self._wait_server(compute, server, want, r)

    def _wait_server(self, compute: Any, server: Any, status: str, r: Resource) -> None:
        from openstack import exceptions as os_exc

        try:
            compute.wait_for_server(server, status=status, failures=["ERROR"], interval=1, wait=self.wait)
        except os_exc.ResourceFailure as error:
            fault = (compute.get_server(server.id).fault or {}).get("message", "no fault recorded")
            raise OperationError(f"server {r.name} on node {r.node} went to ERROR: {fault}",
                                 "check the node's capacity and the server's flavor, image and network; "
                                 "apply again to replace it") from error
        except os_exc.ResourceTimeout as error:
            raise OperationError(f"server {r.name} on node {r.node} did not reach {status} in {self.wait:.0f} s",
                                 "raise --wait, or check the node's compute service") from error

    def _delete_server(self, r: Resource) -> None:
        compute = self._admin(r).compute
        compute.delete_server(r.id, ignore_missing=True)
        server = compute.find_server(r.id or "", ignore_missing=True, all_projects=True)
        if server is not None:
            compute.wait_for_delete(server, interval=1, wait=self.wait)

    def _create_attachment(self, r: Resource) -> None:
        volume_id = self._id(r, "volume", r.attrs["volume"])
        self._admin(r).compute.create_volume_attachment(self._id(r, "server", r.attrs["server"]), volume_id=volume_id)
        storage = self._admin(r).block_storage
        storage.wait_for_status(storage.get_volume(volume_id), status="in-use", failures=["error"], interval=1,
                                wait=self.wait)

    def _delete_attachment(self, r: Resource) -> None:
        server_id, volume_id = (r.id or ":").split(":", 1)
        self._admin(r).compute.delete_volume_attachment(volume_id, server_id, ignore_missing=True)
        storage = self._admin(r).block_storage
        storage.wait_for_status(storage.get_volume(volume_id), status="available", failures=["error"], interval=1,
                                wait=self.wait)


def _rule_body(text: str) -> dict[str, Any]:
    """The Neutron fields of a rule written as ``direction ethertype protocol ports remote``."""
    direction, ether, protocol, ports, remote = text.split()
    body: dict[str, Any] = {"direction": direction, "ethertype": ether}
    if protocol != "any":
        body["protocol"] = protocol
    if ports != "any":
        low, _, high = ports.partition("-")
        body["port_range_min"], body["port_range_max"] = int(low), int(high or low)
    if remote != "any":
        body["remote_ip_prefix"] = remote
    return body
