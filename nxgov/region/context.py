"""What the combined plan and apply work with: the estate, the state store, the audit log, the nodes' connections
(made once, shared by every group), the devices' session options and where runs and archives go."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nxgov.audit import AuditLog
from nxgov.estate.loader import LoadedEstate

if TYPE_CHECKING:
    from nxgov.backup.context import Backup
    from nxgov.cloud.connect import NodeClient
    from nxgov.network.archive import Archive
    from nxgov.network.drivers import SessionOptions


@dataclass
class Region:
    """One region-wide plan or apply. ``session`` opens the devices' and hosts' SSH sessions (its known hosts are
    the ones ``net`` and ``migrate`` use)."""

    loaded: LoadedEstate
    state: Path
    audit_log: AuditLog
    session: SessionOptions
    workers: int = 4
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _clients: dict[str, NodeClient] | None = None

    @property
    def estate_dir(self) -> Path:
        path = self.loaded.path
        return path if path.is_dir() else path.parent

    @property
    def clients(self) -> dict[str, NodeClient]:
        """Every cloud node's connection (nothing is contacted until a group reads)."""
        if self._clients is None:
            from nxgov.cloud.connect import node_clients

            estate = self.loaded.estate
            self._clients = node_clients(dict(estate.clouds), self.estate_dir)
        return self._clients

    def backup(self) -> Backup:
        from nxgov.backup.context import Backup

        return Backup(self.loaded, self.clients, self.state)

    def archive(self) -> Archive:
        from nxgov.network.archive import Archive

        return Archive(self.state.parent / "configs", self.state)

    @property
    def runs_dir(self) -> Path:
        """Where the migration runs' artifact folders go (as ``nxgov migrate`` puts them)."""
        return self.state.parent / "migrate" / "runs"
