"""The host key an SSH server offers, read with a key exchange and nothing more (no login), like ssh-keyscan."""

from __future__ import annotations

import socket

import paramiko


def offered_key(host: str, port: int, timeout: float) -> paramiko.PKey:
    """The key ``host:port`` proves it holds in a key exchange (the type paramiko prefers, as a first login would
    get); OSError or paramiko.SSHException when there is no SSH server to ask."""
    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    finally:
        transport.close()
        sock.close()
