"""What ``nxgov migrate assess`` found on a system's legacy host, and where it is kept.

The latest assessment per system is stored in the state store (table ``assessments``, migration 5) as one
JSON document with its time; re-assessing a system replaces it. Every field that could not be read on the
host is ``None`` (or 0 / empty) and the reason is in :attr:`Assessment.notes`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from nxgov.state import StateStore


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Disk(_Frozen):
    """One mounted filesystem (``df``): its mount point, size and used space in bytes."""

    mount: str
    size_bytes: int
    used_bytes: int


class PathUsage(_Frozen):
    """One of the system's ``source.paths``: bytes and regular files below it, and its newest modification."""

    path: str
    bytes: int
    files: int
    newest_change: str | None
    """ISO 8601 UTC time of the newest modification below the path; None when it is empty or missing."""


class Listening(_Frozen):
    """A TCP port the host listens on, and the process name ``ss`` reports for it (empty if unknown)."""

    port: int
    process: str


class Connection(_Frozen):
    """An established TCP connection of the host."""

    local_port: int
    remote: str
    remote_port: int
    system: str | None
    """The estate system whose legacy host is ``remote``, if any (a dependency of the assessed system)."""


class ZombieEvidence(_Frozen):
    """What tells whether the system is still used ("zombie" candidates are retired, not migrated)."""

    last_login: str | None
    """ISO 8601 UTC time of the last interactive login on the host; None if none is recorded."""
    newest_change: str | None
    """ISO 8601 UTC time of the newest modification under any of the data paths."""
    connections_seen: int
    """Established TCP connections at the time of the assessment (ssh's own excluded)."""
    access_log_requests: int | None
    """Requests in the application's access log; None when the host has no such log."""


class Assessment(_Frozen):
    """One assessment of one system's legacy host."""

    system: str
    host: str
    assessed_at: str
    """ISO 8601 UTC time the assessment was taken."""
    os_release: str
    cpus: int
    memory_bytes: int
    disks: list[Disk]
    paths: list[PathUsage]
    listening: list[Listening]
    connections: list[Connection]
    depends_on: list[str]
    """Other estate systems this one has established connections to, sorted."""
    zombie: ZombieEvidence
    notes: list[str] = []
    """What could not be read on the host (a section that failed), one sentence each."""


def save_assessment(store: StateStore, assessment: Assessment) -> None:
    """Store ``assessment``, replacing the system's previous one."""
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO assessments (system, assessed, document) VALUES (?, ?, ?) "
            "ON CONFLICT (system) DO UPDATE SET assessed = excluded.assessed, document = excluded.document",
            (assessment.system, assessment.assessed_at, assessment.model_dump_json()),
        )


def load_assessments(store: StateStore) -> dict[str, Assessment]:
    """The latest assessment of every assessed system, by system code."""
    rows = store.connection.execute("SELECT system, document FROM assessments ORDER BY system").fetchall()
    return {str(system): Assessment.model_validate_json(document) for system, document in rows}
