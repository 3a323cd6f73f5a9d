"""The exporter's collector: at each scrape, fresh metric families from what the refreshers cached, plus the
exporter's own series per source (``nxgov_up``, the last read's duration and API calls, the cache's age)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from nxgov import __version__
from nxgov.monitor.refresh import Cached, Refresher
from nxgov.monitor.samples import Samples


class MonitorCollector(Collector):
    """What the refreshers (each reading every ``interval`` seconds) have cached, as fresh families per scrape."""

    def __init__(self, refreshers: Sequence[Refresher], interval: float) -> None:
        self.refreshers = refreshers
        self.interval = interval

    def collect(self) -> Iterator[Metric]:
        return samples([r.cached() for r in self.refreshers], self.interval, time.time()).families()


def samples(cached: Sequence[Cached], interval: float, now: float) -> Samples:
    """One scrape's samples: the sources' own series, then each cached snapshot's."""
    out = Samples()
    out.gauge("nxgov_build_info", "The nxgov exporter's version", 1.0, {"version": __version__})
    out.gauge("nxgov_refresh_interval_seconds", "How often every source is read in the background (--refresh)",
              interval)
    for entry in cached:
        labels = {"source": entry.source.family, "node": entry.source.node}
        if entry.last is not None:
            out.gauge("nxgov_up", "1 when the source's last background read succeeded, 0 when it failed (absent "
                      "before its first read ends)", float(entry.last.ok), labels)
            out.gauge("nxgov_collection_duration_seconds", "How long the source's last background read took",
                      entry.last.seconds, labels)
            out.gauge("nxgov_collection_api_calls", "HTTP requests the source's last background read made "
                      "(retries included)", entry.last.api_calls, labels)
        if entry.read_at is not None:
            out.gauge("nxgov_cache_age_seconds", "Age of the data served for the source: seconds since its last "
                      "successful background read (its metrics are that old; they are read every "
                      "nxgov_refresh_interval_seconds, not at scrape time)", max(0.0, now - entry.read_at), labels)
    for entry in cached:
        if entry.snapshot is not None:
            entry.snapshot.add_to(out)
    return out
