"""The SSH side: one listening socket per device on loopback, a thread per connection.

One acceptor thread watches every listening socket (``selectors``); each accepted connection gets
a paramiko server transport and a thread running the device's VTY. Only password authentication
is offered; the password is compared in constant time and never logged.
"""

from __future__ import annotations

import codecs
import hmac
import logging
import selectors
import socket
import threading

import paramiko
from paramiko.common import AUTH_FAILED, AUTH_SUCCESSFUL, OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED, OPEN_SUCCEEDED

from nxgov.errors import LabError
from nxgov.lab.netsim.base import Cli
from nxgov.lab.netsim.comware import ComwareCli
from nxgov.lab.netsim.device import Device
from nxgov.lab.netsim.terminal import Terminal
from nxgov.lab.netsim.vrp import VrpCli

log = logging.getLogger("nxgov.lab.netsim")
CLIS: dict[str, type[Cli]] = {"huawei_vrp": VrpCli, "h3c_comware": ComwareCli}
_SETUP_TIMEOUT = 15.0
_LINGER = 2.0  # after the session ends, let the client hang up first (closing with its packets unread resets it)


class _Gate(paramiko.ServerInterface):
    """Who may in (the device's one account) and what they may open (an interactive shell)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        spec = self.device.spec
        user_ok = hmac.compare_digest(username.encode(), spec.username.encode())
        password_ok = hmac.compare_digest(password.encode(), spec.password.encode())
        if user_ok and password_ok:
            return AUTH_SUCCESSFUL
        log.warning("%s: failed login as %r", spec.name, username)
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return OPEN_SUCCEEDED if kind == "session" else OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell.set()
        return True

    def check_channel_window_change_request(self, *args: object) -> bool:
        return True


class Server:
    def __init__(self, devices: list[Device], host_key: paramiko.PKey) -> None:
        self.devices = devices
        self._host_key = host_key
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._accept_loop, name="netsim-accept", daemon=True)

    def listen(self) -> None:
        """Bind every device's port (all or nothing), then start accepting."""
        for device in self.devices:
            host, port = device.spec.host, device.spec.port
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                sock.close()
                self.close()
                raise LabError(f"{device.spec.name}: cannot listen on [{host}]:{port}: {exc}") from exc
            sock.listen(64)
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, device)
        self._acceptor.start()

    def close(self) -> None:
        self._stop.set()
        if self._acceptor.is_alive():
            self._acceptor.join()
        for key in list(self._selector.get_map().values()):
            self._selector.unregister(key.fileobj)
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                listener: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    conn, peer = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)
                args = (conn, key.data, f"{peer[0]}:{peer[1]}")
                threading.Thread(target=self._serve, args=args, name=f"vty-{key.data.spec.name}", daemon=True).start()

    def _serve(self, conn: socket.socket, device: Device, peer: str) -> None:
        gate = _Gate(device)
        transport = paramiko.Transport(conn)
        transport.add_server_key(self._host_key)
        try:
            transport.start_server(server=gate)
            channel = transport.accept(_SETUP_TIMEOUT)
            if channel is None or not gate.shell.wait(_SETUP_TIMEOUT):
                return
            log.info("%s: session from %s as %s", device.spec.name, peer, transport.get_username())
            with device.lock:
                device.sessions += 1
            try:
                self._vty(channel, Terminal(CLIS[device.spec.platform](device)))
            finally:
                with device.lock:
                    device.sessions -= 1
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("%s: connection from %s ended: %s", device.spec.name, peer, exc)
        finally:
            if transport.is_alive():
                transport.join(_LINGER)
            transport.close()

    @staticmethod
    def _vty(channel: paramiko.Channel, terminal: Terminal) -> None:
        channel.sendall(terminal.greeting().encode())
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            data = channel.recv(4096)
            if not data:
                return
            reply = terminal.feed(decoder.decode(data))
            channel.sendall(reply.text.encode())
            if reply.close:
                channel.close()
                return
