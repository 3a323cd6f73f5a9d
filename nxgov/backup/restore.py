"""``backup restore``: bring a system back on a named node from its latest good copies (Zhongwei after Yinchuan is
lost, or the backup cloud itself).

Into the system's department project as the node's Keystone has it (one Keystone serves the primary nodes and, in
the lab, the backup cloud: the project ``nxgov cloud apply`` made); a backup node whose own Keystone lacks it gets it
made, tagged ``nxgov`` and ``nxgov-restore`` (a primary node without it is refused: run ``nxgov cloud apply``):

1. when the node is neither the backup cloud nor the node a copy was made on, the copy's chain is staged there
   first: its containers copied from the backup cloud's store into the node's store (rsync, resumable) and its
   records imported at the node, oldest first;
2. each volume restored into a new volume ``<volume>-restored-<copy>`` (an existing one of that name, available,
   is taken as already restored: a re-run finishes what a killed one began);
3. each server: an existing server of that name gets its restored volumes attached (the standby copy on the other
   node, say); a missing one is booted from its image with them, on the department's network when the node has it.

Nothing existing is overwritten or deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nxgov.backup import catalog
from nxgov.backup.cinder import Cinder, project_id
from nxgov.backup.context import Backup
from nxgov.backup.drill import plan_drill
from nxgov.backup.rebuild import WAIT_S, boot, restore_volume
from nxgov.backup.store import transfer
from nxgov.cloud import naming
from nxgov.cloud.actual import COMPUTE_MICROVERSION, paged
from nxgov.cloud.connect import explain
from nxgov.errors import InputError, OperationError
from nxgov.estate.errors import suggest
from nxgov.state import StateStore

RESTORE_TAG = "nxgov-restore"


@dataclass(frozen=True)
class RestoreStep:
    server: str
    flavor: str
    image: str
    copies: list[catalog.Copy]
    server_exists: bool
    volumes: list[tuple[str, bool]]
    """(restored volume name, already there)"""
    stage: list[str]
    """backup ids to stage at the node first"""

    def to_dict(self) -> dict[str, object]:
        return {"server": self.server, "flavor": self.flavor, "image": self.image,
                "then": "attach" if self.server_exists else "boot",
                "volumes": [{"name": n, "exists": e} for n, e in self.volumes],
                "copies": [{"copy": c.id, "volume": c.volume, "node": c.node, "started": c.started}
                           for c in self.copies], "stage": self.stage}


@dataclass(frozen=True)
class RestorePlan:
    system: str
    department: str
    node: str
    project_exists: bool
    steps: list[RestoreStep]

    def to_dict(self) -> dict[str, object]:
        return {"system": self.system, "department": self.department, "to": self.node,
                "project_exists": self.project_exists, "servers": [s.to_dict() for s in self.steps]}


def plan_restore(ctx: Backup, code: str, node: str) -> RestorePlan:
    estate = ctx.loaded.estate
    if node not in estate.clouds:
        raise InputError(f"--to {node!r} is not a cloud node of the estate",
                         suggest(node, estate.clouds) or f"nodes: {', '.join(estate.clouds)}")
    drill = plan_drill(ctx, code)
    if drill.missing:
        raise OperationError(f"system {code}: no good copy yet of {', '.join(drill.missing)}",
                             "run nxgov backup sync first")
    system = next(s for s in estate.systems if s.code == code)
    client = ctx.clients[node]
    project = project_id(client, system.department)
    if project is None and estate.clouds[node].role != "backup":
        raise OperationError(f"node {node} has no project {system.department} to restore system {code} into",
                             f"run nxgov cloud apply first (it makes department {system.department} on {node})")
    servers = _servers(ctx, node, project) if project else {}
    volumes = {v["name"] for v in Cinder(client).volumes(project)} if project else set()
    steps = []
    with StateStore.open(ctx.state) as store:
        for server, flavor, image, copies in drill.servers:
            stage = [] if node == drill.backup_node else [
                c.backup_id for copy in copies if copy.node != node for c in catalog.chain(store, copy) if c.backup_id]
            names = [(_name(c), _name(c) in volumes) for c in copies]
            steps.append(RestoreStep(server, flavor, image, copies, server in servers, names,
                                     list(dict.fromkeys(stage))))
    return RestorePlan(code, system.department, node, project is not None, steps)


def _name(copy: catalog.Copy) -> str:
    return f"{copy.volume}-restored-{copy.id}"


def _servers(ctx: Backup, node: str, project: str) -> dict[str, dict[str, Any]]:
    client = ctx.clients[node]
    try:
        listed = paged(client.conn.compute, "/servers/detail", "servers",
                       {"all_tenants": "True", "project_id": project}, COMPUTE_MICROVERSION)
    except Exception as error:
        raise explain(error, node, client.entry) from error
    return {s["name"]: s for s in listed}


def run_restore(ctx: Backup, plan: RestorePlan, note: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Carry out ``plan``; what was made, per server."""
    estate = ctx.loaded.estate
    client = ctx.clients[plan.node]
    conn = client.conn
    backup_node = next(c.backup_node for s in plan.steps for c in s.copies) if any(s.copies for s in plan.steps) \
        else None
    try:
        project = project_id(client, plan.department)
        if project is None:
            made = conn.identity.create_project(name=plan.department, domain_id="default",
                                                tags=[naming.TAG, RESTORE_TAG],
                                                description=f"restored by nxgov backup restore ({plan.system})")
            project = str(made.id)
            user = conn.identity.find_user(client.username, ignore_missing=False)
            role = conn.identity.find_role(naming.MEMBER_ROLE, ignore_missing=False)
            conn.identity.assign_project_role_to_user(project, user, role)
            client.forget_scoped(plan.department)
            note(f"project {plan.department} made at {plan.node}")
    except Exception as error:
        raise explain(error, plan.node, client.entry) from error
    scoped = client.scoped(plan.department)
    admin = Cinder(client, WAIT_S)
    network = _network(ctx, plan)
    done: dict[str, Any] = {}
    for step in plan.steps:
        if step.stage and backup_node is not None:
            _stage(ctx, backup_node, plan.node, step.stage, note)
        volumes = []
        existing = {v["name"]: v for v in admin.volumes(project)}
        for copy in step.copies:
            name = _name(copy)
            if name in existing and existing[name]["status"] in ("available", "in-use"):
                volumes.append(str(existing[name]["id"]))
                continue
            volumes.append(restore_volume(admin, scoped, copy, name))
            note(f"{name}: restored from copy {copy.id} ({copy.started})")
        servers = _servers(ctx, plan.node, project)
        if step.server in servers:
            attached = {a["id"] for a in servers[step.server].get("os-extended-volumes:volumes_attached", [])}
            for volume in volumes:
                if volume not in attached:
                    _attach(client, scoped, servers[step.server]["id"], volume, plan.department)
            server_id = str(servers[step.server]["id"])
            note(f"{step.server}: restored volumes attached")
        else:
            server_id = boot(client, scoped, plan.department, step.server, step.flavor, step.image, volumes, network,
                             {naming.TAG: estate.estate, "nxgov-system": plan.system, "nxgov-role": "restored"})
            note(f"{step.server}: booted at {plan.node} with {len(volumes)} restored volume(s)")
        done[step.server] = {"server_id": server_id, "volumes": volumes}
    return done


