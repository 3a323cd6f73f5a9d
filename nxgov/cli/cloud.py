"""``nxgov cloud``: plan, apply and drift of the departments' projects, networks and servers on the nodes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nxgov.cli.context import settings
from nxgov.cli.output import confirm, console, emit_json, err_console
from nxgov.errors import ExitCode, InputError

if TYPE_CHECKING:
    from nxgov.cloud.connect import NodeClient
    from nxgov.cloud.plan import Plan
    from nxgov.cloud.planner import Planned
    from nxgov.estate.model import Estate

app = typer.Typer(help="Provision departments on the cloud nodes: plan, apply, drift (Terraform-style).",
                  no_args_is_help=True)

Prune = Annotated[bool, typer.Option("--prune", help="Also delete what nxgov made that the estate no longer declares")]
Wait = Annotated[float, typer.Option("--wait", help="Seconds to wait for a server or volume to settle")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for one API answer")]


def _connect(ctx: typer.Context, timeout: float = 120.0) -> tuple[Estate, dict[str, NodeClient]]:
    from nxgov.cloud.connect import node_clients
    from nxgov.cloud.planner import managed_nodes
    from nxgov.cloud.transport import RetryPolicy
    from nxgov.estate import load_estate

    loaded = load_estate(settings(ctx).estate)
    estate = loaded.estate
    base = loaded.path if loaded.path.is_dir() else loaded.path.parent
    nodes = {name: estate.clouds[name] for name in managed_nodes(estate)}
    return estate, node_clients(nodes, base, RetryPolicy(timeout=(5.0, timeout)))


def _calls(clients: dict[str, NodeClient]) -> dict[str, Any]:
    return {node: client.stats.as_dict() for node, client in clients.items()}


def _plan(ctx: typer.Context, prune: bool, timeout: float) -> tuple[Planned, dict[str, NodeClient], float]:
    from nxgov.cloud.planner import make_plan

    estate, clients = _connect(ctx, timeout)
    started = time.monotonic()
    planned = make_plan(estate, clients, prune=prune)
    return planned, clients, time.monotonic() - started


@app.command()
def plan(ctx: typer.Context, prune: Prune = False,
         out: Annotated[Path | None, typer.Option("--out", help="Save the plan as JSON, for `apply PLAN`")] = None,
         detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
                                                         help="Exit 3 when there are changes (for CI)")] = False,
         timeout: Timeout = 120.0) -> None:
    """Compare the estate with the nodes and show the changes apply would make. Changes nothing."""
    from nxgov.cli.output import check_writable, write_output

    if out is not None:
        check_writable(out, "--out")
    planned, clients, seconds = _plan(ctx, prune, timeout)
    document = planned.plan.to_json()
    if out is not None:
        write_output(out, json.dumps(document, ensure_ascii=False, indent=2) + "\n", "--out")
    if settings(ctx).json:
        emit_json({**document, "api_calls": _calls(clients), "seconds": round(seconds, 3)})
    else:
        from nxgov.cli.cloud_tables import render_plan

        render_plan(planned.plan)
        total = sum(c.stats.calls for c in clients.values())
        console.print(f"[dim]read {len(clients)} nodes in {seconds:.1f} s with {total} API calls[/]"
                      + (f"; plan saved to {out}" if out else ""))
    if detailed_exitcode and not planned.plan.empty:
        raise typer.Exit(ExitCode.CHANGES)


@app.command()
def apply(ctx: typer.Context,
          plan_file: Annotated[Path | None, typer.Argument(help="A plan saved by `plan --out`; applied exactly, "
                                                                "refused if the nodes changed since")] = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan, change nothing")] = False,
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
          prune: Prune = False,
          workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Changes in flight per node")] = 4,
          wait: Wait = 300.0, timeout: Timeout = 120.0) -> None:
    """Make the nodes match the estate (or apply a saved plan). Exit 1 when some change failed."""
    from nxgov.cli.cloud_tables import render_apply, render_plan

    saved = _load_plan(plan_file) if plan_file is not None else None
    if not dry_run:
        from nxgov.cli.audit_trail import preflight

        preflight(ctx)
    from nxgov.cloud.planner import make_plan

    estate, clients = _connect(ctx, timeout)
    if saved is not None and saved.estate != estate.estate:
        raise InputError(f"{plan_file} was made for the estate {saved.estate!r}, not {estate.estate!r}; nothing was "
                         "changed", "apply it with its own estate (--estate), or make a plan for this one: "
                         "nxgov cloud plan --out PLAN")
    planned = make_plan(estate, clients, prune=saved.prune if saved is not None else prune)
    plan = planned.plan
    if saved is not None:
        if saved.fingerprint != plan.fingerprint:
            raise InputError(f"the nodes changed since {plan_file} was made (state fingerprint "
                             f"{saved.fingerprint[:12]} is now {plan.fingerprint[:12]}); nothing was changed",
                             "run `nxgov cloud plan --out PLAN` again, review it, and apply that")
        plan = saved
    if not settings(ctx).json:
        render_plan(plan)
    if dry_run or plan.empty:
        _finish(ctx, plan, None, clients, dry_run)
        return
    if not confirm(f"apply {len(plan.changes)} change(s)?", yes=yes or saved is not None, json=settings(ctx).json,
                   refusal="apply needs confirmation", hint="pass --yes, or apply a saved plan: apply PLAN.json"):
        err_console.print("nothing changed")
        return
    from nxgov.audit import AuditLog
    from nxgov.cli.progress import ProgressHook, make_progress
    from nxgov.cloud.apply import apply as run_apply

    opts = settings(ctx)
    started = time.monotonic()
    with make_progress(err_console) as progress:
        result = run_apply(plan, clients, planned.actual, audit_log=AuditLog(opts.audit_log, operator=opts.operator),
                           hooks=[ProgressHook(progress)] if not opts.json else [], per_node=workers, wait=wait)
    seconds = time.monotonic() - started
    _finish(ctx, plan, result.as_dict(), clients, False)
    if not settings(ctx).json:
        render_apply(result, seconds)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


def _finish(ctx: typer.Context, plan: Plan, result: dict[str, Any] | None, clients: dict[str, NodeClient],
            dry_run: bool) -> None:
    from nxgov.cli.audit_trail import record

    outcome = "dry-run" if dry_run else ("ok" if result is None else ("changed" if result["ok"] else "failed"))
    record(ctx, "cloud apply", f"cloud/{plan.estate}", outcome,
           {"changes": plan.counts(), "fingerprint": plan.fingerprint, "result": result})
    if settings(ctx).json:
        emit_json({"schema": "nxgov.cloud.apply/1", "dry_run": dry_run, "plan": plan.to_json(),
                   "result": result, "api_calls": _calls(clients)})
    elif dry_run:
        console.print("[dim]dry run: nothing was changed[/]")


def _load_plan(path: Path) -> Plan:
    from nxgov.cloud.plan import SCHEMA, Plan
    from nxgov.savedplans import read_saved

    return read_saved(path, SCHEMA, Plan, "an nxgov cloud plan", "nxgov cloud plan --out")


@app.command()
def drift(ctx: typer.Context, timeout: Timeout = 120.0) -> None:
    """What differs from the estate: orphans (zombie candidates), hand-made changes (quotas too), missing
    resources. Exit 3 when there is drift."""
    from nxgov.cloud import actual as actual_state
    from nxgov.cloud.drift import find

    estate, clients = _connect(ctx, timeout)
    found = find(estate, actual_state.read(clients, estate.estate, {d.code for d in estate.departments}))
    if settings(ctx).json:
        emit_json({**found.to_json(), "api_calls": _calls(clients)})
    else:
        from nxgov.cli.cloud_tables import render_drift

        render_drift(found)
    if found.found:
        raise typer.Exit(ExitCode.CHANGES)
