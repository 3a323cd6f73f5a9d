"""The lab's ``monitoring`` part: nxgov's exporter (``nxgov monitor serve``) for the lab estate and a Prometheus
(Debian's, through :mod:`nxgov.lab.prometheus`) scraping it with the repository's alert rules, both on fixed
loopback ports and recorded in the lab's ledger, so that ``nxgov lab status`` shows them and ``nxgov lab down``
stops them.

The exporter reads what the operator's commands read: the estate, state store and audit log ``lab up`` was given
(``--estate``, ``--state``/``NXGOV_STATE``, ``--audit-log``/``NXGOV_AUDIT_LOG``, else nxgov's defaults) and the
lab's clouds.yaml. They are recorded with its process, and ``nxgov lab env`` exports the state store and audit log
while the part is up, so that commands run after ``eval "$(nxgov lab env)"`` change what the exporter shows.

The part is opt-in (``nxgov lab up --only monitoring``): a plain ``lab up`` does not start it.
"""

from __future__ import annotations

import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nxgov.errors import LabError
from nxgov.lab.ledger import Entry, Ledger, process_alive
from nxgov.lab.netns import ComponentStatus, describe, spawn, terminate, wait_for
from nxgov.lab.prometheus import Prometheus, config
from nxgov.monitor.server import DEFAULT_PORT
from nxgov.paths import project_root

Progress = Callable[[str], None]
COMPONENT = "monitoring"
HOST = "127.0.0.1"
EXPORTER_PORT = DEFAULT_PORT
"""8790, ``nxgov monitor serve``'s own default."""
PROMETHEUS_PORT = 9090
"""Prometheus's usual port."""
REFRESH = 30
"""Seconds between the exporter's background reads of each source."""
SCRAPE_INTERVAL = 15
"""Seconds between Prometheus's scrapes of the exporter (and evaluations of the alert rules)."""
ALERTS = project_root() / "monitoring" / "alerts.yml"
START_TIMEOUT = 60.0
SCRAPE_TIMEOUT = 60.0
"""Seconds to wait for Prometheus's first successful scrape (at most one scrape interval after it is ready)."""
UP_QUERY = 'up{job="nxgov"} == 1'


@dataclass(frozen=True)
class Watched:
    """What the exporter reads: the estate, the state store, the audit log and the clouds.yaml of the lab's nodes."""

    estate: Path
    state: Path
    audit_log: Path
    clouds_yaml: Path

    def info(self) -> dict[str, str]:
        return {"estate": str(self.estate), "state": str(self.state), "audit_log": str(self.audit_log),
                "clouds_yaml": str(self.clouds_yaml)}