def _network(ctx: Backup, plan: RestorePlan) -> str | None:
    estate = ctx.loaded.estate
    department = estate.department(plan.department)
    if not department.networks:
        return None
    name = naming.network(plan.department, department.networks[0].name)
    found = list(ctx.clients[plan.node].conn.network.networks(name=name))
    return str(found[0].id) if found else None


def _attach(client: Any, scoped: Any, server_id: str, volume_id: str, project: str) -> None:
    try:
        scoped.compute.create_volume_attachment(server_id, volume_id=volume_id)
        Cinder(client, WAIT_S).wait("volumes", volume_id, "in-use", ("available", "attaching", "reserved"))
    except Exception as error:
        raise explain(error, client.node, client.entry, project) from error


def _stage(ctx: Backup, backup_node: str, node: str, backup_ids: list[str], note: Callable[[str], None]) -> None:
    """Copy a chain's containers from the backup cloud's store into ``node``'s store and import the records there,
    oldest first (an incremental restore reads its parents)."""
    there, here = ctx.cinder(backup_node), ctx.cinder(node)
    for backup_id in backup_ids:
        if here.backup(backup_id) is not None:
            continue
        sent = transfer(ctx.store(backup_node), ctx.store(node), backup_id, "0")
        here.import_record(there.export_record(backup_id))
        here.wait("backups", backup_id, "available", ("creating",))
        note(f"backup {backup_id} staged at {node} ({sent} bytes)")
