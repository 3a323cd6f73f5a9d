"""The driver interface, in the spirit of NAPALM's ``NetworkDriver``: what every platform's driver offers.

::

    with driver(target, options) as device:
        device.load_merge_candidate(text)
        diff = device.compare_config()      # what would be sent, and a unified diff for people
        if diff:
            device.commit_config()          # send, check, save; roll back on any error

:class:`NetworkDriver` is the session and configuration interface every driver implements
(:class:`~nxgov.network.drivers.cli_driver.CliDriver` for devices configured by typing lines over SSH).
:class:`StateReader` is what a driver that can read the device's operational state adds, as typed rows (the
getters' results in :mod:`nxgov.network.parsers.results`); ``nxgov net verify`` reads only such drivers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from nxgov.network.drivers.changes import CommitResult, ConfigDiff
from nxgov.network.drivers.dialect import ConfigKind
from nxgov.network.drivers.target import SessionOptions, Target
from nxgov.network.parsers.results import BgpPeer, InterfaceState, Route


class NetworkDriver(ABC):
    """A session with one device (``target``), opened as ``options`` say; a context manager opens and closes it."""

    def __init__(self, target: Target, options: SessionOptions) -> None:
        self.target = target
        self.options = options

    @property
    def session_log_path(self) -> Path | None:
        """Where this device's session is logged (appended to), if anywhere."""
        return self.options.session_log(self.target.name)

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def open(self) -> None:
        """Log in (UnreachableError, AuthenticationError or HostKeyChangedError when that fails)."""

    @abstractmethod
    def close(self) -> None:
        """End the session (nothing when none is open)."""

    @abstractmethod
    def get_config(self, kind: ConfigKind = "running") -> str:
        """The running or saved configuration, as the device prints it."""

    @abstractmethod
    def cli(self, command: str) -> str:
        """The device's reply to one show command (UnreachableError when the session is lost meanwhile)."""

    @abstractmethod
    def load_merge_candidate(self, config_text: str, made: str | None = None, prune: bool = False) -> None:
        """Stage ``config_text`` (in the device's display format) to be merged into the running configuration.

        ``made`` is what nxgov made on the device before (every line it pushed and has not removed); with ``prune``
        the lines of it that ``config_text`` lacks are removed in the same change."""

    @abstractmethod
    def compare_config(self) -> ConfigDiff:
        """What the staged change would send; reads (and keeps, as :attr:`before`) the running configuration."""

    @abstractmethod
    def commit_config(self) -> CommitResult:
        """Make the staged change and save it; on any error bring the device back to :attr:`before` and raise."""

    @abstractmethod
    def discard_config(self) -> None:
        """Forget the staged change."""

    @abstractmethod
    def rollback(self) -> None:
        """Bring the running configuration back to :attr:`before` and prove it (RollbackError when it differs)."""

    @abstractmethod
    def revert_to(self, before: str) -> None:
        """Bring the running configuration back to ``before`` (one this device printed) in a later session than the
        change's, and save it (``net push --confirm-within`` unconfirmed); RollbackError when it still differs."""

    @abstractmethod
    def made(self) -> str:
        """What nxgov has made on the device once the staged change is committed, as configuration text."""

    @property
    @abstractmethod
    def before(self) -> str | None:
        """The running configuration :meth:`compare_config` read (what a rollback returns to), None before it."""


@runtime_checkable
class StateReader(Protocol):
    """What a driver that can read a device's operational state offers (for ``nxgov net verify``), as typed rows;
    a getter raises ParseError when the device prints a line it cannot read."""

    def interface_name(self, port: int) -> str:
        """The name the platform's renderer gives link port ``port`` by default (an estate-given name wins)."""

    def get_bgp_peers(self) -> tuple[BgpPeer, ...]:
        """Every IPv6 BGP peer and its session."""

    def get_interface_states(self) -> tuple[InterfaceState, ...]:
        """Every interface, administratively and operationally."""

    def get_routes(self) -> tuple[Route, ...]:
        """Every IPv6 route in use and its active next hops."""
