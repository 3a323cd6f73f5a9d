"""The one place that maps a platform name to its driver class; a new platform joins with :func:`register`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from nxgov.errors import InputError
from nxgov.network.drivers.base import NetworkDriver
from nxgov.network.drivers.target import SessionOptions, Target

_registered: dict[str, type[NetworkDriver]] = {}
DRIVERS: Mapping[str, type[NetworkDriver]] = MappingProxyType(_registered)
"""Every registered platform and its driver class (read-only: change it with :func:`register`)."""


def register(platform: str, cls: type[NetworkDriver]) -> None:
    """Make ``cls`` the driver of ``platform`` (the estate's ``platform`` value); ValueError when another class
    already drives it."""
    if not issubclass(cls, NetworkDriver):
        raise TypeError(f"{cls.__name__} is not a NetworkDriver")
    known = _registered.get(platform)
    if known is not None and known is not cls:
        raise ValueError(f"platform {platform!r} is already driven by {known.__name__}")
    _registered[platform] = cls


def driver(target: Target, options: SessionOptions) -> NetworkDriver:
    """The driver for ``target``'s platform (InputError for a platform nxgov cannot configure yet)."""
    try:
        cls = _registered[target.platform]
    except KeyError:
        raise InputError(f"{target.name}: nxgov has no driver for platform {target.platform!r}",
                         f"the platforms it can configure are {', '.join(sorted(_registered))}") from None
    return cls(target, options)
