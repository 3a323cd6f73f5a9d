"""The HTTP layer under openstacksdk: retries with backoff and jitter, timeouts, and an API-call counter.

keystoneauth already retries (``status_code_retries``, ``retriable_status_codes``, ``connect_retries``)
but with a fixed doubling and no jitter, honours ``Retry-After`` only as whole seconds, and retries
429 and 503 only. Rather than patch that, nxgov mounts :class:`RetryingAdapter` on the requests
session keystoneauth uses, so every request of every service (Keystone included) goes through it:

- 429 and 503 are retried for every method: the service refused the request before acting on it.
- 500, 502 and 504 are retried only for idempotent methods (GET, HEAD, PUT, DELETE): a POST that
  failed that way may have been carried out, and the next apply finds it by name instead.
- Connection failures are retried for idempotent methods, and for every method when the connection
  was never made (refused, timed out connecting).
- The delay is ``Retry-After`` (seconds or an HTTP date, capped) when the answer has one, else
  "full jitter" exponential backoff: uniform(0, min(cap, base * 2**attempt)).

Every attempt is counted in :class:`CallStats` (per node), which is how the API calls of a plan are
reported.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

ALWAYS_RETRIED = frozenset({429, 503})
RETRIED_WHEN_IDEMPOTENT = frozenset({500, 502, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``timeout`` is (connect, read) seconds for one attempt."""

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    timeout: tuple[float, float] = (5.0, 120.0)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential delay before retry number ``attempt`` (1-based)."""
        return random.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** attempt))

    def retry_after(self, header: str | None) -> float | None:
        """The delay a ``Retry-After`` header asks for (seconds or an HTTP date), capped; None when absent."""
        if not header:
            return None
        try:
            seconds = float(header)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(header).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self.max_retry_after)


@dataclass
class CallStats:
    """API calls made through one node's connections: attempts, retries, and calls per service port."""

    calls: int = 0
    retries: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int | None, retried: bool) -> None:
        with self._lock:
            self.calls += 1
            self.retries += int(retried)
            if status is not None:
                self.by_status[status] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "retries": self.retries,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())}}


class RetryingAdapter(HTTPAdapter):
    """A requests transport adapter that retries, applies default timeouts and counts every attempt."""

    def __init__(self, policy: RetryPolicy, stats: CallStats) -> None:
        super().__init__(pool_connections=4, pool_maxsize=32)
        self.policy = policy
        self.stats = stats

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        method = (request.method or "GET").upper()
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.policy.attempts
            try:
                response = super().send(request, stream=stream, timeout=timeout or self.policy.timeout,
                                        verify=verify, cert=cert, proxies=proxies)
            except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout) as error:
                retry = not last and (method in IDEMPOTENT or _never_sent(error))
                self.stats.count(None, retry)
                if not retry:
                    raise
                pause = self.policy.backoff(attempt)
                log.info("%s %s: %s; retrying in %.1f s (attempt %d of %d)", method, request.url,
                         type(error).__name__, pause, attempt + 1, self.policy.attempts)
                time.sleep(pause)
                continue
            status = response.status_code
            log.debug("%s %s -> %d", method, request.url, status)
            retry = not last and (status in ALWAYS_RETRIED or (status in RETRIED_WHEN_IDEMPOTENT
                                                               and method in IDEMPOTENT))
            self.stats.count(status, retry)
            if not retry:
                return response
            delay = self.policy.retry_after(response.headers.get("Retry-After"))
            response.close()
            pause = self.policy.backoff(attempt) if delay is None else delay
            log.info("%s %s answered %d; retrying in %.1f s (attempt %d of %d)", method, request.url, status, pause,
                     attempt + 1, self.policy.attempts)
            time.sleep(pause)


def _never_sent(error: Exception) -> bool:
    """True when the request never reached the service (so retrying a POST cannot repeat an action)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    return any(marker in str(error) for marker in ("Connection refused", "NewConnectionError"))


def install(session: requests.Session, policy: RetryPolicy, stats: CallStats) -> None:
    """Mount the retrying adapter on a requests session for http and https."""
    adapter = RetryingAdapter(policy, stats)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
