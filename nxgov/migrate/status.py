"""Where the migration campaign stands: one SDK call, :func:`migration_status` (``nxgov migrate status`` and the
monitoring exporter both use it).

Only systems with a ``source`` are in it. Their state: the lifecycle state stored for them, else ``assessed`` when
an assessment is stored, else ``not-assessed``. Rules:

- **上云率** (cloud-migration ratio): systems ``cut-over`` or ``finalized`` / systems to migrate, i.e. with a
  ``source`` and not ``retired`` (a retired zombie is not migrated); None when there is none to migrate.
- **at risk**: a system to migrate, not yet cut over or finalized, whose department's ``migration_deadline`` is
  at most :data:`AT_RISK_DAYS` days away in Asia/Shanghai time, or past (``days_left`` negative).
- **zombie candidate**: a system assessed, not retired or finalized, whose stored assessment shows no use:
  no login and no change under its data paths in the :data:`ZOMBIE_IDLE_DAYS` days before the assessment
  (or none recorded at all), no established connection, and no request in its access log (or no access log).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from nxgov.errors import InputError
from nxgov.estate.errors import suggest
from nxgov.estate.model import Estate, System
from nxgov.migrate.assessment import Assessment, load_assessments
from nxgov.migrate.lifecycle import Current, State, current_states
from nxgov.migrate.plan import MigrationPlan
from nxgov.migrate.windows import SHANGHAI
from nxgov.state import StateStore

SCHEMA = "nxgov.migrate.status/1"
NOT_ASSESSED = "not-assessed"
STATES: tuple[str, ...] = (NOT_ASSESSED, *(state.value for state in State))
"""Every state a system to migrate can be in, in lifecycle order (the keys of ``by_state``)."""
ON_CLOUD = frozenset({State.CUT_OVER.value, State.FINALIZED.value})
AT_RISK_DAYS = 30
ZOMBIE_IDLE_DAYS = 90


@dataclass(frozen=True)
class SystemStatus:
    system: str
    department: str
    wave: int | None
    """Its wave in the plan given, if any."""
    state: str
    changed: str | None
    """When it entered ``state`` (ISO 8601 UTC): the state change, or the assessment; None when not assessed."""

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "department": self.department, "wave": self.wave, "state": self.state,
                "changed": self.changed}


@dataclass(frozen=True)
class Tally:
    """Systems by state and the 上云率 of a group of systems (the estate, a department or a wave)."""

    systems: int
    by_state: Mapping[str, int]
    on_cloud: int
    to_migrate: int
    ratio: float | None
    """``on_cloud / to_migrate``; None when there is nothing to migrate."""

    def as_dict(self) -> dict[str, Any]:
        return {"systems": self.systems, "by_state": dict(self.by_state), "on_cloud": self.on_cloud,
                "to_migrate": self.to_migrate, "ratio": self.ratio}


@dataclass(frozen=True)
class DepartmentStatus:
    department: str
    deadline: date | None
    tally: Tally

    def as_dict(self) -> dict[str, Any]:
        return {"department": self.department, "deadline": self.deadline.isoformat() if self.deadline else None,
                **self.tally.as_dict()}


@dataclass(frozen=True)
class WaveStatus:
    wave: int
    start: datetime
    end: datetime
    tally: Tally

    def as_dict(self) -> dict[str, Any]:
        return {"wave": self.wave, "window": {"start": _iso(self.start), "end": _iso(self.end)}, **self.tally.as_dict()}


@dataclass(frozen=True)
class AtRisk:
    system: str
    department: str
    state: str
    deadline: date
    days_left: int
    """Days from today (Asia/Shanghai) to the deadline; negative when it has passed."""

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "department": self.department, "state": self.state,
                "deadline": self.deadline.isoformat(), "days_left": self.days_left}


@dataclass(frozen=True)
class Zombie:
    system: str
    department: str
    state: str
    assessed_at: str
    last_login: str | None
    newest_change: str | None
    connections_seen: int
    access_log_requests: int | None
    why: tuple[str, ...]
    """The evidence in words, one sentence per rule."""

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "department": self.department, "state": self.state,
                "assessed_at": self.assessed_at, "last_login": self.last_login, "newest_change": self.newest_change,
                "connections_seen": self.connections_seen, "access_log_requests": self.access_log_requests,
                "why": list(self.why)}


@dataclass(frozen=True)
class MigrationStatus:
    estate: str
    time: datetime
    department: str | None
    """The department it is limited to, if any."""
    total: Tally
    departments: tuple[DepartmentStatus, ...]
    waves: tuple[WaveStatus, ...]
    """Per wave of the plan given (empty without one)."""
    systems: tuple[SystemStatus, ...]
    at_risk: tuple[AtRisk, ...]
    zombies: tuple[Zombie, ...]

    def to_document(self, plan: str | None = None) -> dict[str, Any]:
        """The ``nxgov.migrate.status/1`` document; ``plan`` names the plan file the waves come from."""
        return {"schema": SCHEMA, "estate": self.estate, "time": self.time.isoformat(timespec="seconds"),
                "department": self.department, "plan": plan, "at_risk_days": AT_RISK_DAYS,
                "zombie_idle_days": ZOMBIE_IDLE_DAYS, "total": self.total.as_dict(),
                "departments": [d.as_dict() for d in self.departments], "waves": [w.as_dict() for w in self.waves],
                "systems": [s.as_dict() for s in self.systems], "at_risk": [a.as_dict() for a in self.at_risk],
                "zombies": [z.as_dict() for z in self.zombies]}


def migration_status(estate: Estate, store: StateStore, now: datetime, *, plan: MigrationPlan | None = None,
                     department: str | None = None) -> MigrationStatus:
    """Where each system with a source stands, per department (and per wave of ``plan``), the 上云率, the systems at
    risk of missing their deadline and the zombie candidates (rules in the module docstring). ``now`` must be
    timezone-aware. Raises :class:`InputError` for a ``department`` the estate does not have."""
    departments = [d for d in estate.departments if department is None or d.code == department]
    if not departments:
        codes = [d.code for d in estate.departments]
        raise InputError(f"--department {department!r} is not a department of estate {estate.estate}",
                         suggest(str(department), codes) or f"give one of: {', '.join(codes[:10])}"
                         + (f" (and {len(codes) - 10} more: nxgov estate show)" if len(codes) > 10 else ""))
    wanted = {d.code for d in departments}
    systems = [s for s in estate.systems if s.source is not None and s.department in wanted]
    assessments = load_assessments(store)
    stored = current_states(store)
    waves = {entry.code: wave.wave for wave in plan.waves for entry in wave.systems} if plan else {}
    rows = tuple(_row(s, assessments.get(s.code), stored, waves.get(s.code)) for s in systems)
    today = now.astimezone(SHANGHAI).date()
    deadlines = {d.code: d.migration_deadline for d in departments}
    wave_rows = [(wave, [r for r in rows if r.wave == wave.wave]) for wave in plan.waves] if plan else []
    return MigrationStatus(
        estate=estate.estate, time=now, department=department, total=_tally(rows),
        departments=tuple(DepartmentStatus(d.code, d.migration_deadline,
                                           _tally(r for r in rows if r.department == d.code)) for d in departments),
        waves=tuple(WaveStatus(wave.wave, wave.start, wave.end, _tally(members))
                    for wave, members in wave_rows if members),
        systems=rows,
        at_risk=tuple(_at_risk(rows, deadlines, today)),
        zombies=tuple(z for r in rows if (z := _zombie(r, assessments.get(r.system))) is not None),
    )


def _row(system: System, assessment: Assessment | None, stored: Mapping[str, Current],
         wave: int | None) -> SystemStatus:
    current = stored.get(system.code)
    if current is not None:
        return SystemStatus(system.code, system.department, wave, current.state.value, current.changed)
    if assessment is not None:
        return SystemStatus(system.code, system.department, wave, State.ASSESSED.value, assessment.assessed_at)
    return SystemStatus(system.code, system.department, wave, NOT_ASSESSED, None)


def _tally(rows: Iterable[SystemStatus]) -> Tally:
    members = list(rows)
    counts = Counter(r.state for r in members)
    on_cloud = sum(counts[state] for state in ON_CLOUD)
    to_migrate = len(members) - counts[State.RETIRED.value]
    return Tally(len(members), {state: counts[state] for state in STATES}, on_cloud, to_migrate,
                 on_cloud / to_migrate if to_migrate else None)


def _at_risk(rows: Iterable[SystemStatus], deadlines: Mapping[str, date | None], today: date) -> Iterable[AtRisk]:
    done = ON_CLOUD | {State.RETIRED.value}
    for row in rows:
        deadline = deadlines[row.department]
        if deadline is None or row.state in done:
            continue
        days_left = (deadline - today).days
        if days_left <= AT_RISK_DAYS:
            yield AtRisk(row.system, row.department, row.state, deadline, days_left)


def _zombie(row: SystemStatus, assessment: Assessment | None) -> Zombie | None:
    if assessment is None or row.state in (State.RETIRED.value, State.FINALIZED.value):
        return None
    evidence = assessment.zombie
    since = datetime.fromisoformat(assessment.assessed_at) - timedelta(days=ZOMBIE_IDLE_DAYS)
    why = []
    for what, moment in (("login", evidence.last_login), ("change under its data paths", evidence.newest_change)):
        if moment is not None and datetime.fromisoformat(moment) >= since:
            return None
        why.append(f"no {what} " + (f"since {moment}" if moment else "recorded"))
    if evidence.connections_seen:
        return None
    why.append("no established connection")
    if evidence.access_log_requests:
        return None
    why.append("no access log found" if evidence.access_log_requests is None else "no request in its access log")
    return Zombie(row.system, row.department, row.state, assessment.assessed_at, evidence.last_login,
                  evidence.newest_change, evidence.connections_seen, evidence.access_log_requests, tuple(why))


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")
