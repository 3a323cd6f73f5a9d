"""Bringing a system back from its copies on a node: a copy restored into a new volume, a server booted with its
restored volumes. Shared by ``backup drill`` (at the backup cloud, in a drill project) and ``backup restore``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nxgov.backup import catalog
from nxgov.backup.cinder import Cinder
from nxgov.cloud.connect import NodeClient, explain

WAIT_S = 600.0


def restore_volume(admin: Cinder, scoped: Any, copy: catalog.Copy, name: str,
                   made: Callable[[str], None] = lambda _v: None) -> str:
    """A new volume ``name`` in ``scoped``'s project, restored from ``copy`` by the node's cinder-backup (the copy's
    backup and its chain must be known to the node); its id. ``made`` hears the id as soon as it exists."""
    assert copy.backup_id is not None
    size = max(1, copy.size_bytes >> 30)
    try:
        answer = scoped.block_storage.post("/volumes", json={"volume": {"size": size, "name": name}})
        answer.raise_for_status()
    except Exception as error:
        raise explain(error, admin.node, admin.client.entry) from error
    volume_id = str(answer.json()["volume"]["id"])
    made(volume_id)
    admin.wait("volumes", volume_id, "available", ("creating",))
    admin.restore(copy.backup_id, volume_id)
    admin.wait("volumes", volume_id, "available", ("restoring-backup",))
    return volume_id


def boot(client: NodeClient, scoped: Any, project: str, name: str, flavor: str, image: str, volumes: list[str],
         network_id: str | None, metadata: dict[str, str], made: Callable[[str], None] = lambda _s: None) -> str:
    """Server ``name`` booted from ``image`` with ``volumes`` attached, on ``network_id`` (None: no network at
    all), waited for ACTIVE; its id. ``made`` hears the id as soon as it exists."""
    conn = client.conn
    try:
        flavor_id = conn.compute.find_flavor(flavor, ignore_missing=False).id
        image_id = conn.image.find_image(image, ignore_missing=False).id
        mapping = [{"boot_index": 0, "uuid": image_id, "source_type": "image", "destination_type": "local",
                    "delete_on_termination": True}]
        mapping += [{"boot_index": -1, "uuid": v, "source_type": "volume", "destination_type": "volume",
                     "delete_on_termination": False} for v in volumes]
        compute = scoped.compute
        server = compute.create_server(name=name, flavor_id=flavor_id, image_id=image_id,
                                       networks=[{"uuid": network_id}] if network_id else "none",
                                       block_device_mapping=mapping, metadata=metadata)
        made(server.id)
        compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=WAIT_S, interval=1)
    except Exception as error:
        raise explain(error, client.node, client.entry, project) from error
    return str(server.id)
