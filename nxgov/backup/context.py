"""What every backup verb works with: the estate, the nodes' connections, the backup stores, the state store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nxgov.backup.cinder import Cinder
from nxgov.backup.store import store_path
from nxgov.cloud.connect import NodeClient, node_clients
from nxgov.estate.loader import LoadedEstate


@dataclass
class Backup:
    """Everything a backup verb works with: the estate, the nodes' connections, the stores, the state store."""

    loaded: LoadedEstate
    clients: dict[str, NodeClient]
    state: Path
    stores: dict[str, Path] = field(default_factory=dict)

    def cinder(self, node: str) -> Cinder:
        return Cinder(self.clients[node])

    def store(self, node: str) -> Path:
        if node not in self.stores:
            self.stores[node] = store_path(node, self.loaded.estate.clouds[node].backup_store)
        return self.stores[node]


def connect(loaded: LoadedEstate, state: Path, nodes: list[str] | None = None) -> Backup:
    """Connections to ``nodes`` (default: every cloud of the estate); nothing is contacted yet."""
    estate = loaded.estate
    base = loaded.path if loaded.path.is_dir() else loaded.path.parent
    chosen = nodes or list(estate.clouds)
    return Backup(loaded, node_clients({n: estate.clouds[n] for n in chosen}, Path(base)), state)
