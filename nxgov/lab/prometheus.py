"""A Prometheus server of our own for the lab (tests and benchmarks of the exporter): Debian's ``prometheus``
package, started on a free loopback port with a generated configuration, its data in a directory we own, and
stopped by its PID. Debian's own service is neither started nor used by nxgov (on these machines policy-rc.d keeps
it from starting when the package is installed)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from nxgov.errors import LabError

PACKAGES: tuple[str, ...] = ("prometheus",)
"""Debian's Prometheus 2.42 (with promtool), installed by ``nxgov lab install``."""
PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def config(targets: Sequence[str], interval: float = 1.0, rule_files: Sequence[Path] = (),
           scrape_timeout: float | None = None) -> dict[str, Any]:
    """A configuration scraping the nxgov exporters at ``targets`` (``host:port``) every ``interval`` seconds."""
    job: dict[str, Any] = {"job_name": "nxgov", "static_configs": [{"targets": list(targets)}]}
    if scrape_timeout is not None:
        job["scrape_timeout"] = f"{scrape_timeout:g}s"
    return {"global": {"scrape_interval": f"{interval:g}s", "evaluation_interval": f"{interval:g}s"},
            "rule_files": [str(p) for p in rule_files], "scrape_configs": [job]}


class Prometheus:
    """``prometheus`` with the configuration ``settings`` (see :func:`config`), data under ``directory``."""

    def __init__(self, directory: Path, settings: dict[str, Any]) -> None:
        self.directory = directory
        self.settings = settings
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "prometheus.log"

    def prepare(self, port: int | None = None) -> list[str]:
        """Write the configuration and choose the port (``port``, else a free one); the command line that runs this
        Prometheus (for a caller that starts it its own way, e.g. the lab's monitoring part, recorded in the lab's
        ledger)."""
        if not PROMETHEUS.exists():
            raise LabError(f"{PROMETHEUS} is missing", "install Debian's prometheus package: nxgov lab install")
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / "prometheus.yml"
        path.write_text(yaml.safe_dump(self.settings), encoding="utf-8")
        self.port = port or free_port()
        return [str(PROMETHEUS), f"--config.file={path}", f"--storage.tsdb.path={self.directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle"]

    def ready(self) -> bool:
        """Prometheus answers its readiness endpoint."""
        return self._get("/-/ready") is not None

    def start(self, timeout: float = 60.0) -> None:
        argv = self.prepare()
        log = self.log.open("wb")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait(self.ready, timeout, "Prometheus ready")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar, as one item) of ``expr`` now; LabError when Prometheus refuses it."""
        answer = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if answer is None:
            raise LabError(f"Prometheus at {self.url} did not answer the query {expr!r}", self.log_tail())
        document = json.loads(answer)
        if document.get("status") != "success":
            raise LabError(f"Prometheus refused {expr!r}: {document.get('error')}", self.log_tail())
        data = document["data"]
        result: list[dict[str, Any]] = data["result"] if data["resultType"] in ("vector", "matrix") \
            else [{"metric": {}, "value": data["result"]}]
        return result

    def values(self, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
        """``expr``'s samples now: sorted label pairs → value."""
        return {tuple(sorted(item["metric"].items())): float(item["value"][1]) for item in self.query(expr)}

    def wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process is not None and self.process.poll() is not None:
                raise LabError(f"Prometheus exited with {self.process.returncode} while waiting for {what}",
                               self.log_tail())
            if time.monotonic() > deadline:
                raise LabError(f"waited {timeout:g} s for {what}", self.log_tail())
            time.sleep(0.2)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-10:]) if self.log.exists() else ""

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as error:
            refused: bytes = error.read()
            return refused
        except OSError:
            return None
