"""Keep the Glance images protected systems boot from identical at the backup cloud, so a restore there can boot.

Images are matched by name and compared by Glance's ``os_hash_value`` (SHA-512 of the data, computed by Glance
itself): copied (download from the node, upload to the backup cloud, same formats and visibility) only when the
backup cloud has no active image of that name with the same hash. The data goes through a temporary file, never
whole in memory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

from nxgov.cloud.actual import paged
from nxgov.cloud.connect import NodeClient, explain
from nxgov.errors import OperationError

CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageState:
    """One image of a node against the backup cloud."""

    node: str
    name: str
    backup_node: str
    source_hash: str | None
    backup_hash: str | None

    @property
    def action(self) -> str:
        if self.source_hash is None:
            return "missing-at-node"
        return "same" if self.backup_hash == self.source_hash else "copy"


def _active(client: NodeClient, name: str) -> list[dict[str, Any]]:
    try:
        found = paged(client.conn.image, "/images", "images", {"name": name})
    except Exception as error:
        raise explain(error, client.node, client.entry) from error
    return [i for i in found if i.get("status") == "active"]


def compare(source: NodeClient, backup: NodeClient, name: str) -> ImageState:
    here = _active(source, name)
    there = _active(backup, name)
    source_hash = here[0].get("os_hash_value") if here else None
    same = next((i["os_hash_value"] for i in there if i.get("os_hash_value") == source_hash), None)
    return ImageState(source.node, name, backup.node, source_hash,
                      same or (there[0].get("os_hash_value") if there else None))


def mirror(source: NodeClient, backup: NodeClient, name: str) -> ImageState:
    """Copy image ``name`` to the backup cloud unless it is there already with the same hash."""
    state = compare(source, backup, name)
    if state.action == "missing-at-node":
        raise OperationError(f"node {source.node} has no active image {name!r} (a protected system boots from it)",
                             "upload it there, or fix the system's servers[].image in the estate")
    if state.action == "same":
        return state
    image = _active(source, name)[0]
    try:
        with tempfile.TemporaryFile() as spool:
            response = source.conn.image.get(f"/images/{image['id']}/file", stream=True)
            response.raise_for_status()
            for chunk in response.iter_content(CHUNK):
                spool.write(chunk)
            spool.seek(0)
            body = {"name": name, "disk_format": image["disk_format"], "container_format": image["container_format"],
                    "visibility": image.get("visibility", "public"), "nxgov_source_hash": state.source_hash}
            created = backup.conn.image.post("/images", json=body)
            created.raise_for_status()
            new_id = created.json()["id"]
            backup.conn.image.put(f"/images/{new_id}/file", data=spool,
                                  headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    except OperationError:
        raise
    except Exception as error:
        raise explain(error, backup.node, backup.entry) from error
    after = compare(source, backup, name)
    if after.action != "same":
        raise OperationError(f"image {name!r} copied to {backup.node} but its hash there differs from {source.node}'s",
                             "run backup sync again; if it persists, check both Glance stores")
    return after
