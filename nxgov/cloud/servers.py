"""The servers nxgov made for a system, as they are on the nodes: for code that logs in to them (migration).

:func:`system_servers` lists, for one system, every server the estate places (names from
:mod:`nxgov.cloud.naming`, nodes as :mod:`nxgov.cloud.desired` places them) with what its node says of it
now: status, addresses and keypair. Only the nodes the system is placed on are read, through the cloud
module's own connections (:mod:`nxgov.cloud.connect`), one project lookup and one server listing per node.
A declared server the node does not have is returned with status ``absent`` and no address (``nxgov cloud
apply`` makes it); nothing raises for it, so callers decide. :func:`server_login` gives the login.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nxgov.cloud import desired
from nxgov.cloud.access import server_login
from nxgov.cloud.actual import COMPUTE_MICROVERSION, paged
from nxgov.cloud.connect import NodeClient, explain, node_clients
from nxgov.errors import InputError, OperationError
from nxgov.estate.errors import suggest
from nxgov.estate.loader import LoadedEstate

__all__ = ["ABSENT", "TargetServer", "server_login", "system_servers"]

ABSENT = "absent"
"""The status of a server the estate declares and its node does not have."""


@dataclass(frozen=True)
class TargetServer:
    """One server of a system on one node, as the node has it."""

    name: str
    """The estate's name for it (``<system>-<server>-<i>``, e.g. labdrc-web-web-1)."""
    node: str
    id: str | None
    """Nova's id of it (None when absent)."""
    status: str
    """Nova's status (ACTIVE, SHUTOFF, BUILD, ERROR, ...), or :data:`ABSENT`."""
    declared_status: str
    """The status the estate wants: ACTIVE, or SHUTOFF for an active-standby system's stopped standby copy."""
    addresses: list[str]
    """Its fixed addresses, IPv6 first, then IPv4."""
    keypair: str | None
    """The Nova keypair it was made with (None: made without one, so nxgov cannot log in)."""


def system_servers(loaded: LoadedEstate, system_code: str,
                   clients: dict[str, NodeClient] | None = None) -> list[TargetServer]:
    """Every server the estate declares for system ``system_code``, in estate order (by node, then name).

    ``clients`` are the nodes' connections (default: made from the estate's clouds, as ``nxgov cloud`` does).
    InputError for a system the estate does not declare; OperationError when a node cannot be read."""
    estate = loaded.estate
    system = next((s for s in estate.systems if s.code == system_code), None)
    if system is None:
        known = [s.code for s in estate.systems]
        raise InputError(f"estate {estate.estate} declares no system {system_code!r}",
                         suggest(system_code, known) or f"systems: {', '.join(known[:8]) or 'none'}")
    placed = [p for p in desired.placements(estate) if p.system.code == system_code]
    nodes = list(dict.fromkeys(p.node for p in placed))
    if clients is None:
        base = loaded.path if loaded.path.is_dir() else loaded.path.parent
        clients = node_clients({n: estate.clouds[n] for n in nodes}, Path(base))
    found = {node: _servers(clients[node], system.department, {p.name for p in placed if p.node == node})
             for node in nodes}
    out = []
    for p in placed:
        server = found[p.node].get(p.name)
        if server is None:
            out.append(TargetServer(p.name, p.node, None, ABSENT, p.status, [], None))
        else:
            out.append(TargetServer(p.name, p.node, server["id"], server["status"], p.status, addresses(server),
                                    server.get("key_name")))
    return out


def _servers(client: NodeClient, department: str, names: set[str]) -> dict[str, dict[str, Any]]:
    """The servers named ``names`` in the department's project on the client's node, by name."""
    try:
        conn = client.conn
        projects = paged(conn.identity, "/projects", "projects", {"name": department, "domain_id": "default"})
        if not projects:
            return {}
        listed = paged(conn.compute, "/servers/detail", "servers",
                       {"all_tenants": "True", "project_id": projects[0]["id"]}, COMPUTE_MICROVERSION)
    except Exception as error:
        raise explain(error, client.node, client.entry) from error
    out: dict[str, dict[str, Any]] = {}
    for server in listed:
        name = server["name"]
        if name not in names:
            continue
        if name in out:
            raise OperationError(f"node {client.node} has two servers named {name} in project {department} "
                                 f"({out[name]['id']} and {server['id']})",
                                 "delete the one nxgov did not make (its metadata has no 'nxgov' key), then retry")
        out[name] = server
    return out


def addresses(server: dict[str, Any]) -> list[str]:
    """A Nova server's fixed addresses (any network), IPv6 first, each family in Nova's order."""
    found = [a for net in (server.get("addresses") or {}).values() for a in net
             if a.get("OS-EXT-IPS:type", "fixed") == "fixed"]
    return [a["addr"] for version in (6, 4) for a in found if a.get("version") == version]
