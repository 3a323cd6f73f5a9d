"""``nxgov monitor``: the Prometheus exporter (serve) and one scrape printed for people (check)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nxgov.cli.context import settings
from nxgov.cli.output import console, emit_json, err_console, escape
from nxgov.errors import ExitCode, InputError

if TYPE_CHECKING:
    from nxgov.monitor.exporter import CheckResult
    from nxgov.monitor.source import MonitorConfig

app = typer.Typer(help="Monitoring: a Prometheus exporter for the cloud nodes, the migration, the extranet and the "
                       "audit log.", no_args_is_help=True)

Only = Annotated[list[str] | None, typer.Option(
    "--only", help="Only this metric family (cloud, migration, extranet, audit); repeatable")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for one API answer")]
SHOWN_SAMPLES = 60
"""Samples listed by ``check`` without -v."""


def _config(ctx: typer.Context, timeout: float) -> MonitorConfig:
    from nxgov.estate import load_estate
    from nxgov.monitor.source import MonitorConfig

    if not 0 < timeout <= 600:
        raise InputError(f"--timeout {timeout:g} is out of range", "give seconds between 1 and 600")
    options = settings(ctx)
    loaded = load_estate(options.estate)
    return MonitorConfig(loaded.estate, loaded.path if loaded.path.is_dir() else loaded.path.parent,
                         options.state, options.audit_log, timeout)


@app.command()
def serve(ctx: typer.Context,
          listen: Annotated[str, typer.Option("--listen", help="ADDRESS:PORT to serve /metrics and /healthz on "
                                                               "(port 0: any free port)")] = "127.0.0.1:8790",
          refresh: Annotated[float, typer.Option("--refresh", help="Seconds between background reads of each "
                                                                   "source")] = 60.0,
          only: Only = None, timeout: Timeout = 30.0,
          tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="Serve HTTPS with this PEM "
                                                                           "certificate (with --tls-key)")] = None,
          tls_key: Annotated[Path | None, typer.Option("--tls-key", help="The certificate's PEM private key")] = None,
          ) -> None:
    """Serve the estate's metrics for Prometheus. Each source (every cloud node, the migration, the extranet, the
    audit log) is read in the background every --refresh seconds; a scrape answers from that cache, whose age is
    exported. Runs until interrupted."""
    from nxgov.monitor.exporter import Exporter
    from nxgov.monitor.server import Listen, bind, parse_listen
    from nxgov.monitor.server import app as wsgi_app

    address = parse_listen(listen)
    if not 1 <= refresh <= 86400:
        raise InputError(f"--refresh {refresh:g} is out of range", "give seconds between 1 and 86400 (a day)")
    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-cert and --tls-key go together", "give both, or neither for plain HTTP")
    config = _config(ctx, timeout)
    exporter = Exporter(config, refresh, only or ())
    server = bind(address, wsgi_app(exporter.registry, exporter.refreshers),
                  (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None)
    exporter.start()
    bound = Listen(address.host, server.server_port)
    scheme = "https" if tls_cert is not None else "http"
    err_console.print(f"serving {len(exporter.refreshers)} sources on {bound.url(scheme)}/metrics (refresh every "
                      f"{refresh:g} s); Ctrl-C stops", soft_wrap=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        exporter.stop()
        server.server_close()


@app.command()
def check(ctx: typer.Context, only: Only = None, timeout: Timeout = 30.0) -> None:
    """Read every source once and print what a scrape would give: each source's state, then the metrics. Exit 1
    when a source cannot be read."""
    from nxgov.monitor.exporter import check as run_check

    options = settings(ctx)
    result = run_check(_config(ctx, timeout), only or ())
    if options.json:
        emit_json(result.to_document())
    else:
        _render(result, options.verbose > 0)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


def _render(result: CheckResult, everything: bool) -> None:
    from rich.table import Table

    table = Table(title="sources", title_justify="left")
    for column in ("source", "node", "up", "seconds", "API calls", "error"):
        table.add_column(column, justify="right" if column in ("seconds", "API calls") else "left")
    for s in result.sources:
        a = s.attempt
        table.add_row(s.source.family, s.source.node or "-", "[green]up[/]" if a.ok else "[bold red]down[/]",
                      f"{a.seconds:.2f}", str(a.api_calls), escape(a.error or ""))
    console.print(table)
    rows = [(s.name, ", ".join(f"{k}={v}" for k, v in s.labels.items() if v), s.value)
            for f in result.families if f.name not in _SELF
            for s in f.samples]
    shown = rows if everything else [r for r in rows if r[2]][:SHOWN_SAMPLES]
    metrics = Table(title="metrics" + ("" if everything else " (non-zero)"), title_justify="left")
    for column in ("metric", "labels", "value"):
        metrics.add_column(column, justify="right" if column == "value" else "left", overflow="fold")
    for name, labels, value in shown:
        metrics.add_row(name, escape(labels), _value(name, value))
    console.print(metrics)
    hidden = sum(1 for r in rows if r[2]) - len(shown) if not everything else 0
    if hidden > 0:
        console.print(f"... and {hidden:,} more (-v lists them all, zeros included; -o json for CI)")


_SELF = frozenset({"nxgov_up", "nxgov_collection_duration_seconds", "nxgov_collection_api_calls",
                   "nxgov_build_info", "nxgov_refresh_interval_seconds", "nxgov_cache_age_seconds"})
"""The exporter's own families: shown in the sources table instead."""


def _value(name: str, value: float) -> str:
    """A sample's value for people: a time as UTC, a whole number as one, the rest to four figures."""
    from datetime import UTC, datetime

    value = float(value)
    if name.endswith("_timestamp_seconds"):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{int(value):,}" if value.is_integer() else f"{value:.4g}"
