"""What a metric family is made of: sources read in the background, each read giving a snapshot.

A :class:`Source` is the unit of collection and of failure: one cloud node, or the state store's migration data.
Its :meth:`Source.read` does the expensive work (API calls, SQL, hashing the audit chain) and returns a
:class:`Snapshot`, which only turns what was read into samples (at every scrape, so it must be cheap).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from nxgov.estate.model import Estate
from nxgov.monitor.samples import Samples
from nxgov.state import StateStore


class Snapshot(Protocol):
    """What one read of a source found; adds its samples to a scrape."""

    def add_to(self, out: Samples) -> None: ...


class Source(abc.ABC):
    """One thing the exporter reads in the background; ``family`` and ``node`` label its ``nxgov_up``."""

    family: str
    node: str = ""

    @abc.abstractmethod
    def read(self) -> Snapshot:
        """Read now (blocking). Raises when the source cannot be read; the message is shown to the operator."""

    def preflight(self) -> None:
        """Refuse at start (an :class:`~nxgov.errors.InputError`, exit 2) what no later read can succeed with,
        rather than serve a source that is down for good; a transient failure is left to the reads. Nothing by
        default."""
        return None

    def api_calls(self) -> int:
        """API calls made so far (every HTTP attempt); 0 for a source that makes none."""
        return 0

    @property
    def key(self) -> str:
        return f"{self.family}/{self.node}" if self.node else self.family


@dataclass(frozen=True)
class MonitorConfig:
    """What the sources are made from: the estate and where nxgov keeps its state and audit log."""

    estate: Estate
    estate_dir: Path
    """The estate's directory (a node's ``clouds_yaml`` is relative to it)."""
    state: Path
    audit_log: Path
    timeout: float = 30.0
    """Seconds to wait for one API answer."""


class StoreSource(Source):
    """A source that reads the estate's records in nxgov's state store (migration, extranet, backup)."""

    def __init__(self, config: MonitorConfig) -> None:
        self.estate: Estate = config.estate
        self.state = config.state

    def preflight(self) -> None:
        """A state store that is not a usable store (damaged, newer, a directory) is bad input; a locked or
        read-only one is fine."""
        StateStore.open(self.state).close()

