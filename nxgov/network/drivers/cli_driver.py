"""The driver of devices configured by typing lines over SSH: a :class:`NetworkDriver` made of a
:class:`~nxgov.network.drivers.session.CliSession` and a :class:`~nxgov.network.drivers.engine.ChangeEngine`,
speaking the platform's :class:`~nxgov.network.drivers.dialect.Dialect`."""

from __future__ import annotations

from typing import ClassVar

from netmiko.base_connection import BaseConnection

from nxgov.network.drivers.base import NetworkDriver
from nxgov.network.drivers.changes import CommitResult, ConfigDiff
from nxgov.network.drivers.dialect import ConfigKind, Dialect
from nxgov.network.drivers.engine import ChangeEngine
from nxgov.network.drivers.failures import DROPPED, lost_during
from nxgov.network.drivers.session import CliSession
from nxgov.network.drivers.target import SessionOptions, Target


class CliDriver(NetworkDriver):
    """A session with one device. Subclasses set the platform's name and :class:`Dialect` (and may give their own
    kind of session)."""

    platform: ClassVar[str]
    dialect: ClassVar[Dialect]
    session_class: ClassVar[type[CliSession]] = CliSession

    def __init__(self, target: Target, options: SessionOptions) -> None:
        super().__init__(target, options)
        self.session = self.session_class(target, options, self.dialect)
        self.engine = ChangeEngine(self.session, self.dialect, self.rollback)

    @property
    def connection(self) -> BaseConnection:
        """netmiko's connection (InputError when the session is not open)."""
        return self.session.connection

    def open(self) -> None:
        self.session.open()

    def close(self) -> None:
        self.session.close()

    def get_config(self, kind: ConfigKind = "running") -> str:
        return self.engine.get_config(kind)

    def cli(self, command: str) -> str:
        try:
            return self.session.type(command)
        except DROPPED as error:
            raise lost_during(self.target.name, command, error) from error

    def load_merge_candidate(self, config_text: str, made: str | None = None, prune: bool = False) -> None:
        self.engine.load_merge_candidate(config_text, made, prune)

    def compare_config(self) -> ConfigDiff:
        return self.engine.compare_config()

    def commit_config(self) -> CommitResult:
        return self.engine.commit_config()

    def discard_config(self) -> None:
        self.engine.discard_config()

    def rollback(self) -> None:
        self.engine.rollback()

    def revert_to(self, before: str) -> None:
        self.engine.revert_to(before)

    def made(self) -> str:
        return self.engine.made()

    @property
    def before(self) -> str | None:
        return self.engine.before
