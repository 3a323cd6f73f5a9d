"""The audit family: whether the audit log's hash chain is intact, how many records verified, and the time of the
last record (:meth:`nxgov.audit.AuditLog.verify_incremental`: after the first read only the records appended since
are hashed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nxgov.audit import AuditLog, Checkpoint
from nxgov.monitor.samples import Samples
from nxgov.monitor.source import MonitorConfig, Snapshot, Source


def sources(config: MonitorConfig) -> list[Source]:
    return [AuditSource(config.audit_log)]


class AuditSource(Source):
    family = "audit"

    def __init__(self, path: Path) -> None:
        self.log = AuditLog(path)
        self._checkpoint: Checkpoint | None = None

    def read(self) -> Snapshot:
        report, self._checkpoint = self.log.verify_incremental(self._checkpoint)
        last = self.log.last_record()
        return AuditSnapshot(report.ok, report.records, last.timestamp.timestamp() if last is not None else None)


@dataclass(frozen=True)
class AuditSnapshot:
    intact: bool
    records: int
    last: float | None

    def add_to(self, out: Samples) -> None:
        out.gauge("nxgov_audit_chain_intact", "1 when the audit log's hash chain and head anchor verify, 0 when a "
                  "record was edited, deleted, inserted, reordered or truncated (see nxgov audit verify)",
                  float(self.intact))
        out.counter("nxgov_audit_records_total", "Records of the audit log that verified (up to the first broken "
                    "one)", self.records)
        if self.last is not None:
            out.gauge("nxgov_audit_last_record_timestamp_seconds", "When the audit log's last record was written, "
                      "Unix time", self.last)
