"""The values BGP tables print: AS numbers in asplain and asdot, durations in every device's format."""

from __future__ import annotations

import pytest

from nxgov.network.parsers.values import asn, seconds


@pytest.mark.parametrize(("text", "number"), [
    ("64600", 64600), ("4259844162", 4259844162), ("635.88", 635 * 65536 + 88), ("0.65535", 65535),
    ("65535.65535", 4294967295),
])
def test_asn_reads_asplain_and_asdot(text: str, number: int) -> None:
    assert asn(text) == number


@pytest.mark.parametrize("text", ["65536.1", "1.65536", "4294967296", "635.", "AS100"])
def test_asn_refuses_what_no_as_number_is(text: str) -> None:
    with pytest.raises(ValueError):
        asn(text)


@pytest.mark.parametrize(("text", "total"), [
    ("00:05:12", 312), ("08:30:47", 30647), ("626h43m", 626 * 3600 + 43 * 60), ("0286h47m", 286 * 3600 + 47 * 60),
    ("2d03h", 2 * 86400 + 3 * 3600), ("1w2d", 9 * 86400), ("04h13m03s", 4 * 3600 + 13 * 60 + 3), ("00:00:00", 0),
])
def test_seconds_reads_every_uptime_format(text: str, total: int) -> None:
    assert seconds(text) == total


@pytest.mark.parametrize("text", ["", "never", "5:3", "3h2d", "12:5:00"])
def test_seconds_refuses_what_is_no_duration(text: str) -> None:
    with pytest.raises(ValueError):
        seconds(text)
