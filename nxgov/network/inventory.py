"""Which extranet devices an operation applies to, and how to reach each (address and resolved login)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from nxgov.errors import InputError
from nxgov.estate.model import Device, Estate
from nxgov.network.drivers import Target
from nxgov.network.drivers.credentials import Credentials, resolve


def select(estate: Estate, names: Sequence[str] = (), site: str | None = None,
           plane: str | None = None) -> list[Device]:
    """The estate's devices named in ``names`` (all when empty), at ``site``, on ``plane``, in estate order.

    ``plane`` matches devices attached to that plane only: a dual-homed router (no plane) carries every
    plane, so a plane-scoped change never touches it.
    """
    devices = estate.extranet.devices if estate.extranet else []
    known = {device.name for device in devices}
    unknown = [name for name in names if name not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        raise InputError(f"no device named {', '.join(repr(name) for name in unknown)} in the estate",
                         f"did you mean {close[0]!r}?" if close else "`nxgov estate show --devices` lists them")
    chosen = [device for device in devices if (not names or device.name in names)
              and (site is None or device.site == site) and (plane is None or device.plane == plane)]
    if not chosen:
        raise InputError("no device matches the selection",
                         "check --device, --site (a division code, e.g. 640100) and --plane (e.g. A)")
    return chosen


def targets(estate: Estate, devices: Sequence[Device], environ: Mapping[str, str] | None = None) -> list[Target]:
    """A :class:`Target` per device, each credentials entry resolved once."""
    resolved: dict[str, Credentials] = {}
    out = []
    for device in devices:
        if device.credentials not in resolved:
            ref = estate.credentials.get(device.credentials)
            if ref is None:
                raise InputError(f"{device.name}: the estate has no credentials entry {device.credentials!r}")
            resolved[device.credentials] = resolve(device.credentials, ref, environ)
        out.append(Target(device.name, device.platform, device.host, device.port, resolved[device.credentials]))
    return out
