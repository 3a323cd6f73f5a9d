"""``backup drill``: restore a system's latest copies at the backup cloud, boot it there, check it, remove it all.

The drill runs in a project of its own, ``nxdrill-<system>-<time>`` (tags ``nxgov``, ``nxgov-drill``), that nxgov
makes at the backup cloud and always removes afterwards, also when the drill fails part way:

1. for each volume, a new volume in the drill project restored by the backup cloud's cinder-backup from the copy
   (an incremental copy with its whole chain);
2. its data read back (Cinder ``upload-to-image`` of the restored volume, downloaded from Glance) and every block
   checked against the copy's manifest;
3. each server of the system booted from its image (kept identical at the backup cloud by ``backup sync``) with
   its restored volumes attached, isolated (no network: ``networks: none``), and waited for ACTIVE;
4. the evidence recorded: start, end, measured RTO (start to every server ACTIVE with its data checked), each check
   and its result, and whether the cleanup left nothing behind.

The system's health URL is not asked for in a drill: the drill's servers have no network by design.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nxgov.backup import catalog
from nxgov.backup.cinder import Cinder
from nxgov.backup.context import Backup
from nxgov.backup.policy import Protected, protected_systems, protected_volumes
from nxgov.backup.rebuild import WAIT_S, boot, restore_volume
from nxgov.cloud import desired, naming
from nxgov.cloud.connect import NodeClient, explain
from nxgov.errors import NxgovError, OperationError
from nxgov.state import StateStore

DRILL_TAG = "nxgov-drill"


@dataclass(frozen=True)
class DrillPlan:
    system: str
    backup_node: str
    copies: list[catalog.Copy]
    servers: list[tuple[str, str, str, list[catalog.Copy]]]
    """(server name, flavor, image, its copies in volume order)"""
    missing: list[str]

    def to_dict(self) -> dict[str, object]:
        return {"system": self.system, "backup_node": self.backup_node, "missing": self.missing,
                "servers": [{"server": s, "flavor": f, "image": i,
                             "copies": [{"copy": c.id, "volume": c.volume, "node": c.node, "started": c.started}
                                        for c in cs]} for s, f, i, cs in self.servers]}


def plan_drill(ctx: Backup, code: str) -> DrillPlan:
    """Which copies a drill of ``code`` restores: each server once, from the first node it is placed on."""
    estate = ctx.loaded.estate
    system = protected_systems(estate, [code])[0]
    assert system.backup is not None
    volumes = protected_volumes(estate, [system])
    servers: list[tuple[str, str, str, list[catalog.Copy]]] = []
    missing: list[str] = []
    seen: set[str] = set()
    with StateStore.open(ctx.state) as store:
        for placed in desired.placements(estate):
            if placed.system.code != code or placed.name in seen:
                continue
            seen.add(placed.name)
            mine: list[Protected] = [v for v in volumes if v.server == placed.name and v.node == placed.node]
            found = []
            for volume in mine:
                good = catalog.last_good(store, volume.system, volume.node, volume.volume)
                if good is None:
                    missing.append(volume.key)
                else:
                    found.append(good)
            servers.append((placed.name, placed.server.flavor, placed.server.image, found))
    copies = [c for *_, cs in servers for c in cs]
    return DrillPlan(code, system.backup.to, copies, servers, missing)


def run_drill(ctx: Backup, plan: DrillPlan, note: Callable[[str], None] = lambda _m: None) -> catalog.Drill:
    """Run the drill of ``plan``; the evidence as recorded (result ``passed`` or ``failed``, never raises for a
    drill that fails: the failure is the evidence)."""
    if plan.missing:
        raise OperationError(f"system {plan.system}: no good copy yet of {', '.join(plan.missing)}",
                             "run nxgov backup sync first")
    client = ctx.clients[plan.backup_node]
    project = f"nxdrill-{plan.system}-{datetime.now(UTC):%Y%m%d%H%M%S}"[:64]
    with StateStore.open(ctx.state) as store:
        drill_id = catalog.open_drill(store, plan.system, plan.backup_node, project, [c.id for c in plan.copies])
    started = time.monotonic()
    checks: list[dict[str, Any]] = []
    result, rto, detail = "failed", None, ""
    room = _Room(client, project)
    try:
        room.make()
        note(f"drill project {project} made at {plan.backup_node}")
        _restore_and_boot(ctx, plan, room, checks, note)
        rto = round(time.monotonic() - started, 1)
        result = "passed"
    except NxgovError as error:
        detail = error.message
        checks.append({"check": "drill", "result": "failed", "detail": error.message})
    finally:
        cleaned, left = room.remove()
        checks.append({"check": "cleanup", "result": "ok" if cleaned else "failed",
                       "detail": "the drill project and everything in it removed" if cleaned else left})
        if not cleaned:
            result = "failed"
            detail = f"{detail}; cleanup left {left}".lstrip("; ")
        with StateStore.open(ctx.state) as store:
            drill = catalog.close_drill(store, drill_id, result, rto, checks, cleaned, detail)
    return drill


def _restore_and_boot(ctx: Backup, plan: DrillPlan, room: _Room, checks: list[dict[str, Any]],
                      note: Callable[[str], None]) -> None:
    admin = Cinder(room.client, WAIT_S)
    scoped = room.scoped()
    attached: dict[str, list[str]] = {}
    for server, _flavor, _image, copies in plan.servers:
        for copy in copies:
            volume_id = restore_volume(admin, scoped, copy, copy.volume, room.volumes.append)
            checks.append({"check": f"restore {copy.volume}", "result": "ok",
                           "detail": f"copy {copy.id} (backup {copy.backup_id}, {copy.started})"})
            note(f"{copy.volume}: restored from copy {copy.id}")
            problem = _check_data(ctx, room, admin, volume_id, copy)
            checks.append({"check": f"data {copy.volume}", "result": "failed" if problem else "ok",
                           "detail": problem or "every block equals the manifest"})
            if problem:
                raise OperationError(f"system {plan.system}: restored {copy.volume} differs from its copy's manifest: "
                                     f"{problem}", "run nxgov backup verify to find the damaged copy")
            attached.setdefault(server, []).append(volume_id)
    for server, flavor, image, _copies in plan.servers:
        server_id = room.boot(server, flavor, image, attached.get(server, []))
        checks.append({"check": f"boot {server}", "result": "ok",
                       "detail": f"ACTIVE with {len(attached.get(server, []))} restored volume(s), isolated"})
        note(f"{server}: ACTIVE at {plan.backup_node} ({server_id})")


def _check_data(ctx: Backup, room: _Room, admin: Cinder, volume_id: str, copy: catalog.Copy) -> str | None:
    with StateStore.open(ctx.state) as store:
        manifest = catalog.manifest(store, copy.id)
    upload = admin.call("post", f"/volumes/{volume_id}/action", {"os-volume_upload_image": {
        "image_name": f"{room.project}-{copy.volume}", "disk_format": "raw", "container_format": "bare",
        "force": True}})
    image_id = upload["os-volume_upload_image"]["image_id"]
    room.images.append(image_id)
    admin.wait("volumes", volume_id, "available", ("uploading",))
    glance = room.client.conn.image
    deadline = time.monotonic() + WAIT_S
    while glance.get(f"/images/{image_id}").json().get("status") != "active":
        if time.monotonic() > deadline:
            return f"the read-back image {image_id} did not become active"
        time.sleep(0.5)
    size, blocks = int(manifest["chunk_size"]), list(manifest["sha256s"])
    response = glance.get(f"/images/{image_id}/file", stream=True)
    response.raise_for_status()
    index, pending = 0, b""
    for chunk in response.iter_content(1 << 20):
        pending += chunk
        while len(pending) >= size:
            block, pending = pending[:size], pending[size:]
            if index < len(blocks) and hashlib.sha256(block).hexdigest() != blocks[index]:
                return f"block at byte {index * size} differs"
            index += 1
    if pending:
        if index < len(blocks) and hashlib.sha256(pending).hexdigest() != blocks[index]:
            return f"block at byte {index * size} differs"
        index += 1
    return None if index >= len(blocks) else f"only {index} of {len(blocks)} blocks came back"


class _Room:
    """The drill project at the backup cloud and what the drill makes in it; :meth:`remove` takes it all away."""

    def __init__(self, client: NodeClient, project: str) -> None:
        self.client = client
        self.project = project
        self.project_id: str | None = None
        self.volumes: list[str] = []
        self.images: list[str] = []
        self.servers: list[str] = []

    def make(self) -> None:
        conn = self.client.conn
        try:
            made = conn.identity.create_project(name=self.project, domain_id="default", tags=[naming.TAG, DRILL_TAG],
                                                description="nxgov restore drill (removed when the drill ends)")
            self.project_id = made.id
            user = conn.identity.find_user(self.client.username, ignore_missing=False)
            role = conn.identity.find_role(naming.MEMBER_ROLE, ignore_missing=False)
            conn.identity.assign_project_role_to_user(made.id, user, role)
        except Exception as error:
            raise explain(error, self.client.node, self.client.entry) from error

    def scoped(self) -> Any:
        return self.client.scoped(self.project)

    def boot(self, name: str, flavor: str, image: str, volumes: list[str]) -> str:
        return boot(self.client, self.scoped(), self.project, name, flavor, image, volumes, None,
                    {naming.TAG: DRILL_TAG}, self.servers.append)

    def remove(self) -> tuple[bool, str]:
        """Delete everything the drill made, then the project; (nothing left, what was left)."""
        conn = self.client.conn
        cinder = Cinder(self.client, WAIT_S)
        left: list[str] = []
        for server in self.servers:
            with contextlib.suppress(Exception):
                conn.compute.delete_server(server, ignore_missing=True)
                conn.compute.wait_for_delete(conn.compute.get_server(server), wait=WAIT_S, interval=1)
        for image in self.images:
            with contextlib.suppress(Exception):
                conn.image.delete_image(image, ignore_missing=True)
        for volume in self.volumes:
            with contextlib.suppress(Exception):
                cinder.wait("volumes", volume, "available", ("in-use", "detaching", "uploading", "restoring-backup",
                                                             "creating"))
            with contextlib.suppress(Exception):
                cinder.delete("volumes", volume, force=True)
        if self.project_id is not None:
            with contextlib.suppress(Exception):
                conn.identity.delete_project(self.project_id, ignore_missing=True)
            self.client.forget_scoped(self.project)
        try:
            left += [f"server {s}" for s in self.servers if conn.compute.find_server(s, ignore_missing=True)]
            left += [f"volume {v}" for v in self.volumes if cinder.volume(v) is not None]
            left += [f"image {i}" for i in self.images if conn.image.find_image(i, ignore_missing=True)]
            if self.project_id and conn.identity.find_project(self.project_id, ignore_missing=True):
                left.append(f"project {self.project}")
        except Exception as error:
            left.append(f"unknown (the backup cloud could not be read: {explain(error, self.client.node, '').message})")
        return not left, ", ".join(left)
