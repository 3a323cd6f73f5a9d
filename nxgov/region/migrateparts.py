"""The migration's share of the combined plan: for each system that is due (its wave's maintenance window is
open now, or the operator named it), the lifecycle steps still to take up to ``cut-over``, each run as
``nxgov migrate <verb>`` runs it. Finalizing stays the operator's decision (``nxgov migrate finalize``): it
ends the way back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from nxgov.errors import InputError, NxgovError
from nxgov.estate.model import System
from nxgov.migrate import lifecycle
from nxgov.migrate.assessment import Assessment
from nxgov.migrate.lifecycle import State
from nxgov.region.cloudparts import SHARED
from nxgov.region.context import Region
from nxgov.region.group import GroupPlan, PartResult
from nxgov.region.parts import Deferred, Part, fingerprint
from nxgov.runner import AuditHook
from nxgov.state import StateStore

VERBS = ("replicate", "test", "cutover")
CLOUD_SHARED = f"cloud:{SHARED}"
STILL_TO_DO: dict[State | None, tuple[str, ...]] = {
    None: ("assess", *VERBS),
    State.ASSESSED: VERBS,
    State.REPLICATING: VERBS,
    State.READY_FOR_TEST: ("test", "cutover"),
    State.TESTING: ("test", "cutover"),
    State.READY_FOR_CUTOVER: ("cutover",),
    State.CUTTING_OVER: ("cutover",),
}
"""The steps from each state to ``cut-over`` (a verb re-run in its own in-progress state resumes it)."""


def plan(region: Region, named: Sequence[str], cloud_parts: set[str]) -> GroupPlan:
    """``named``: the systems to migrate now whatever their window (empty: the systems whose wave is open now)."""
    from nxgov.migrate.assessment import load_assessments
    from nxgov.migrate.lifecycle import current_states

    with StateStore.open(region.state) as store:
        assessments = load_assessments(store)
        states = current_states(store)
    group = GroupPlan()
    due = _named(region, named) if named else _open_waves(region, assessments, group)
    read = {}
    for system in due:
        current = states.get(system.code)
        state = current.state if current else (State.ASSESSED if system.code in assessments else None)
        read[system.code] = [state.value if state else None, assessments[system.code].assessed_at
                             if system.code in assessments else None]
        if state is State.ROLLED_BACK and not named:
            group.deferred.append(Deferred(key=f"replicate:{system.code}", reason="rolled back: a new attempt is "
                                           f"the operator's call (nxgov apply --migrate {system.code})"))
            continue
        steps = STILL_TO_DO.get(state, VERBS if state is State.ROLLED_BACK else ())
        cloud = [key for key in (CLOUD_SHARED, f"cloud:{system.department}") if key in cloud_parts]
        previous: list[str] = []
        for step in steps:
            key = f"{step}:{system.code}"
            if step == "assess":
                needs: list[str] = []
            elif previous in ([], [f"assess:{system.code}"]):
                needs = [*previous, *cloud]  # the first step onto the targets needs their projects and networks
            else:
                needs = previous
            group.parts.append(Part(key=key, stage=step, needs=needs, summary=_summary(step, system, state),
                                    detail={"system": system.code, "state": state.value if state else None}))
            previous = [key]
    group.read["migration"] = fingerprint(read)
    return group


_WHAT = {"assess": "read the legacy host {host}", "replicate": "copy the data paths onto the targets",
         "test": "start it on the targets and check its health (the source keeps serving)",
         "cutover": "stop the source, copy the last changes, start the targets, switch the service record"}


def _summary(step: str, system: System, state: State | None) -> str:
    text = _WHAT[step].format(host=system.source.host if system.source else "-")
    return f"{text} (resumed: {state.value})" if state is not None and state is lifecycle.RESUMES.get(step) else text


def _named(region: Region, named: Sequence[str]) -> list[System]:
    from nxgov.migrate.assess import select_systems

    systems = select_systems(region.loaded, named)
    lacking = [s.code for s in systems if s.source is None]
    if lacking:
        raise InputError(f"--migrate {lacking[0]}: the system has no source (legacy host), so there is nothing to "
                         "migrate", "name systems that have source: in the estate")
    return systems


def _open_waves(region: Region, assessments: Mapping[str, Assessment], group: GroupPlan) -> list[System]:
    from nxgov.migrate.plan import make_plan

    estate = region.loaded.estate
    now = region.now
    waves = make_plan(estate, assessments, start=now, created=now.isoformat()).waves
    by_code = {s.code: s for s in estate.systems}
    due = []
    for wave in waves:
        is_open = wave.start <= now < wave.end
        for planned in wave.systems:
            if is_open:
                due.append(by_code[planned.code])
            else:
                group.deferred.append(Deferred(key=f"migrate:{planned.code}", reason=f"wave {wave.wave}'s window "
                                               f"opens {_local(wave.start)}"))
    return due


def _local(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M (Asia/Shanghai)")


def run_assess(region: Region, parts: list[Part]) -> list[PartResult]:
    from nxgov.migrate.assess import assess_all, host_targets, select_systems
    from nxgov.migrate.assessment import Assessment, save_assessment

    estate = region.loaded.estate
    systems = select_systems(region.loaded, [p.subject for p in parts])
    result = assess_all(host_targets(estate, systems), estate, region.session.known_hosts, workers=region.workers,
                        hooks=[AuditHook(region.audit_log, "migrate assess")])
    out = []
    with StateStore.open(region.state) as store:
        for done in result.results:
            if isinstance(done.data, Assessment):
                save_assessment(store, done.data)
                out.append(PartResult(f"assess:{done.name}", "changed", f"assessed {done.data.host}"))
            else:
                out.append(PartResult(f"assess:{done.name}", "failed", done.error or "failed"))
    return out


def run_verb(region: Region, verb: str, parts: list[Part]) -> list[PartResult]:
    """``nxgov migrate <verb>`` for the systems of ``parts``: each prepared on its own (one that lacks something
    fails alone), then run together on ``region.workers`` systems at once."""
    from nxgov.migrate.steps import StepReport, execute, prepare, select

    jobs, out = [], []
    for part in parts:
        try:
            jobs += prepare(region.loaded, select(region.loaded, [part.subject]), verb)
        except NxgovError as error:
            out.append(PartResult(part.key, "failed", f"{error.message} ({error.hint})" if error.hint
                                  else error.message))
    if not jobs:
        return out
    result = execute(jobs, store_path=region.state, runs_dir=region.runs_dir, audit_log=region.audit_log,
                     known_hosts=region.session.known_hosts, workers=region.workers,
                     hooks=[AuditHook(region.audit_log, f"migrate {verb}")])
    for done in result.results:
        report = done.data if isinstance(done.data, StepReport) else None
        if report is None:
            out.append(PartResult(f"{verb}:{done.name}", "failed", done.error or "failed"))
        else:
            out.append(PartResult(f"{verb}:{done.name}", "changed", f"now {report.state} (run #{report.run})",
                                  data={"run": report.run, "artifacts": report.artifacts}))
    return out
