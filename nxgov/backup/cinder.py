"""The Cinder and Glance calls the backup verbs make, as plain JSON over a node's admin connection.

openstacksdk has no call for a backup's ``export_record`` / ``import_record`` or for restoring into a given
volume, so every call here goes through the node's service adapter (the same connection, retries and call
counting as the rest of nxgov: :mod:`nxgov.cloud.connect`). Waiting polls the resource until it reaches a
state, and names the state it ended in otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nxgov.cloud.actual import paged
from nxgov.cloud.connect import NodeClient, explain
from nxgov.errors import OperationError

POLL_S = 0.5
VOLUME_MICROVERSION = "3.47"
"""3.47: a volume can be created from a backup; everything else here works from 3.0."""


class Cinder:
    """One node's Block Storage API (admin), with waits."""

    def __init__(self, client: NodeClient, timeout: float = 3600.0) -> None:
        self.client = client
        self.node = client.node
        self.timeout = timeout

    @property
    def api(self) -> Any:
        return self.client.conn.block_storage

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request; the answer's JSON ({} when it has none). Errors become operator messages; a quota refusal
        (413) of a snapshot or backup names nxgov's own project, where they are counted."""
        from openstack import exceptions as os_exc

        try:
            response = getattr(self.api, method)(path, json=body, params=params, microversion=VOLUME_MICROVERSION)
            os_exc.raise_from_response(response)
        except Exception as error:
            found = explain(error, self.node, self.client.entry)
            if getattr(error, "status_code", None) == 413 and path in ("/snapshots", "/backups"):
                raise OperationError(found.message, "nxgov's snapshots and backups count against the quotas of its "
                                     f"own project (clouds.yaml entry {self.client.entry!r}) on node {self.node}: "
                                     "raise its gigabytes, snapshots, backups and backup_gigabytes quotas "
                                     "(openstack quota set)") from error
            raise found from error
        return response.json() if response.content else {}

    def volumes(self, project_id: str) -> list[dict[str, Any]]:
        try:
            return paged(self.api, "/volumes/detail", "volumes", {"all_tenants": "True", "project_id": project_id},
                         VOLUME_MICROVERSION)
        except Exception as error:
            raise explain(error, self.node, self.client.entry) from error

    def volume(self, volume_id: str) -> dict[str, Any] | None:
        return self._get("volumes", volume_id)

    def backup(self, backup_id: str) -> dict[str, Any] | None:
        return self._get("backups", backup_id)

    def snapshot(self, snapshot_id: str) -> dict[str, Any] | None:
        return self._get("snapshots", snapshot_id)

    def create_snapshot(self, volume_id: str, name: str) -> str:
        body = {"snapshot": {"volume_id": volume_id, "name": name, "force": True, "metadata": {"nxgov": "backup"}}}
        return str(self.call("post", "/snapshots", body)["snapshot"]["id"])

    def create_backup(self, volume_id: str, snapshot_id: str, name: str, incremental: bool) -> str:
        body = {"backup": {"volume_id": volume_id, "snapshot_id": snapshot_id, "name": name,
                           "incremental": incremental, "description": "nxgov backup sync"}}
        return str(self.call("post", "/backups", body)["backup"]["id"])

    def export_record(self, backup_id: str) -> dict[str, str]:
        record = self.call("get", f"/backups/{backup_id}/export_record")["backup-record"]
        return {"backup_service": record["backup_service"], "backup_url": record["backup_url"]}

    def import_record(self, record: dict[str, str]) -> str:
        return str(self.call("post", "/backups/import_record", {"backup-record": record})["backup"]["id"])

    def restore(self, backup_id: str, volume_id: str) -> None:
        self.call("post", f"/backups/{backup_id}/restore", {"restore": {"volume_id": volume_id}})

    def delete(self, kind: str, rid: str, force: bool = False) -> None:
        """Delete a volume, snapshot or backup; gone already is fine."""
        from openstack import exceptions as os_exc

        try:
            response = self.api.delete(f"/{kind}/{rid}", microversion=VOLUME_MICROVERSION)
            if response.status_code != 404:
                os_exc.raise_from_response(response)
        except Exception as error:
            raise explain(error, self.node, self.client.entry) from error
        if force:
            self.wait_gone(kind, rid)

    def wait(self, kind: str, rid: str, want: str, busy: tuple[str, ...],
             progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Poll ``/<kind>/<rid>`` until its status is ``want``; OperationError when it settles elsewhere."""
        deadline = time.monotonic() + self.timeout
        while True:
            found = self._get(kind, rid)
            if found is None:
                raise OperationError(f"node {self.node}: {kind[:-1]} {rid} disappeared while nxgov waited for it to "
                                     f"become {want}", "run the command again: it starts this step afresh")
            status = str(found.get("status", ""))
            if status == want:
                return found
            if progress is not None:
                progress(found)
            if status not in busy:
                reason = found.get("fail_reason") or "see the node's cinder logs"
                raise OperationError(f"node {self.node}: {kind[:-1]} {rid} is {status}, not {want}: {reason}",
                                     "run the command again once the node's storage is healthy")
            if time.monotonic() > deadline:
                raise OperationError(f"node {self.node}: {kind[:-1]} {rid} still {status} after {self.timeout:.0f} s",
                                     "run the command again later: it resumes from this step")
            time.sleep(POLL_S)

    def wait_gone(self, kind: str, rid: str) -> None:
        deadline = time.monotonic() + self.timeout
        while self._get(kind, rid) is not None:
            if time.monotonic() > deadline:
                raise OperationError(f"node {self.node}: {kind[:-1]} {rid} was not deleted in {self.timeout:.0f} s",
                                     "check its state on the node and delete it there")
            time.sleep(POLL_S)

    def _get(self, kind: str, rid: str) -> dict[str, Any] | None:
        from openstack import exceptions as os_exc

        try:
            response = self.api.get(f"/{kind}/{rid}", microversion=VOLUME_MICROVERSION)
            if response.status_code == 404:
                return None
            os_exc.raise_from_response(response)
        except Exception as error:
            raise explain(error, self.node, self.client.entry) from error
        return dict(response.json()[kind[:-1]])


def project_id(client: NodeClient, name: str) -> str | None:
    """The id of project ``name`` (domain Default) on the client's node, or None."""
    try:
        found = paged(client.conn.identity, "/projects", "projects", {"name": name, "domain_id": "default"})
    except Exception as error:
        raise explain(error, client.node, client.entry) from error
    return str(found[0]["id"]) if found else None
