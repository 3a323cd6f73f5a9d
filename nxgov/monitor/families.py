"""The one place metric families are registered: family name → the function that makes its sources.

Adding a family is one module with a ``sources(config) -> list[Source]`` function and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from nxgov.errors import InputError
from nxgov.monitor import auditlog, backup, cloud, extranet, migration
from nxgov.monitor.source import MonitorConfig, Source

FAMILIES: dict[str, Callable[[MonitorConfig], list[Source]]] = {
    "cloud": cloud.sources,
    "migration": migration.sources,
    "extranet": extranet.sources,
    "audit": auditlog.sources,
    "backup": backup.sources,
}


def make_sources(config: MonitorConfig, only: Collection[str] = ()) -> list[Source]:
    """The sources of every family (of the families in ``only``, when given), in registration order."""
    unknown = sorted(set(only) - FAMILIES.keys())
    if unknown:
        raise InputError(f"--only {', '.join(unknown)}: no such metric family",
                         f"give one or more of: {', '.join(FAMILIES)}")
    return [source for name, make in FAMILIES.items() if not only or name in only for source in make(config)]
