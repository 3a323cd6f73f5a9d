"""Plan the migration campaign: waves of systems, each in a window all its departments' maintenance allows.

:func:`make_plan` is pure: the same estate, assessments, start and maximum give the same plan. Rules:

- Only systems with a ``source`` migrate; the others, and the systems of departments that declare no
  ``maintenance`` windows, are listed in :attr:`MigrationPlan.not_planned` with the reason.
- A system's dependencies (:attr:`Assessment.depends_on`) migrate in an earlier wave or the same one.
  Systems that depend on each other in a cycle migrate in one wave (a cycle larger than the maximum is refused).
- Waves follow each other in time: each opens at the first window at or after the end of the previous one
  (the first at or after ``start``), in the intersection of the maintenance windows of every department in it.
- Each wave starts with the ready system whose departments' window opens first, takes that department's other
  ready systems, then whole departments whose systems need nothing outside the wave and earlier ones, fit, and
  share the same opening.
- The servers the estate declares are checked against the assessment: warnings name both numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nxgov.errors import InputError
from nxgov.estate.model import Department, Estate, System
from nxgov.migrate import windows
from nxgov.migrate.assessment import Assessment

SCHEMA = "nxgov.migrate.plan/1"
DEFAULT_MAX_PER_WAVE = 10
GIB = 1 << 30


@dataclass(frozen=True)
class PlannedSystem:
    code: str
    department: str
    targets: list[str]
    """The nodes its servers run on, from its placement (primary first)."""
    depends_on: list[str]
    """Estate systems it depends on, from its assessment (sorted)."""
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "department": self.department, "targets": self.targets,
                "depends_on": self.depends_on, "warnings": self.warnings}


@dataclass(frozen=True)
class Wave:
    wave: int
    start: datetime
    end: datetime
    systems: list[PlannedSystem]

    def as_dict(self) -> dict[str, Any]:
        return {"wave": self.wave, "window": {"start": _iso(self.start), "end": _iso(self.end)},
                "systems": [s.as_dict() for s in self.systems]}


@dataclass(frozen=True)
class NotPlanned:
    code: str
    department: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "department": self.department, "reason": self.reason}


@dataclass
class MigrationPlan:
    estate: str
    created: str
    start: datetime
    max_per_wave: int
    waves: list[Wave]
    not_planned: list[NotPlanned] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        """The ``nxgov.migrate.plan/1`` document (also the YAML plan file's content)."""
        return {"schema": SCHEMA, "estate": self.estate, "created": self.created, "start": _iso(self.start),
                "max_per_wave": self.max_per_wave, "waves": [w.as_dict() for w in self.waves],
                "not_planned": [n.as_dict() for n in self.not_planned], "notes": self.notes}


def parse_start(text: str | None, now: datetime) -> datetime:
    """``--start``: a date (its midnight) or an ISO 8601 time, in Asia/Shanghai time unless it gives an offset;
    ``now`` when None."""
    if text is None:
        return now
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--start {text!r} is not a date or time",
                         "write YYYY-MM-DD or YYYY-MM-DDTHH:MM (Asia/Shanghai time), e.g. 2026-12-05") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=windows.SHANGHAI)


def _iso(moment: datetime) -> str:
    return moment.astimezone(windows.SHANGHAI).isoformat(timespec="seconds")


@dataclass
class _Unit:
    """Systems that migrate in one wave: one system, or a dependency cycle."""

    key: int
    systems: list[System]
    departments: tuple[str, ...]
    needs: set[int] = field(default_factory=set)
    needed_by: set[int] = field(default_factory=set)


