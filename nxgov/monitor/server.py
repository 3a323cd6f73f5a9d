"""The exporter's HTTP server: ``/metrics`` (prometheus-client's WSGI app over the collector) and ``/healthz``,
threaded, optionally over TLS. Basic auth is left to a reverse proxy in front (README, "Monitoring")."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.registry import CollectorRegistry

from nxgov.errors import InputError
from nxgov.monitor.refresh import Refresher

DEFAULT_PORT = 8790
"""Outside 9100-9999, the range the Prometheus wiki allocates to public exporters (README, "Monitoring")."""
DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def url(self, scheme: str = "http") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def parse_listen(text: str) -> Listen:
    """``ADDR:PORT`` (``[::1]:8790`` for IPv6; ``:8790`` for every IPv4 address) → :class:`Listen`."""
    hint = f"give --listen as ADDRESS:PORT, e.g. {DEFAULT_LISTEN}, 0.0.0.0:{DEFAULT_PORT} or [::1]:{DEFAULT_PORT}"
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InputError(f"--listen {text!r} has no port (0-65535) after its last ':'", hint)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host or "0.0.0.0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise InputError(f"--listen {text!r}: {host!r} is not an IP address", hint) from None
    return Listen(host, int(port_text))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged."""


def app(registry: CollectorRegistry, refreshers: Iterable[Refresher]) -> Callable[[dict[str, Any], StartResponse],
                                                                               Iterable[bytes]]:
    metrics = make_wsgi_app(registry)
    sources = list(refreshers)

    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            body = json.dumps({"ok": True, "sources": {
                r.source.key: None if (last := r.cached().last) is None else last.ok for r in sources}}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        result: Iterable[bytes] = metrics(environ, start_response)
        return result

    return serve


def bind(listen: Listen, handler: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
         tls: tuple[Path, Path] | None = None) -> WSGIServer:
    """A server bound to ``listen`` (not yet serving); ``tls`` is (certificate, key) in PEM files.

    Bad input (exit 2): the port in use, an address this machine does not have, a port it may not bind, an
    unreadable certificate or key."""
    server_class = _Server6 if ":" in listen.host else _Server
    try:
        server = make_server(listen.host, listen.port, handler, server_class=server_class, handler_class=_Quiet)
    except OSError as error:
        raise _bind_error(listen, error) from error
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(str(tls[0]), str(tls[1]))
        except (OSError, ssl.SSLError) as error:
            server.server_close()
            raise InputError(f"cannot use --tls-cert {tls[0]} with --tls-key {tls[1]}: {error}",
                             "give a PEM certificate (chain) and its private key, readable by this user") from error
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def _bind_error(listen: Listen, error: OSError) -> InputError:
    where = listen.url().removeprefix("http://")
    if error.errno == errno.EADDRINUSE:
        return InputError(f"cannot listen on {where}: the port is in use by another process",
                          f"choose another port with --listen (default {DEFAULT_LISTEN}), or stop what uses it "
                          f"(ss -ltnp 'sport = :{listen.port}')")
    if error.errno == errno.EACCES:
        return InputError(f"cannot listen on {where}: permission denied (ports below 1024 need root)",
                          f"choose a port above 1024 with --listen, e.g. {DEFAULT_LISTEN}")
    return InputError(f"cannot listen on {where}: {error.strerror or error}",
                      "give --listen an address of this machine (ip -brief address), or 0.0.0.0 for all")
