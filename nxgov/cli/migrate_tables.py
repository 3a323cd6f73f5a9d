"""Tables for ``nxgov migrate plan`` (the waves, the warnings, what is not planned), ``nxgov migrate status`` and
``nxgov migrate register``."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table

from nxgov.cli.output import console, escape
from nxgov.migrate.plan import MigrationPlan
from nxgov.migrate.register import MigrationRegister
from nxgov.migrate.status import AT_RISK_DAYS, ZOMBIE_IDLE_DAYS, MigrationStatus, Tally
from nxgov.migrate.windows import SHANGHAI

SHOWN_WARNINGS = 20
"""Warnings listed without -v."""


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%a %Y-%m-%d %H:%M")


def render_plan(plan: MigrationPlan, everything: bool) -> None:
    waves = Table(title=f"migration plan of {escape(plan.estate)}: {len(plan.waves)} waves of at most "
                  f"{plan.max_per_wave} systems (windows in Asia/Shanghai time)", title_justify="left")
    for column in ("wave", "opens", "closes", "departments", "systems", "warnings"):
        waves.add_column(column, justify="right" if column in ("wave", "warnings") else "left")
    for wave in plan.waves:
        departments = sorted({s.department for s in wave.systems})
        waves.add_row(str(wave.wave), _local(wave.start), _local(wave.end), ", ".join(departments),
                      ", ".join(s.code for s in wave.systems), str(sum(len(s.warnings) for s in wave.systems)))
    console.print(waves)
    rows = [(w.wave, s.code, text) for w in plan.waves for s in w.systems for text in s.warnings]
    if rows:
        shown = rows if everything else rows[:SHOWN_WARNINGS]
        table = Table(title="warnings", title_justify="left")
        for column in ("wave", "system", "warning"):
            table.add_column(column)
        for wave_number, code, text in shown:
            table.add_row(str(wave_number), code, escape(text))
        console.print(table)
        if len(shown) < len(rows):
            console.print(f"... and {len(rows) - len(shown):,} more warnings (-v lists them all; -o json for CI)")
    if plan.not_planned:
        table = Table(title="not planned", title_justify="left")
        for column in ("system", "department", "why"):
            table.add_column(column)
        for item in plan.not_planned:
            table.add_row(item.code, item.department, escape(item.reason))
        console.print(table)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


def _states(tally: Tally) -> str:
    return ", ".join(f"{state} {count}" for state, count in tally.by_state.items() if count) or "-"


def _ratio(tally: Tally) -> str:
    return f"{tally.on_cloud}/{tally.to_migrate} ({tally.ratio:.0%})" if tally.ratio is not None else "-"


def render_status(status: MigrationStatus) -> None:
    scope = f"department {status.department}" if status.department else f"estate {status.estate}"
    table = Table(title=f"migration status of {escape(scope)}", title_justify="left")
    for column in ("department", "deadline", "systems", "by state", "上云率"):
        table.add_column(column, justify="right" if column == "systems" else "left")
    for item in status.departments:
        table.add_row(item.department, item.deadline.isoformat() if item.deadline else "-", str(item.tally.systems),
                      _states(item.tally), _ratio(item.tally))
    console.print(table)
    if status.waves:
        waves = Table(title="per wave of the plan (windows in Asia/Shanghai time)", title_justify="left")
        for column in ("wave", "opens", "systems", "by state", "上云率"):
            waves.add_column(column, justify="right" if column in ("wave", "systems") else "left")
        for wave in status.waves:
            waves.add_row(str(wave.wave), _local(wave.start), str(wave.tally.systems), _states(wave.tally),
                          _ratio(wave.tally))
        console.print(waves)
    if status.at_risk:
        risk = Table(title=f"at risk of missing the deadline (not on the cloud, deadline within {AT_RISK_DAYS} days "
                     "or past)", title_justify="left")
        for column in ("system", "department", "state", "deadline", "days left"):
            risk.add_column(column, justify="right" if column == "days left" else "left")
        for late in status.at_risk:
            risk.add_row(late.system, late.department, late.state, late.deadline.isoformat(),
                         f"[bold red]{late.days_left}[/]" if late.days_left < 0 else str(late.days_left))
        console.print(risk)
    if status.zombies:
        zombies = Table(title=f"zombie candidates (idle {ZOMBIE_IDLE_DAYS} days before their assessment: retire "
                        "rather than migrate)", title_justify="left")
        for column in ("system", "department", "assessed", "evidence"):
            zombies.add_column(column)
        for zombie in status.zombies:
            zombies.add_row(zombie.system, zombie.department, zombie.assessed_at, escape("; ".join(zombie.why)))
        console.print(zombies)
    console.print(f"上云率 {_ratio(status.total)}: {status.total.on_cloud} of {status.total.to_migrate} systems to "
                  f"migrate are on the cloud (cut over or finalized); {len(status.at_risk)} at risk, "
                  f"{len(status.zombies)} zombie candidates")


def render_register(register: MigrationRegister) -> None:
    since = register.since.isoformat(timespec="minutes") if register.since else "the start"
    until = register.until.isoformat(timespec="minutes") if register.until else "now"
    table = Table(title=f"systems created, changed and retired in {escape(register.estate)}, from {since} to "
                  f"{until} (dates in Asia/Shanghai time)", title_justify="left")
    for column in ("date", "system", "department", "change", "from", "to", "operator"):
        table.add_column(column)
    for e in register.entries:
        table.add_row(e.date, e.system, e.department or "-", e.change.value, e.from_state.value, e.to_state.value,
                      escape(e.operator))
    console.print(table)
    counts = register.counts()
    console.print(f"{counts['created']} created, {counts['changed']} changed, {counts['retired']} retired "
                  "(--format csv for filing)")
