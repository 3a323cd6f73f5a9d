"""A fault-injecting HTTP reverse proxy for the lab's OpenStack endpoints, and a clouds.yaml that goes through it.

One :class:`FaultProxy` listens on one loopback port per upstream endpoint (Keystone, Nova, Neutron, Cinder,
Glance of each region). A share of the requests is answered by the proxy itself, without reaching the
service: 429 with ``Retry-After: 1``, 429 with ``Retry-After`` as an HTTP date, or 503. The rest are
forwarded; upstream addresses in the answers (version documents, pagination links, Location) are rewritten
to the proxy's, so a client never leaves the proxy. Every request is counted: :attr:`FaultProxy.forwarded`
and :attr:`FaultProxy.injected` (by status), which is also how the benchmark counts a peer tool's API calls.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
                        "transfer-encoding", "upgrade", "content-length", "host"})
SERVICES = {"identity": "identity", "compute": "compute", "network": "network", "volumev3": "block_storage",
            "image": "image"}
"""Catalog service type → the clouds.yaml ``<key>_endpoint_override`` prefix."""
API_VERSIONS = {"block_storage": "3", "image": "2"}
"""Given with an override, so openstacksdk does not run version discovery on a URL with ``%(project_id)s``."""


class FaultProxy:
    """Listening ports in front of upstream ``host:port`` endpoints; ``fault_rate`` of requests get a fault."""

    def __init__(self, fault_rate: float = 0.2, seed: int | None = None) -> None:
        self.fault_rate = fault_rate
        self.forwarded = 0
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self._rewrites: list[tuple[bytes, bytes]] = []

    def front(self, upstream: str) -> str:
        """Listen for ``upstream`` (``http://host:port``); the proxy's ``http://127.0.0.1:PORT``."""
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy._serve(self, target.hostname or "127.0.0.1", target.port or 80)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._servers.append(server)
        mine = f"http://127.0.0.1:{server.server_address[1]}"
        self._rewrites.append((f"{target.scheme}://{target.netloc}".encode(), mine.encode()))
        return mine

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    @property
    def calls(self) -> int:
        return self.forwarded + sum(self.injected.values())

    def _fault(self) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            if self._random.random() >= self.fault_rate:
                self.forwarded += 1
                return None
            kind = self._random.choice(("429-seconds", "429-date", "503"))
            self.injected[kind] += 1
        if kind == "429-seconds":
            return 429, {"Retry-After": "1"}
        if kind == "429-date":
            return 429, {"Retry-After": formatdate(time.time() + 1, usegmt=True)}
        return 503, {}

    def _serve(self, handler: BaseHTTPRequestHandler, host: str, port: int) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        fault = self._fault()
        if fault is not None:
            status, headers = fault
            payload = b'{"error": "injected by the test proxy"}'
            handler.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json",
                                "Content-Length": str(len(payload))}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection(host, port, timeout=300)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = self._rewrite(answer.read())
            handler.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    handler.send_header(name, self._rewrite(value.encode("latin-1")).decode("latin-1"))
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        finally:
            upstream.close()

    def _rewrite(self, data: bytes) -> bytes:
        for real, mine in self._rewrites:
            data = data.replace(real, mine)
        return data


def proxied_clouds(clouds: Path, proxy: FaultProxy, out: Path, entries: dict[str, str]) -> Path:
    """A copy of ``clouds`` whose ``entries`` (clouds.yaml entry → region) reach every service through ``proxy``:
    auth_url and a ``<service>_endpoint_override`` per service of the region's catalog (raw: Cinder's
    ``%(project_id)s`` stays for keystoneauth to fill in per connection)."""
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    doc: dict[str, Any] = yaml.safe_load(clouds.read_text(encoding="utf-8"))
    fronted: dict[str, str] = {}

    def through(url: str) -> str:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        if base not in fronted:
            fronted[base] = proxy.front(base)
        return fronted[base] + url[len(base):]

    conn: Any = Connection(config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
        cloud=next(iter(entries)), region_name=next(iter(entries.values()))))
    types = {s.id: s.type for s in conn.identity.services()}
    endpoints = [e for e in conn.identity.endpoints(interface="public") if types.get(e.service_id) in SERVICES]
    conn.close()
    for entry, region in entries.items():
        config = doc["clouds"][entry]
        config["auth"]["auth_url"] = through(config["auth"]["auth_url"])
        for e in endpoints:
            if e.region_id == region:
                key = SERVICES[types[e.service_id]]
                config[f"{key}_endpoint_override"] = through(e.url)
                if key in API_VERSIONS:
                    config[f"{key}_api_version"] = API_VERSIONS[key]
    out.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return out
