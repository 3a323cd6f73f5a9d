"""Bandwidth rates and rclone-style timetables (nxgov.rates), shared by migrate and backup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nxgov.errors import InputError
from nxgov.rates import check_bwlimit, parse_timetable, rate_at


def at(hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` Asia/Shanghai (UTC+8) on a fixed day, as an aware UTC time."""
    return datetime(2026, 11, 27, (hour - 8) % 24, minute, tzinfo=UTC)


def test_a_single_rate_applies_all_day() -> None:
    table = parse_timetable("20M")
    assert rate_at(table, at(3)) == "20M" and rate_at(table, at(23, 59)) == "20M"
    assert parse_timetable("off") == [(0, "0")]


def test_a_timetable_switches_at_its_times_and_wraps_past_midnight() -> None:
    table = parse_timetable("19:00,off 08:00,512K")
    assert table == [(8 * 60, "512K"), (19 * 60, "0")]
    assert rate_at(table, at(7, 59)) == "0"          # before the first entry: the last one still runs
    assert rate_at(table, at(8)) == "512K"
    assert rate_at(table, at(18, 59)) == "512K"
    assert rate_at(table, at(19)) == "0"


@pytest.mark.parametrize("text, fragment", [
    ("fast", "not a rate"), ("25:00,1M", "neither a rate nor HH:MM,RATE"), ("08:00,quick", "not a rate"),
    ("", "empty"), ("8:00,1M", "neither a rate"),
])
def test_bad_rates_name_the_fix(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_timetable(text)
    assert fragment in caught.value.message and caught.value.hint


def test_check_bwlimit_takes_what_rsync_takes() -> None:
    assert check_bwlimit("1.5M") == "1.5M"
    with pytest.raises(InputError):
        check_bwlimit("1.5MB")
