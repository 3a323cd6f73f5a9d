"""Device drivers: one NAPALM-like interface (get, compare, commit, roll back) per platform, on netmiko.

:mod:`~nxgov.network.drivers.base` defines the interface, :mod:`~nxgov.network.drivers.registry` finds a
platform's driver; the built-in platforms (Huawei VRP, H3C Comware, FRR) are registered here.
"""

from __future__ import annotations

from nxgov.network.drivers.base import NetworkDriver, StateReader
from nxgov.network.drivers.changes import CommitResult, ConfigDiff
from nxgov.network.drivers.comware import ComwareDriver
from nxgov.network.drivers.frr import FrrDriver
from nxgov.network.drivers.registry import DRIVERS, driver, register
from nxgov.network.drivers.target import SessionOptions, Target
from nxgov.network.drivers.vrp import VrpDriver

register(VrpDriver.platform, VrpDriver)
register(ComwareDriver.platform, ComwareDriver)
register(FrrDriver.platform, FrrDriver)

__all__ = ["DRIVERS", "CommitResult", "ConfigDiff", "NetworkDriver", "SessionOptions", "StateReader", "Target",
           "driver", "register"]
