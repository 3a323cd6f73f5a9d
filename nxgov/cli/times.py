"""Time options shared by the commands: ``--since`` / ``--until`` (``audit show``, ``migrate register``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from nxgov.errors import InputError

_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """``option`` (``--since`` unless told) as an aware datetime: relative (``2h`` ago) or ISO-8601 (naive means
    local time). Raises :class:`InputError` (exit 2) naming ``option`` for anything else."""
    if value is None:
        return None
    text = value.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount, unit = relative.groups()
        try:
            return datetime.now().astimezone() - timedelta(**{_UNITS[unit]: int(amount)})
        except OverflowError as error:
            raise InputError(f"{option} {value!r} reaches back before year 1",
                             "use a shorter duration, or an ISO time such as 2025-03-01T08:00") from error
    try:
        return datetime.fromisoformat(text).astimezone()
    except ValueError as error:
        raise InputError(
            f"{option} {value!r} is neither a time nor a duration",
            "use an ISO time such as 2025-03-01T08:00 or 2025-03-01T00:00+08:00, or a duration such as 30m, 2h, 3d, 1w",
        ) from error