def make_plan(estate: Estate, assessments: Mapping[str, Assessment], *, start: datetime, created: str,
              max_per_wave: int = DEFAULT_MAX_PER_WAVE) -> MigrationPlan:
    """The waves that migrate the estate's systems (see the module's rules). ``created`` is recorded as given.

    Raises :class:`InputError` when a dependency cycle holds more systems than ``max_per_wave``."""
    if max_per_wave < 1:
        raise InputError(f"--max-per-wave {max_per_wave} is not a number of systems", "give 1 or more")
    departments = {d.code: d for d in estate.departments}
    index = {s.code: i for i, s in enumerate(estate.systems)}
    not_planned: list[NotPlanned] = []
    planned: list[System] = []
    for system in estate.systems:
        dept = departments[system.department]
        if system.source is None:
            not_planned.append(NotPlanned(system.code, system.department, "no source: nothing to migrate"))
        elif not dept.maintenance:
            not_planned.append(NotPlanned(system.code, system.department, f"department {dept.code} declares no "
                                          "maintenance windows"))
        else:
            planned.append(system)
    reasons = {n.code: n.reason for n in not_planned}
    warnings = {s.code: _server_warnings(estate, s, assessments.get(s.code)) for s in planned}
    deps: dict[str, list[str]] = {}
    for system in planned:
        found = assessments.get(system.code)
        deps[system.code] = sorted({d for d in (found.depends_on if found else []) if d != system.code},
                                   key=lambda d: (index.get(d, len(index)), d))
        for dep in deps[system.code]:
            if dep not in index:
                warnings[system.code].append(f"depends on {dep}, which is not in the estate")
            elif dep in reasons:
                warnings[system.code].append(f"depends on {dep}, which is not planned ({reasons[dep]})")
    units = _units(planned, deps, index, departments)
    cycles = [[s.code for s in unit.systems] for unit in units.values() if len(unit.systems) > 1]
    for codes in cycles:
        if len(codes) > max_per_wave:
            raise InputError(f"systems {', '.join(codes)} depend on each other in a cycle of {len(codes)}, more "
                             f"than --max-per-wave {max_per_wave}: a cycle migrates in one wave",
                             f"raise --max-per-wave to {len(codes)} or more")
    builder = _Waves(units, departments, max_per_wave, start)
    placed = builder.build()
    in_waves = {s.code for _, _, systems in placed for s in systems}
    planned_cycles = [codes for codes in cycles if codes[0] in in_waves]
    notes = [f"dependency cycle {', '.join(codes)}: migrated together in one wave" for codes in planned_cycles]
    for codes in planned_cycles:
        for code in codes:
            warnings[code].append("in a dependency cycle with " + ", ".join(c for c in codes if c != code)
                                  + ": same wave")
    for unit in builder.unplannable:
        names = ", ".join(unit.departments)
        members = {s.code for s in unit.systems}
        for system in unit.systems:
            not_planned.append(NotPlanned(system.code, system.department, "a dependency cycle across departments "
                                          f"{names}, whose maintenance windows never overlap"))
        for other in sorted(unit.needed_by):
            for dependent in units[other].systems:
                warnings[dependent.code] += [f"depends on {dep}, which is not planned" for dep in deps[dependent.code]
                                             if dep in members]
    primaries = estate.primary_nodes()
    waves = [Wave(n, opens, closes, [
        PlannedSystem(s.code, s.department, s.placement.node_names(primaries), deps[s.code], warnings[s.code])
        for s in sorted(systems, key=lambda s: index[s.code])]) for n, (opens, closes, systems) in enumerate(placed, 1)]
    not_planned.sort(key=lambda n: index[n.code])
    return MigrationPlan(estate=estate.estate, created=created, start=start, max_per_wave=max_per_wave, waves=waves,
                         not_planned=not_planned, notes=notes)


