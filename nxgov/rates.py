"""Bandwidth limits for copies, as rsync takes them, and rclone-style timetables of them.

A rate is a number with an optional K, M or G (per second; rsync's --bwlimit), ``0`` or ``off`` for no limit. A
timetable is space-separated ``HH:MM,RATE`` entries in Asia/Shanghai time (the estate's windows' zone), e.g.
``08:00,512K 19:00,off``: from each time on, that rate, until the next entry (the last one runs past midnight to
the first). The rate a copy uses is the one in force when it starts.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from nxgov.errors import InputError

ZONE = ZoneInfo("Asia/Shanghai")
_RATE = re.compile(r"^\d{1,9}(\.\d{1,3})?[KMG]?$")
_ENTRY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d),(.+)$")


def check_bwlimit(rate: str) -> str:
    """``rate`` if rsync takes it as --bwlimit (InputError naming the fix otherwise)."""
    if not _RATE.match(rate):
        raise InputError(f"--bwlimit {rate!r} is not a rate", "give a number with an optional K, M or G per second, "
                         "e.g. 20M (20 MiB/s) or 500K; 0 is no limit")
    return rate


def parse_timetable(text: str) -> list[tuple[int, str]]:
    """``[(minute of day, rsync rate), ...]`` sorted by time; one rate alone applies all day."""
    entries = text.split()
    if len(entries) == 1 and "," not in entries[0]:
        return [(0, _rate(entries[0]))]
    out = []
    for entry in entries:
        found = _ENTRY.match(entry)
        if not found:
            raise InputError(f"--bwlimit entry {entry!r} is neither a rate nor HH:MM,RATE",
                             "e.g. --bwlimit 20M, or a timetable such as '08:00,512K 19:00,off'")
        out.append((int(found.group(1)) * 60 + int(found.group(2)), _rate(found.group(3))))
    if not out:
        raise InputError("--bwlimit is empty", "give a rate such as 20M, or 0 for no limit")
    return sorted(out)


def rate_at(timetable: list[tuple[int, str]], when: datetime) -> str:
    """The rsync rate in force at ``when``."""
    local = when.astimezone(ZONE)
    minute = local.hour * 60 + local.minute
    current = timetable[-1][1]
    for start, rate in timetable:
        if start <= minute:
            current = rate
    return current


def _rate(text: str) -> str:
    return "0" if text.lower() == "off" else check_bwlimit(text)
