"""Rich output of ``nxgov cloud``: the plan grouped by node and department, apply summary, drift."""

from __future__ import annotations

from itertools import groupby

from rich.table import Table

from nxgov.cli.output import console, escape
from nxgov.cloud.apply import ApplyResult
from nxgov.cloud.drift import Drift
from nxgov.cloud.plan import Plan

_COLOUR = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}


def render_plan(plan: Plan) -> None:
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if plan.empty:
        console.print(f"[green]✓[/] no changes: nodes {', '.join(plan.nodes)} match estate {plan.estate}")
    ordered = sorted(plan.changes, key=lambda c: (c.resource.node, c.resource.department, c.wave))
    for (node, dept), items in groupby(ordered, key=lambda c: (c.resource.node, c.resource.department)):
        owner = f"department {dept}" if dept else "shared by every department (keypairs of nxgov's user)"
        table = Table(title=f"node {node} · {owner}", title_justify="left")
        for column in ("action", "kind", "name", "reason"):
            table.add_column(column)
        for c in items:
            colour = _COLOUR[c.action]
            table.add_row(f"[{colour}]{c.action}[/]", c.resource.kind, escape(c.resource.name), escape(c.reason))
        console.print(table)
    counts = plan.counts()
    console.print("plan: " + ", ".join(f"{n} to {a}" for a, n in counts.items()))
    if plan.unpruned:
        console.print(f"[dim]{plan.unpruned} resource(s) made by nxgov are no longer in the estate; "
                      "--prune deletes them[/]")


def render_apply(result: ApplyResult, seconds: float) -> None:
    for key, error in {**result.failed, **result.skipped}.items():
        console.print(f"[red]✗[/] {escape(key)}: {escape(error)}", soft_wrap=True)
    state = "[green]done[/]" if result.ok else "[red]incomplete[/]"
    console.print(f"apply {state} in {seconds:.1f} s: {len(result.done)} changed, {len(result.failed)} failed, "
                  f"{len(result.skipped)} skipped" + ("" if result.ok else "; apply again once the causes are fixed"))


def render_drift(drift: Drift) -> None:
    if not drift.found:
        console.print("[green]✓[/] no drift")
        return
    for title, items in (("orphans (not in the estate)", drift.orphans), ("changed", drift.changed),
                         ("missing", drift.missing)):
        if not items:
            continue
        table = Table(title=title, title_justify="left")
        for column in ("node", "department", "kind", "name", "detail"):
            table.add_column(column)
        for i in items:
            table.add_row(i.node, i.department, i.kind, escape(i.name), escape(i.detail))
        console.print(table)