class Monitoring:
    """The monitoring part of the lab in ``lab_dir``: its files under ``<lab>/monitoring``."""

    def __init__(self, lab_dir: Path, ledger: Ledger) -> None:
        self.dir = lab_dir / COMPONENT
        self.ledger = ledger

    @property
    def exporter_url(self) -> str:
        return f"http://{HOST}:{EXPORTER_PORT}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{HOST}:{PROMETHEUS_PORT}"

    @property
    def exporter_log(self) -> Path:
        return self.dir / "exporter.log"

    def _prometheus(self) -> Prometheus:
        """The lab's Prometheus: scrapes the exporter every :data:`SCRAPE_INTERVAL` s with the repository's alert
        rules, on :data:`PROMETHEUS_PORT`."""
        server = Prometheus(self.dir / "prometheus", config([f"{HOST}:{EXPORTER_PORT}"], interval=SCRAPE_INTERVAL,
                                                            rule_files=[ALERTS]))
        server.port = PROMETHEUS_PORT
        return server

    # -- lifecycle ----------------------------------------------------------------------------------
    def plan(self, watched: Watched) -> list[str]:
        return [f"monitoring: nxgov monitor serve on {self.exporter_url}/metrics (estate {watched.estate}, state "
                f"{watched.state}, audit log {watched.audit_log}, refresh every {REFRESH} s)",
                f"monitoring: Prometheus on {self.prometheus_url} scraping it every {SCRAPE_INTERVAL} s with {ALERTS}"]

    def up(self, watched: Watched, check_port: Callable[[int, str], None],
           progress: Progress = lambda _m: None) -> list[ComponentStatus]:
        """Start the exporter reading ``watched`` and the Prometheus scraping it, and wait until Prometheus reports
        the target up. Kept when both run and read the same ``watched``; otherwise what is recorded is stopped and
        both start afresh (``check_port(port, what)`` raises when a port is taken)."""
        entries = self.ledger.entries(COMPONENT)
        if self.watched() == watched and self._running(entries):
            return [ComponentStatus(s.component, s.name, s.state, f"already running; {s.detail}")
                    for s in self.status()]
        if entries:
            progress("monitoring: stopping the exporter and Prometheus recorded before")
            self.down()
        check_port(EXPORTER_PORT, "the lab's exporter")
        check_port(PROMETHEUS_PORT, "the lab's Prometheus")
        prometheus = self._prometheus()
        argv = prometheus.prepare(PROMETHEUS_PORT)
        shutil.rmtree(prometheus.directory / "data", ignore_errors=True)  # no series from an earlier up
        progress(f"monitoring: starting the exporter on {self.exporter_url} (state {watched.state}, audit log "
                 f"{watched.audit_log})")
        try:
            exporter = spawn(self.ledger, COMPONENT, "exporter", self._exporter_argv(watched), None,
                             self.exporter_log, url=self.exporter_url, **watched.info())
            wait_for(lambda: _started(exporter, self.exporter_log, lambda: _get(self.exporter_url + "/healthz")
                                      is not None), START_TIMEOUT,
                     f"the exporter to answer {self.exporter_url}/healthz", f"see {self.exporter_log}")
            progress(f"monitoring: starting Prometheus on {self.prometheus_url}")
            server = spawn(self.ledger, COMPONENT, "prometheus", argv, None, prometheus.log, url=self.prometheus_url)
            prometheus.wait(lambda: _started(server, prometheus.log, prometheus.ready), START_TIMEOUT,
                            f"Prometheus to answer {self.prometheus_url} (log {prometheus.log})")
            progress(f"monitoring: waiting for Prometheus's first scrape (every {SCRAPE_INTERVAL} s)")
            self.wait_scraped()
        except BaseException:
            self.down()
            raise
        return self.status()

    def wait_scraped(self, timeout: float = SCRAPE_TIMEOUT) -> float:
        """Wait until the lab's Prometheus reports the exporter's target up (``up{job="nxgov"} == 1``); the seconds
        it took. LabError when the part is not running, or after ``timeout`` seconds."""
        entries = self.ledger.entries(COMPONENT)
        if not self._running(entries):
            raise LabError("the lab's monitoring part is not running", "start it: nxgov lab up --only monitoring")
        prometheus = self._prometheus()

        def scraped() -> bool:
            if not self._running(entries):
                raise LabError("the lab's exporter or Prometheus stopped while waiting for a scrape",
                               f"see {self.exporter_log} and {prometheus.log}")
            return _scraped(prometheus)

        start = time.monotonic()
        prometheus.wait(scraped, timeout, f"Prometheus at {self.prometheus_url} to report the exporter "
                                          f"{self.exporter_url} up ({UP_QUERY}; see {self.prometheus_url}/targets, "
                                          f"{self.exporter_log} and {prometheus.log})")
        return time.monotonic() - start

    def status(self) -> list[ComponentStatus]:
        """The exporter and Prometheus as recorded (empty when the part was never started)."""
        out = []
        for entry in self._processes(self.ledger.entries(COMPONENT)):
            url = str(entry.info.get("url", ""))
            log = self.exporter_log if entry.name == "exporter" else self._prometheus().log
            if entry.pid is None or not process_alive(entry.pid, entry.start_time):
                out.append(ComponentStatus(COMPONENT, entry.name, "stopped", f"process gone (log {log})"))
            elif entry.name == "exporter":
                out.append(self._exporter_status(entry, url))
            else:
                out.append(self._prometheus_status(entry, url))
        return out

    def down(self) -> list[str]:
        """Stop what the part recorded (Prometheus first); works after a partial or failed up."""
        terminate(self.ledger.entries(COMPONENT))
        return [describe(e) for e in self.ledger.release(COMPONENT)]

    def watched(self) -> Watched | None:
        """What the recorded exporter reads, or None when the part was not started."""
        for entry in self._processes(self.ledger.entries(COMPONENT)):
            if entry.name == "exporter":
                info = entry.info
                return Watched(Path(info["estate"]), Path(info["state"]), Path(info["audit_log"]),
                               Path(info["clouds_yaml"]))
        return None

    # -- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _exporter_argv(watched: Watched) -> list[str]:
        """``nxgov monitor serve`` by this Python, the lab's clouds.yaml in its environment (``env`` execs, so the
        recorded PID is the exporter's)."""
        return ["env", f"OS_CLIENT_CONFIG_FILE={watched.clouds_yaml}", sys.executable, "-c",
                "from nxgov.cli.main import run; run()", "--estate", str(watched.estate), "--state",
                str(watched.state), "--audit-log", str(watched.audit_log), "monitor", "serve", "--listen",
                f"{HOST}:{EXPORTER_PORT}", "--refresh", str(REFRESH)]

    @staticmethod
    def _processes(entries: list[Entry]) -> list[Entry]:
        return [e for e in entries if e.kind == "process"]

    def _running(self, entries: list[Entry]) -> bool:
        names = {e.name for e in self._processes(entries)
                 if e.pid is not None and process_alive(e.pid, e.start_time)}
        return names == {"exporter", "prometheus"}

    def _exporter_status(self, entry: Entry, url: str) -> ComponentStatus:
        if _get(url + "/healthz") is None:
            return ComponentStatus(COMPONENT, entry.name, "degraded", f"{url}/healthz does not answer (log "
                                                                      f"{self.exporter_log})")
        return ComponentStatus(COMPONENT, entry.name, "running",
                               f"{url}/metrics; state {entry.info['state']}, audit log {entry.info['audit_log']}")

    def _prometheus_status(self, entry: Entry, url: str) -> ComponentStatus:
        prometheus = self._prometheus()
        if not prometheus.ready():
            return ComponentStatus(COMPONENT, entry.name, "degraded", f"{url} does not answer (log {prometheus.log})")
        if not _scraped(prometheus):
            return ComponentStatus(COMPONENT, entry.name, "degraded",
                                   f"{url}; the exporter's target is not up (see {url}/targets)")
        return ComponentStatus(COMPONENT, entry.name, "running", f"{url}; scraping the exporter, target up")


def _started(entry: Entry, log: Path, answers: Callable[[], bool]) -> bool:
    """``answers()`` for the process of ``entry``; LabError (with its log's last lines) once that process is gone."""
    if entry.pid is None or not process_alive(entry.pid, entry.start_time):
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:]) if log.exists() else ""
        raise LabError(f"the lab's {entry.name} exited while starting (log {log})", tail or None)
    return answers()


def _scraped(prometheus: Prometheus) -> bool:
    """Prometheus reports the exporter's target up (False while it cannot answer the query, e.g. still starting)."""
    try:
        return bool(prometheus.query(UP_QUERY))
    except (LabError, ValueError):
        return False


def _get(url: str) -> bytes | None:
    """The body ``url`` answers with (an HTTP error's too), None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as error:
        refused: bytes = error.read()
        return refused
    except OSError:
        return None
