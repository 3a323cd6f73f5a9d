"""The state dir: ``ready.json``, the host key, and per device ``devices/<name>/{running,saved}.{json,cfg}``.

The JSON is the tree the simulator reloads; the ``.cfg`` beside it is the same configuration as
``display current-configuration`` / ``display saved-configuration`` print it, for tests and
operators. Every write is atomic (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from nxgov.errors import LabError
from nxgov.lab.netsim.config import Block

Which = Literal["running", "saved"]
READY = "ready.json"
HOST_KEY = "ssh_host_ed25519_key"


class DeviceStore:
    def __init__(self, state_dir: Path, name: str) -> None:
        self.dir = state_dir / "devices" / name

    def load(self, which: Which) -> Block | None:
        path = self.dir / f"{which}.json"
        if not path.exists():
            return None
        try:
            return Block.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LabError(f"the simulated device configuration {path} is unreadable: {exc}") from exc

    def write(self, which: Which, block: Block, text: list[str]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        _replace(self.dir / f"{which}.json", json.dumps(block.to_json()))
        _replace(self.dir / f"{which}.cfg", "\n".join(text) + "\n")


def read_config(state_dir: Path, name: str, which: Which = "running") -> str | None:
    """A device's running or saved configuration as the device prints it, or None if it has none."""
    path = DeviceStore(state_dir, name).dir / f"{which}.cfg"
    return path.read_text() if path.exists() else None


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
