"""The configuration archive, like Oxidized: every device's running configuration, with history.

Each version is a file ``<archive>/<device>/<UTC time>.cfg`` (mode 0600) indexed in the state store
(table ``config_versions``, migration 3) with its SHA-256. A backup that finds the same text as the
device's latest version adds nothing, so the history holds changes only. Versions are numbered 1, 2,
3, ... per device; :meth:`Archive.diff` compares any two.

Beside a device's versions, ``<archive>/<device>/pushed.cfg`` holds every line nxgov has pushed to it and
not removed since (written after each push that succeeded): what ``net push --prune`` may remove.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nxgov.audit import AuditLog
from nxgov.errors import InputError
from nxgov.network.drivers import SessionOptions, Target, driver
from nxgov.runner import AuditHook, Hook, Outcome, RunResult, run
from nxgov.state import StateStore


@dataclass(frozen=True)
class ConfigVersion:
    """One archived configuration of a device."""

    device: str
    version: int
    taken: str
    sha256: str
    path: Path
    bytes: int

    def as_dict(self) -> dict[str, object]:
        return {"device": self.device, "version": self.version, "taken": self.taken, "sha256": self.sha256,
                "path": str(self.path), "bytes": self.bytes}


class Archive:
    """The archive in ``directory``, indexed in the state store at ``state``."""

    def __init__(self, directory: Path, state: Path) -> None:
        self.directory = directory
        self.state = state

    def add(self, device: str, text: str) -> tuple[ConfigVersion, bool]:
        """Archive ``text`` as ``device``'s newest version unless it is the newest already.

        Returns the newest version and whether it is new. Safe from any thread and process: it opens
        its own connection and decides under the store's write lock.
        """
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with StateStore.open(self.state) as store, store.transaction() as connection:
            row = connection.execute(
                "SELECT version, taken, sha256, path, bytes FROM config_versions WHERE device = ? "
                "ORDER BY version DESC LIMIT 1", (device,)).fetchone()
            if row is not None and row[2] == digest:
                return self._version(device, row), False
            taken = datetime.now(UTC)
            relative = Path(device) / f"{taken.strftime('%Y%m%dT%H%M%S.%fZ')}.cfg"
            self._write(self.directory / relative, text)
            version = (row[0] if row else 0) + 1
            data = text.encode("utf-8")
            connection.execute(
                "INSERT INTO config_versions (device, version, taken, sha256, path, bytes) VALUES (?, ?, ?, ?, ?, ?)",
                (device, version, taken.isoformat(timespec="microseconds"), digest, str(relative), len(data)),
            )
        return ConfigVersion(device, version, taken.isoformat(timespec="microseconds"), digest,
                             self.directory / relative, len(data)), True

    def made(self, device: str) -> str | None:
        """The lines nxgov has pushed to ``device`` and not removed since (None before its first push)."""
        try:
            return self._made_path(device).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise InputError(f"cannot read what nxgov pushed to {device}: {self._made_path(device)}: "
                             f"{error.strerror}", "check the archive directory's permissions (--archive)") from error

    def record_made(self, device: str, text: str) -> None:
        """Keep ``text`` as what nxgov has made on ``device`` (after a push that succeeded)."""
        self._write(self._made_path(device), text)

    def restore_made(self, device: str, text: str | None) -> None:
        """Put back what nxgov had made on ``device`` before a change that was reverted (None: nothing yet)."""
        if text is not None:
            self.record_made(device, text)
            return
        with contextlib.suppress(FileNotFoundError):
            self._made_path(device).unlink()

    def _made_path(self, device: str) -> Path:
        return self.directory / device / "pushed.cfg"

    def history(self, device: str) -> list[ConfigVersion]:
        """Every version of ``device``, oldest first (empty when it was never backed up)."""
        with StateStore.open(self.state) as store:
            rows = store.connection.execute(
                "SELECT version, taken, sha256, path, bytes FROM config_versions WHERE device = ? ORDER BY version",
                (device,)).fetchall()
        return [self._version(device, row) for row in rows]

    def read(self, device: str, version: int) -> str:
        """The text of one version (InputError naming the versions there are)."""
        found = {v.version: v for v in self.history(device)}
        if version not in found:
            have = f"versions 1..{max(found)}" if found else "no versions (run `nxgov net backup` first)"
            raise InputError(f"{device} has no archived version {version}", f"it has {have}")
        path = found[version].path
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"archived version {version} of {device} is missing: {path}: {error.strerror}",
                             "the archive directory was moved or pruned; point --archive at it") from error

    def diff(self, device: str, old: int, new: int) -> str:
        """A unified diff from version ``old`` to version ``new`` (empty when they are the same)."""
        a, b = self.read(device, old), self.read(device, new)
        return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), f"{device} version {old}",
                                              f"{device} version {new}", lineterm=""))

    def _version(self, device: str, row: tuple[int, str, str, str, int]) -> ConfigVersion:
        version, taken, digest, path, size = row
        return ConfigVersion(device, version, taken, digest, self.directory / path, size)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


def last_archived(store: StateStore) -> dict[str, str]:
    """Each archived device → when its newest version was taken (ISO 8601 UTC). A backup that finds the
    configuration unchanged adds no version, so this is when the configuration last changed and was archived."""
    rows = store.connection.execute("SELECT device, MAX(taken) FROM config_versions GROUP BY device").fetchall()
    return dict(rows)


def backup(targets: Sequence[Target], archive: Archive, options: SessionOptions, *, workers: int = 20,
           audit: AuditLog | None = None, hooks: Sequence[Hook] = ()) -> RunResult[Target]:
    """Read every target's running configuration and archive it; one audit record per device.

    A device whose configuration is unchanged reports ok (with its current version); a new version
    reports changed. Unreachable devices fail without stopping the others.
    """

    def task(target: Target) -> Outcome:
        with driver(target, options) as device:
            text = device.get_config("running")
        version, new = archive.add(target.name, text)
        return Outcome(new, version.as_dict())

    audit_hooks: list[Hook] = [AuditHook(audit, "net backup")] if audit is not None else []
    return run(task, targets, name="backup", key=lambda target: target.name, workers=workers,
               hooks=[*audit_hooks, *hooks])
