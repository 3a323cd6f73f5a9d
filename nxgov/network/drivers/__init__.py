"""Device drivers: one NAPALM-like interface (get, compare, commit, roll back) per platform, on netmiko."""

from __future__ import annotations

from nxgov.errors import InputError
from nxgov.network.drivers.base import CommitResult, ConfigDiff, Driver, SessionOptions, Target
from nxgov.network.drivers.comware import ComwareDriver
from nxgov.network.drivers.frr import FrrDriver
from nxgov.network.drivers.vrp import VrpDriver

DRIVERS: dict[str, type[Driver]] = {d.platform: d for d in (VrpDriver, ComwareDriver, FrrDriver)}


def driver(target: Target, options: SessionOptions) -> Driver:
    """The driver for ``target``'s platform (InputError for a platform nxgov cannot configure yet)."""
    try:
        return DRIVERS[target.platform](target, options)
    except KeyError:
        raise InputError(f"{target.name}: nxgov has no driver for platform {target.platform!r}",
                         f"the platforms it can configure are {', '.join(sorted(DRIVERS))}") from None


__all__ = ["DRIVERS", "CommitResult", "ConfigDiff", "Driver", "SessionOptions", "Target", "driver"]
