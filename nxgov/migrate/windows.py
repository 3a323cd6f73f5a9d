"""Departments' weekly maintenance windows as concrete times (Asia/Shanghai, UTC+8, no daylight saving).

A set of windows is turned once into a weekly pattern: intervals in minutes from Monday 00:00, unrolled over
four weeks (-1 .. 2) and merged, so a window crossing midnight or the end of the week stays one interval and
adjoining windows join. Several departments' patterns intersect into the times all of them allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from nxgov.estate.model import WEEKDAYS, MaintenanceWindow

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
"""The region's time: China has one time zone, UTC+8, without daylight saving."""
_DAY = 24 * 60
_WEEK = 7 * _DAY

Pattern = tuple[tuple[int, int], ...]
"""Merged intervals ``(start, end)`` in minutes from Monday 00:00 of week 0, covering weeks -1 .. 2."""


def pattern(windows: Sequence[MaintenanceWindow]) -> Pattern:
    """The weekly pattern of ``windows``."""
    spans: list[tuple[int, int]] = []
    for window in windows:
        opens = _minutes(window.start)
        length = (_minutes(window.end) - opens) % _DAY
        for day in window.days:
            start = WEEKDAYS.index(day) * _DAY + opens
            spans += [(start + week * _WEEK, start + week * _WEEK + length) for week in (-1, 0, 1, 2)]
    return _merge(spans)


def intersect(first: Pattern, second: Pattern) -> Pattern:
    """The times both patterns allow."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            out.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def next_opening(times: Pattern, after: datetime) -> tuple[datetime, datetime] | None:
    """The first interval of ``times`` that opens at or after ``after``, as Shanghai times; None if it is empty.

    Windows that together never close (every minute of the week) open at ``after``."""
    monday, offset = _week_of(after)
    for start, end in times:
        if start >= offset:
            return monday + timedelta(minutes=start), monday + timedelta(minutes=end)
    always = [end for start, end in times if start <= offset < end]
    return (after, monday + timedelta(minutes=always[0])) if always else None


def covers(times: Pattern, start: datetime, end: datetime) -> bool:
    """Whether one interval of ``times`` holds all of ``start`` .. ``end``."""
    offset = _week_of(start)[1]
    length = (end - start).total_seconds() / 60
    return any(s <= offset and offset + length <= e for s, e in times)


def describe(windows: Sequence[MaintenanceWindow]) -> str:
    """``sat,sun 22:00-06:00; wed 12:00-13:00``, for messages."""
    return "; ".join(f"{','.join(w.days)} {w.start}-{w.end}" for w in windows)


def _week_of(moment: datetime) -> tuple[datetime, float]:
    """Monday 00:00 (Shanghai) of the week holding ``moment``, and the minutes from it to ``moment``."""
    local = moment.astimezone(SHANGHAI)
    monday = datetime(local.year, local.month, local.day, tzinfo=SHANGHAI) - timedelta(days=local.weekday())
    return monday, (local - monday).total_seconds() / 60


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _merge(spans: list[tuple[int, int]]) -> Pattern:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)