def _units(planned: list[System], deps: dict[str, list[str]], index: dict[str, int],
           departments: dict[str, Department]) -> dict[int, _Unit]:
    """The dependency graph's strongly connected components (Tarjan, iterative), keyed by their first system."""
    graph = {s.code: [d for d in deps[s.code] if d in deps] for s in planned}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in graph:
        if root in order:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            if i < len(graph[node]):
                work.append((node, i + 1))
                nxt = graph[node][i]
                if nxt not in order:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], order[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    by_code = {s.code: s for s in planned}
    dept_order = {code: i for i, code in enumerate(departments)}
    units: dict[int, _Unit] = {}
    unit_of: dict[str, int] = {}
    for component in components:
        systems = sorted((by_code[c] for c in component), key=lambda s: index[s.code])
        key = index[systems[0].code]
        depts = tuple(sorted({s.department for s in systems}, key=dept_order.__getitem__))
        units[key] = _Unit(key, systems, depts)
        unit_of.update({c: key for c in component})
    for code, targets in graph.items():
        for dep in targets:
            if unit_of[dep] != unit_of[code]:
                units[unit_of[code]].needs.add(unit_of[dep])
                units[unit_of[dep]].needed_by.add(unit_of[code])
    return dict(sorted(units.items()))


class _Waves:
    """Greedy wave building over the units' dependency order (see the module's rules)."""

    def __init__(self, units: dict[int, _Unit], departments: dict[str, Department], limit: int,
                 start: datetime) -> None:
        self.units = units
        self.departments = departments
        self.limit = limit
        self.after = start
        self.waiting = {key: len(unit.needs) for key, unit in units.items()}
        self.ready: set[int] = {key for key, count in self.waiting.items() if count == 0}
        self.left: dict[str, set[int]] = {}
        for key, unit in units.items():
            for dept in unit.departments:
                self.left.setdefault(dept, set()).add(key)
        self.placed: set[int] = set()
        self.unplannable: list[_Unit] = []
        self._patterns: dict[frozenset[str], windows.Pattern] = {}

    def build(self) -> list[tuple[datetime, datetime, list[System]]]:
        waves: list[tuple[datetime, datetime, list[System]]] = []
        while self.ready:
            first = self._first()
            if first is None:
                continue
            key, (opens, closes) = first
            members = [key]
            depts = set(self.units[key].departments)
            size = len(self.units[key].systems)
            self._take(key)
            while True:
                same = sorted(k for d in depts for k in self.left.get(d, ()) if k in self.ready
                              and set(self.units[k].departments) <= depts
                              and size + len(self.units[k].systems) <= self.limit)
                if same:
                    members.append(same[0])
                    size += len(self.units[same[0]].systems)
                    self._take(same[0])
                    continue
                joined = self._join(depts, size, opens)
                if joined is None:
                    break
                keys, closes = joined
                for k in keys:
                    members.append(k)
                    size += len(self.units[k].systems)
                    depts.update(self.units[k].departments)
                    self._take(k)
            waves.append((opens, closes, [s for k in members for s in self.units[k].systems]))
            self.after = closes
        return waves

    def _first(self) -> tuple[int, tuple[datetime, datetime]] | None:
        """The ready unit whose window opens first (then the first in estate order); None when one was found
        unplannable (set aside, its dependents released)."""
        best: tuple[datetime, int, datetime] | None = None
        seen: dict[tuple[str, ...], tuple[datetime, datetime] | None] = {}
        for key in sorted(self.ready):
            depts = self.units[key].departments
            if depts not in seen:
                seen[depts] = windows.next_opening(self._pattern(depts), self.after)
            window = seen[depts]
            if window is None:
                self.unplannable.append(self.units[key])
                self._take(key)
                return None
            if best is None or window[0] < best[0]:
                best = (window[0], key, window[1])
        assert best is not None
        return best[1], (best[0], best[2])

    def _join(self, depts: set[str], size: int, opens: datetime) -> tuple[list[int], datetime] | None:
        """A whole other department whose remaining units need only placed units or each other, fit, and can open
        with the wave."""
        for dept in self.departments:
            keys = self.left.get(dept)
            if dept in depts or not keys or any(n not in self.placed and n not in keys
                                                for k in keys for n in self.units[k].needs):
                continue
            if size + sum(len(self.units[k].systems) for k in keys) > self.limit:
                continue
            wider = depts | {d for k in keys for d in self.units[k].departments}
            window = windows.next_opening(self._pattern(wider), self.after)
            if window is not None and window[0] == opens:
                return sorted(keys), window[1]
        return None

    def _take(self, key: int) -> None:
        """The unit is placed (or set aside): its dependents may be ready."""
        self.ready.discard(key)
        self.placed.add(key)
        unit = self.units[key]
        for dept in unit.departments:
            self.left[dept].discard(key)
        for other in unit.needed_by:
            self.waiting[other] -= 1
            if self.waiting[other] == 0 and other not in self.placed:
                self.ready.add(other)

    def _pattern(self, depts: Iterable[str]) -> windows.Pattern:
        names = frozenset(depts)
        if names not in self._patterns:
            found: windows.Pattern | None = None
            for name in sorted(names):
                own = windows.pattern(self.departments[name].maintenance or [])
                found = own if found is None else windows.intersect(found, own)
            self._patterns[names] = found or ()
        return self._patterns[names]


def _server_warnings(estate: Estate, system: System, assessed: Assessment | None) -> list[str]:
    """The estate's servers for ``system`` against what its legacy host has and holds."""
    if assessed is None:
        return ["not assessed: servers not checked against the source, dependencies unknown "
                "(run nxgov migrate assess)"]
    out: list[str] = []
    unknown = sorted({s.flavor for s in system.servers if s.flavor not in estate.flavors})
    if unknown:
        out.append(f"flavor {', '.join(unknown)}: size not declared under the estate's flavors, so the servers "
                   "are not compared with the source's CPUs and memory")
    elif system.servers:
        listing = ", ".join(f"{s.name} {s.count}x{s.flavor}" for s in system.servers)
        vcpus = sum(estate.flavors[s.flavor].vcpus * s.count for s in system.servers)
        ram = sum(estate.flavors[s.flavor].ram_mb * s.count for s in system.servers) << 20
        if vcpus < assessed.cpus:
            out.append(f"servers have {vcpus} vCPUs in all ({listing}), fewer than the source's {assessed.cpus} CPUs")
        if ram < assessed.memory_bytes:
            out.append(f"servers have {_gib(ram)} of memory in all ({listing}), less than the source's "
                       f"{_gib(assessed.memory_bytes)}")
    data = sum(p.bytes for p in assessed.paths)
    volumes = [(size, s.name) for s in system.servers for size in s.volumes_gb]
    if data and not volumes:
        out.append(f"{_gib(data)} of data under its paths and no data volume: it would land on the servers' root "
                   "disks")
    elif volumes and max(volumes)[0] * GIB < data:
        size, name = max(volumes)
        out.append(f"{_gib(data)} of data under its paths, more than its largest data volume, {size} GiB "
                   f"(server {name})")
    return out


def _gib(count: int) -> str:
    return f"{count / GIB:,.1f} GiB"
