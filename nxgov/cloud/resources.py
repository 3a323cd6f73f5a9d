"""The resources nxgov manages on a cloud node, as plain data both sides of a plan share.

A :class:`Resource` is one thing on one node: its kind, a deterministic name (see
:mod:`nxgov.cloud.naming`), the department (and system) it belongs to, and ``attrs``: the fields nxgov
declares and compares. The desired side (:mod:`nxgov.cloud.desired`) and the actual side
(:mod:`nxgov.cloud.actual`) produce the same shapes, so a plan is a field-by-field comparison.

:data:`REPLACE_FIELDS` says which fields cannot change in place: changing one replaces the resource
(delete, then create). Every other field is updated in place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["project", "keypair", "role_assignment", "quota_compute", "quota_network", "quota_volume", "network",
               "router", "security_group", "server_group", "subnet", "router_interface", "volume", "server",
               "attachment"]

CREATE_ORDER: tuple[tuple[Kind, ...], ...] = (
    ("project", "keypair"),
    ("role_assignment", "quota_compute", "quota_network", "quota_volume"),
    ("network", "router", "security_group"),
    ("subnet", "server_group"),
    ("router_interface", "volume"),
    ("server",),
    ("attachment",),
)
"""Waves of an apply: every kind depends only on kinds of earlier waves (server groups, volumes and servers
need nxgov's role on the project; whatever a quota counts is made after the quota is set, so a quota raised for a
new network is in place before the network is asked for). Deletes run in reverse."""

IDENTITY_KINDS: frozenset[str] = frozenset({"project", "role_assignment"})
"""Kinds that live in Keystone, shared by the nodes that share an auth_url."""

NEVER_DELETED: frozenset[str] = frozenset({"quota_compute", "quota_network", "quota_volume", "keypair"})
"""Quotas go with their project; a plan never deletes them on their own. A keypair belongs to the Keystone user
nxgov connects as, not to a project or an estate: every estate (and person) using that user shares it, so a
plan never deletes one (``--prune`` included) and drift reports none as an orphan; it is replaced only when
its public key changes."""

REPLACE_FIELDS: dict[str, dict[str, str]] = {
    "subnet": {"cidr": "a subnet's prefix cannot change: the subnet is deleted and created again",
               "network": "a subnet cannot move to another network"},
    "server_group": {"policy": "a server group's policy is fixed when it is created"},
    "server": {"image": "a new image means a new root disk: the server is rebuilt and its root disk data is lost",
               "key_name": "Nova puts a server's keypair in only when it is created: the server is created again "
                           "with it (its root disk data is lost), so that nxgov can log in to it",
               "network": "the server's port is on another network: it is created again on the new one",
               "server_group": "a server joins its server group only when it is created"},
    "keypair": {"public_key": "a keypair's key cannot change: it is deleted and made again with the new key"},
    "role_assignment": {"user": "an assignment is a (user, role, project) triple", "role": "same"},
    "router_interface": {"subnet": "an interface is a port on one subnet"},
    "attachment": {"server": "an attachment joins one server and one volume", "volume": "same"},
}


class Resource(BaseModel):
    """One resource on one node. ``id`` is set on the actual side only."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    node: str
    department: str
    name: str
    system: str | None = None
    attrs: dict[str, Any] = {}
    id: str | None = None

    @property
    def key(self) -> str:
        """Unique within a plan: node/kind/name."""
        return f"{self.node}/{self.kind}/{self.name}"

    @property
    def project(self) -> str:
        """The name of the project the resource belongs to (the department code)."""
        return self.department
