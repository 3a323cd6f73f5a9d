"""The migration plan as an editable YAML file (os-migrate style): written by ``migrate plan --out``, read back
(checked against the estate) by ``migrate plan --check`` and the lifecycle verbs.

Reading uses the estate's hardened YAML reader (no tags, merge keys, alias bombs, deep nesting) and reports
every problem at once, located (file:line), as :class:`PlanFileError` (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from nxgov.errors import EstateError, Problem
from nxgov.estate.errors import problems_from, suggest
from nxgov.estate.model import Estate, System
from nxgov.estate.source import PathKey, Source, read_plain_yaml
from nxgov.migrate import windows
from nxgov.migrate.plan import SCHEMA, MigrationPlan, NotPlanned, PlannedSystem, Wave

HEADER = """\
# nxgov migration plan ({schema}), made by `nxgov migrate plan --out`. Edit it, then check it with
# `nxgov migrate plan --check FILE`: move systems between waves (a system's depends_on must be in its wave or
# an earlier one), change a wave's window (inside every one of its departments' maintenance windows, Asia/Shanghai
# time), split or merge waves (at most max_per_wave systems each). targets and department come from the estate.
"""


class PlanFileError(EstateError):
    """The plan file does not validate. ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.path)))
        count = len(problems)
        self.message = f"the migration plan has {count} problem{'s' if count != 1 else ''}"
        self.args = (self.message,)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Window(_Strict):
    start: AwareDatetime = Field(description="when the wave opens, ISO 8601 with its offset, quoted")
    end: AwareDatetime = Field(description="when the wave must be done, ISO 8601 with its offset, quoted")


class _System(_Strict):
    code: str = Field(description="the system's code in the estate")
    department: str = Field(description="the system's department code in the estate")
    targets: list[str] = Field(description="the nodes of its placement, primary first")
    depends_on: list[str] = Field(default_factory=list, description="systems that migrate in this wave or before")
    warnings: list[str] = Field(default_factory=list)


class _Wave(_Strict):
    wave: int = Field(ge=1, description="the wave's number, from 1")
    window: _Window = Field(description="{start, end}: when the wave runs")
    systems: list[_System] = Field(min_length=1, description="the systems migrated in the wave")


class _NotPlanned(_Strict):
    code: str
    department: str
    reason: str


class _PlanFile(_Strict):
    estate: str = Field(description="the estate's name")
    created: str = Field(description="when the plan was made")
    start: AwareDatetime = Field(description="the time the plan's first wave opens at or after")
    max_per_wave: int = Field(ge=1, description="the most systems a wave may hold")
    waves: list[_Wave] = Field(description="the waves, each {wave, window, systems}")
    not_planned: list[_NotPlanned] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def render_yaml(plan: MigrationPlan) -> str:
    """The plan file's text."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(plan.to_document(), Dumper=dumper, allow_unicode=True, sort_keys=False, width=120,
                     default_flow_style=None)
    return HEADER.format(schema=SCHEMA) + body


def read_plan(path: Path, estate: Estate) -> MigrationPlan:
    """Read and check the plan file at ``path`` against ``estate``; raise :class:`PlanFileError` listing every
    problem: YAML, unknown keys and types, another schema or estate, an unknown system, a system twice or without
    a source, a department or targets unlike the estate's, a wave over max_per_wave, a dependency in a later wave,
    a window outside a department's maintenance windows."""
    read = read_plain_yaml(path)
    if read.problems or read.marks is None:
        raise PlanFileError(read.problems)
    marks = read.marks
    source = Source(data=read.data if isinstance(read.data, dict) else {},
                    marks={key: (marks.file, mark) for key, mark in marks.marks.items()}, files=[path])
    if not isinstance(read.data, dict):
        raise PlanFileError([source.problem((), "not a migration plan: the top level must be a mapping of keys",
                                            "make one with `nxgov migrate plan --out FILE`")])
    data = dict(read.data)
    schema = data.pop("schema", None)
    if schema != SCHEMA:
        raise PlanFileError([source.problem(("schema",), f"not a migration plan: schema is {schema!r}, not {SCHEMA}",
                                            "make one with `nxgov migrate plan --out FILE`")])
    try:
        model = _PlanFile.model_validate(data)
    except ValidationError as error:
        raise PlanFileError(problems_from(error.errors(), source, (), _PlanFile)) from None
    problems = _Checker(source, estate).check(model)
    if problems:
        raise PlanFileError(problems)
    return MigrationPlan(
        estate=model.estate, created=model.created, start=model.start, max_per_wave=model.max_per_wave,
        waves=[Wave(w.wave, w.window.start, w.window.end,
                    [PlannedSystem(s.code, s.department, list(s.targets), list(s.depends_on), list(s.warnings))
                     for s in w.systems]) for w in sorted(model.waves, key=lambda w: w.wave)],
        not_planned=[NotPlanned(n.code, n.department, n.reason) for n in model.not_planned], notes=list(model.notes))


