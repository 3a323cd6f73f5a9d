"""The migration family, per department: systems by lifecycle state, the 上云率, systems at deadline risk and zombie
candidates, from :func:`nxgov.migrate.status.migration_status` (what ``nxgov migrate status`` shows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from nxgov.migrate.status import AT_RISK_DAYS, STATES, MigrationStatus, migration_status
from nxgov.migrate.windows import SHANGHAI
from nxgov.monitor.samples import Samples
from nxgov.monitor.source import MonitorConfig, Snapshot, Source, StoreSource
from nxgov.state import StateStore


def sources(config: MonitorConfig) -> list[Source]:
    return [MigrationSource(config)]


class MigrationSource(StoreSource):
    family = "migration"

    def read(self) -> Snapshot:
        with StateStore.open(self.state) as store:
            return MigrationSnapshot(migration_status(self.estate, store, datetime.now(UTC)))


@dataclass(frozen=True)
class MigrationSnapshot:
    status: MigrationStatus

    def add_to(self, out: Samples) -> None:
        at_risk = {d.department: 0 for d in self.status.departments}
        zombies = dict(at_risk)
        for risk in self.status.at_risk:
            at_risk[risk.department] += 1
        for zombie in self.status.zombies:
            zombies[zombie.department] += 1
        for department in self.status.departments:
            labels = {"department": department.department}
            tally = department.tally
            for state in STATES:
                out.gauge("nxgov_migration_systems", "The department's systems to migrate (with a legacy source) "
                          "by lifecycle state", tally.by_state.get(state, 0), {**labels, "state": state})
            if tally.ratio is not None:
                out.gauge("nxgov_migration_cloud_ratio", "上云率: systems cut over or finalized / systems to "
                          "migrate (not retired), 0-1; absent when the department has none to migrate",
                          tally.ratio, labels)
            out.gauge("nxgov_migration_at_risk_systems", f"Systems not yet on the cloud whose department's "
                      f"migration deadline is at most {AT_RISK_DAYS} days away or past", at_risk[department.department],
                      labels)
            out.gauge("nxgov_migration_zombie_candidates", "Assessed systems whose legacy host shows no use "
                      "(see nxgov migrate status)", zombies[department.department], labels)
            if department.deadline is not None:
                end = datetime.combine(department.deadline, time.max, SHANGHAI)
                out.gauge("nxgov_migration_deadline_timestamp_seconds", "The end of the department's migration "
                          "deadline day (Asia/Shanghai), Unix time", end.timestamp(), labels)
