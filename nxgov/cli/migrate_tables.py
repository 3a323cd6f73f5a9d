"""Tables for ``nxgov migrate plan``: the waves, the warnings, what is not planned."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table

from nxgov.cli.output import console, escape
from nxgov.migrate.plan import MigrationPlan
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
