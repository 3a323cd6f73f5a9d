"""The metric families of one scrape, built fresh each time from the sources' snapshots.

Several sources add samples to the same family (every cloud node adds its ``nxgov_cloud_servers``), and an
exposition must carry each family once: :class:`Samples` gathers them by name, with their HELP and type given by
the first sample, and checks that every sample of a family has the same label names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric


class Samples:
    """Samples added by name; :meth:`families` yields one metric family per name, in the order first added."""

    def __init__(self) -> None:
        self._families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        self._labels: dict[str, tuple[str, ...]] = {}

    def gauge(self, name: str, help_text: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        self._add(name, help_text, value, labels or {}, counter=False)

    def counter(self, name: str, help_text: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        """A counter; ``name`` ends in ``_total`` (as exposed)."""
        if not name.endswith("_total"):
            raise ValueError(f"counter {name} must end in _total")
        self._add(name, help_text, value, labels or {}, counter=True)

    def _add(self, name: str, help_text: str, value: float, labels: Mapping[str, str], counter: bool) -> None:
        names = tuple(labels)
        family = self._families.get(name)
        if family is None:
            family = (CounterMetricFamily(name, help_text, labels=names) if counter
                      else GaugeMetricFamily(name, help_text, labels=names))
            self._families[name] = family
            self._labels[name] = names
        elif self._labels[name] != names:
            raise ValueError(f"{name}: labels {names} where the family has {self._labels[name]}")
        family.add_metric([labels[label] for label in names], value)

    def families(self) -> Iterator[Metric]:
        yield from self._families.values()
