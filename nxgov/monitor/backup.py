"""The backup family, per protected system: last good copy, RPO target and whether it is met, last verify, last drill
and when the next is due, from :func:`nxgov.backup.status.backup_status` (what ``nxgov backup status`` shows).

Times are Unix seconds; a time that does not exist yet (no good copy, never verified, never drilled) is left out
rather than exported as 0, so ``time() - nxgov_backup_last_good_timestamp_seconds`` never reads as 56 years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from nxgov.backup.status import SystemStatus, backup_status
from nxgov.monitor.samples import Samples
from nxgov.monitor.source import MonitorConfig, Snapshot, Source, StoreSource
from nxgov.state import StateStore

RESULTS = ("ok", "corrupt")
DRILL_RESULTS = ("passed", "failed")


def sources(config: MonitorConfig) -> list[Source]:
    return [BackupSource(config)]


class BackupSource(StoreSource):
    family = "backup"

    def read(self) -> Snapshot:
        with StateStore.open(self.state) as store:
            return BackupSnapshot(backup_status(self.estate, store, datetime.now(UTC)))


def _seconds(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True)
class BackupSnapshot:
    systems: list[SystemStatus]

    def add_to(self, out: Samples) -> None:
        for row in self.systems:
            labels = {"system": row.system, "department": row.department}
            out.gauge("nxgov_backup_rpo_seconds", "The system's recovery point objective (estate backup.rpo)",
                      row.rpo_s, labels)
            out.gauge("nxgov_backup_volumes", "Data volumes of the system copied to the backup cloud", row.volumes,
                      labels)
            last = _seconds(row.last_good)
            if last is not None:
                out.gauge("nxgov_backup_last_good_timestamp_seconds", "Recovery point of the system's last good "
                          "copy (the oldest of its volumes' last good copies), Unix time", last, labels)
            if row.rpo_met is not None:
                out.gauge("nxgov_backup_rpo_met", "1 when the last good copy is younger than the RPO, else 0 "
                          "(absent for a system without data volumes)", 1.0 if row.rpo_met else 0.0, labels)
            verified = _seconds(row.last_verify)
            if verified is not None:
                out.gauge("nxgov_backup_last_verify_timestamp_seconds", "When the system's copies were last read "
                          "back and checked (nxgov backup verify), Unix time", verified, labels)
                _one_per_result(out, "nxgov_backup_last_verify_result", "The last verify's result", RESULTS,
                                row.last_verify_result, labels)
            drilled = _seconds(row.last_drill)
            if drilled is not None:
                out.gauge("nxgov_backup_last_drill_timestamp_seconds", "When the system's last restore drill "
                          "started, Unix time", drilled, labels)
                _one_per_result(out, "nxgov_backup_last_drill_result", "The last drill's result", DRILL_RESULTS,
                                row.last_drill_result, labels)
            out.gauge("nxgov_backup_drill_due_timestamp_seconds", "When the next restore drill is due (the "
                      "estate's backup.drill after the last passed one; now when never drilled), Unix time",
                      datetime.fromisoformat(row.drill_due).timestamp(), labels)


def _one_per_result(out: Samples, name: str, what: str, results: tuple[str, ...], current: str | None,
                    labels: dict[str, str]) -> None:
    for result in results:
        out.gauge(name, f"{what}, one series per result (1 for the one it was)", 1.0 if current == result else 0.0,
                  {**labels, "result": result})
