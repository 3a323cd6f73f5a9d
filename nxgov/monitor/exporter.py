"""The exporter as the CLI runs it: sources made from the estate, a refresher each, the collector registered, and
:func:`check`: one synchronous read of every source and one scrape (``nxgov monitor check``)."""

from __future__ import annotations

import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry

from nxgov.monitor.collector import MonitorCollector, samples
from nxgov.monitor.families import make_sources
from nxgov.monitor.refresh import Attempt, Refresher
from nxgov.monitor.source import MonitorConfig, Source

SCHEMA = "nxgov.monitor.check/1"


class Exporter:
    """The sources of ``config`` (of the families in ``only``), each read every ``interval`` seconds."""

    def __init__(self, config: MonitorConfig, interval: float, only: Collection[str] = ()) -> None:
        sources = make_sources(config, only)
        for source in sources:
            source.preflight()
        self.refreshers = [Refresher(source, interval) for source in sources]
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(MonitorCollector(self.refreshers, interval))

    def start(self) -> None:
        for refresher in self.refreshers:
            refresher.start()

    def stop(self) -> None:
        for refresher in self.refreshers:
            refresher.stop()


@dataclass(frozen=True)
class SourceResult:
    source: Source
    attempt: Attempt

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source.family, "node": self.source.node or None, "up": self.attempt.ok,
                "seconds": round(self.attempt.seconds, 3), "api_calls": self.attempt.api_calls,
                "error": self.attempt.error}


@dataclass(frozen=True)
class CheckResult:
    sources: tuple[SourceResult, ...]
    families: tuple[Metric, ...]

    @property
    def ok(self) -> bool:
        return all(s.attempt.ok for s in self.sources)

    def to_document(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "ok": self.ok, "sources": [s.as_dict() for s in self.sources],
                "metrics": [{"name": f.name, "type": f.type, "help": f.documentation,
                             "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
                            for f in self.families]}


def check(config: MonitorConfig, only: Collection[str] = ()) -> CheckResult:
    """Read every source once (in parallel) and scrape what they gave."""
    exporter = Exporter(config, 0.0, only)
    refreshers = exporter.refreshers
    with ThreadPoolExecutor(max_workers=max(1, len(refreshers))) as pool:
        attempts = list(pool.map(Refresher.refresh, refreshers))
    scraped = samples([r.cached() for r in refreshers], 0.0, time.time())
    return CheckResult(tuple(SourceResult(r.source, a) for r, a in zip(refreshers, attempts, strict=True)),
                       tuple(scraped.families()))