class _Checker:
    def __init__(self, source: Source, estate: Estate) -> None:
        self.source = source
        self.estate = estate
        self.problems: list[Problem] = []
        self.systems = {s.code: s for s in estate.systems}
        self.departments = {d.code: d for d in estate.departments}

    def report(self, path: PathKey, message: str, hint: str | None = None) -> None:
        self.problems.append(self.source.problem(path, message, hint))

    def where(self, path: PathKey) -> str:
        found = self.source.locate(path)
        return f" ({found.file}:{found.line})" if found else ""

    def check(self, plan: _PlanFile) -> list[Problem]:
        if plan.estate != self.estate.estate:
            self.report(("estate",), f"the plan is for estate {plan.estate!r}, not {self.estate.estate!r}",
                        f"check it with the estate it was made for, or make one for {self.estate.estate}")
            return self.problems
        numbers: dict[int, int] = {}
        placed: dict[str, tuple[int, int, int]] = {}
        for i, wave in enumerate(plan.waves):
            if wave.wave in numbers:
                self.report(("waves", i, "wave"), f"wave {wave.wave} appears twice"
                            + self.where(("waves", numbers[wave.wave], "wave")), "number each wave once")
            numbers.setdefault(wave.wave, i)
            if len(wave.systems) > plan.max_per_wave:
                self.report(("waves", i, "systems"), f"wave {wave.wave} has {len(wave.systems)} systems, more "
                            f"than max_per_wave {plan.max_per_wave}", "move some to another wave")
            for j, system in enumerate(wave.systems):
                if system.code in placed:
                    first = placed[system.code]
                    self.report(("waves", i, "systems", j, "code"), f"system {system.code} is already in wave "
                                f"{first[0]}" + self.where(("waves", first[1], "systems", first[2], "code")),
                                "keep it in one wave")
                    continue
                placed[system.code] = (wave.wave, i, j)
                self._system(("waves", i, "systems", j), system)
            self._window(("waves", i, "window"), wave)
        for i, wave in enumerate(plan.waves):
            for j, system in enumerate(wave.systems):
                for k, dep in enumerate(system.depends_on):
                    path: PathKey = ("waves", i, "systems", j, "depends_on", k)
                    if dep not in self.systems:
                        self._unknown(path, dep)
                    elif dep in placed and placed[dep][0] > wave.wave:
                        self.report(path, f"{system.code} depends on {dep}, which migrates later, in wave "
                                    f"{placed[dep][0]}" + self.where(("waves", placed[dep][1], "systems",
                                                                      placed[dep][2], "code")),
                                    f"move {dep} to wave {wave.wave} or earlier, or {system.code} later")
        return self.problems

    def _unknown(self, path: PathKey, code: str) -> None:
        self.report(path, f"unknown system {code!r}",
                    suggest(code, self.systems) or "the plan may only name the estate's systems")

    def _system(self, path: PathKey, entry: _System) -> None:
        system = self.systems.get(entry.code)
        if system is None:
            self._unknown((*path, "code"), entry.code)
            return
        if system.source is None:
            self.report((*path, "code"), f"system {entry.code} has no source: nothing to migrate",
                        "remove it from the plan, or declare its legacy host under source in the estate")
        if entry.department != system.department:
            self.report((*path, "department"), f"system {entry.code} belongs to department {system.department}, "
                        f"not {entry.department}", f"write department: {system.department}")
        targets = system.placement.node_names(self.estate.primary_nodes())
        if list(entry.targets) != targets:
            self.report((*path, "targets"), f"targets [{', '.join(entry.targets)}] are not the placement of "
                        f"{entry.code}: [{', '.join(targets)}]",
                        "targets come from the estate: change the system's placement there")

    def _window(self, path: PathKey, wave: _Wave) -> None:
        start, end = wave.window.start, wave.window.end
        if start >= end:
            self.report(path, f"wave {wave.wave}'s window ends ({_local(end)}) before it starts ({_local(start)})",
                        "end must be later than start")
            return
        for dept in _departments(wave.systems, self.systems):
            windows_ = self.departments[dept].maintenance
            if not windows_:
                self.report(path, f"department {dept} declares no maintenance windows: its systems cannot be "
                            "planned", f"add maintenance windows to department {dept} in the estate")
            elif not windows.covers(windows.pattern(windows_), start, end):
                self.report(path, f"wave {wave.wave}'s window {_local(start)} - {_local(end)} is outside the "
                            f"maintenance windows of department {dept} ({windows.describe(windows_)}, "
                            "Asia/Shanghai)", "move the window inside one of them")


def _departments(entries: Iterable[_System], systems: dict[str, System]) -> list[str]:
    """The estate departments of a wave's known systems, sorted."""
    return sorted({systems[e.code].department for e in entries if e.code in systems})


def _local(moment: datetime) -> str:
    return moment.astimezone(windows.SHANGHAI).strftime("%a %Y-%m-%d %H:%M")
