"""The cache: each source read in its own background thread every ``interval`` seconds, the last good snapshot kept.

A failed read leaves the last good snapshot in place (its age grows, and is exported) and marks the source down
until a read succeeds again. Scrapes only look at what :meth:`Refresher.cached` returns, under a lock: they never
wait for a read.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from nxgov.errors import NxgovError
from nxgov.monitor.source import Snapshot, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """One read of a source: when it ended (Unix time), how long it took, its API calls, and why it failed."""

    ended: float
    seconds: float
    api_calls: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Cached:
    """What a scrape sees of a source: the last good snapshot and when it was read, and the last attempt."""

    source: Source
    snapshot: Snapshot | None
    read_at: float | None
    last: Attempt | None


class Refresher:
    """Reads ``source`` every ``interval`` seconds in a daemon thread (:meth:`start`), or once (:meth:`refresh`)."""

    def __init__(self, source: Source, interval: float) -> None:
        self.source = source
        self.interval = interval
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._read_at: float | None = None
        self._last: Attempt | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> Attempt:
        """Read the source now and keep what it gave."""
        calls = self.source.api_calls()
        started = time.monotonic()
        snapshot: Snapshot | None = None
        try:
            snapshot = self.source.read()
            error = None
        except NxgovError as failure:
            error = failure.message
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
        attempt = Attempt(time.time(), time.monotonic() - started, self.source.api_calls() - calls, error)
        with self._lock:
            was_ok = self._last is None or self._last.ok
            self._last = attempt
            if snapshot is not None:
                self._snapshot, self._read_at = snapshot, attempt.ended
        if error is not None and was_ok:
            log.warning("%s cannot be read: %s", self.source.key, error)
        elif error is None and not was_ok:
            log.warning("%s can be read again", self.source.key)
        return attempt

    def cached(self) -> Cached:
        with self._lock:
            return Cached(self.source, self._snapshot, self._read_at, self._last)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"nxgov-monitor {self.source.key}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.refresh()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
