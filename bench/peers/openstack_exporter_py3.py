"""Run Debian 12's prometheus-openstack-exporter 0.1.4 (/usr/bin/prometheus-openstack-exporter) for bench/monitor.py,
under /usr/bin/python3 (where its dependencies are), and print its figures as one JSON line.

As shipped it cannot start: it is Python 2 code under a python3 shebang (``import urlparse``, ``BaseHTTPServer``,
``SocketServer``), and it imports ``cinderclient.v2``, which python3-cinderclient 9 (and Cinder since Xena) no longer
has. With those four names aliased to their Python 3 / Cinder v3 equivalents below, its data gatherer runs against
the lab. Its HTTP handler still cannot answer (it appends each collector's bytes to a str: TypeError, then writes
the traceback as a str: TypeError again), so the scrape measured is what that handler does before writing: build
every enabled collector's exposition from the cache file.

    /usr/bin/python3 bench/peers/openstack_exporter_py3.py WORKDIR SCRAPES

OS_* variables (keystone v3) say where and as whom; the cloud is whatever region keystoneauth picks from the
catalog (the exporter passes no region).
"""

from __future__ import annotations

import http.server
import importlib.machinery
import importlib.util
import json
import logging
import resource
import socketserver
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import cinderclient.v3  # type: ignore[import-not-found]
import cinderclient.v3.client  # type: ignore[import-not-found]

sys.modules.update({"urlparse": urllib.parse, "BaseHTTPServer": http.server, "SocketServer": socketserver,
                    "cinderclient.v2": cinderclient.v3, "cinderclient.v2.client": cinderclient.v3.client})

PROGRAM = "/usr/bin/prometheus-openstack-exporter"


def main() -> None:
    work, scrapes = Path(sys.argv[1]), int(sys.argv[2])
    loader = importlib.machinery.SourceFileLoader("poe", PROGRAM)
    spec = importlib.util.spec_from_loader("poe", loader)
    assert spec is not None
    poe = importlib.util.module_from_spec(spec)
    loader.exec_module(poe)
    config: dict[str, Any] = {
        "cache_file": str(work / "cache"), "cache_refresh_interval": 3600, "cloud": "lab",
        "enabled_collectors": ["cinder", "neutron", "nova"], "openstack_allocation_ratio_vcpu": 16.0,
        "openstack_allocation_ratio_ram": 1.5, "openstack_allocation_ratio_disk": 1.0,
        "schedulable_instance_size": {"ram_mbs": 512, "vcpu": 1, "disk_gbs": 1}}
    vars(poe)["config"] = config
    failures: list[str] = []

    class Failed(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.CRITICAL:
                failures.append(record.getMessage().strip().splitlines()[-1])

    poe.log.addHandler(Failed())
    gatherer = poe.DataGatherer()
    started = time.monotonic()
    gatherer.start()
    while not (work / "cache").exists() or not gatherer.duration:
        if failures:
            raise SystemExit(f"its cache refresh failed: {failures[0]}")
        if time.monotonic() - started > 1800:
            raise SystemExit("no cache after 30 minutes")
        time.sleep(0.05)
    latencies = []
    size = 0
    for _ in range(scrapes):
        begin = time.perf_counter()
        output = b"".join(poe.COLLECTORS[name]().get_stats() for name in config["enabled_collectors"])
        output += gatherer.get_stats()
        latencies.append(time.perf_counter() - begin)
        size = len(output)
    print(json.dumps({"refresh_seconds": gatherer.duration, "scrape_seconds": latencies, "bytes": size,
                      "series": sum(1 for line in output.splitlines() if line and not line.startswith(b"#")),
                      "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
