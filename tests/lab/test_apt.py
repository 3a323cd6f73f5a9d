"""The lab's Debian package installer against the real apt: a package that cannot be had is named."""

from __future__ import annotations

import os

import pytest

from nxgov.errors import LabError
from nxgov.lab.apt import ensure_packages, installed

pytestmark = [pytest.mark.lab, pytest.mark.skipif(os.geteuid() != 0, reason="apt-get needs root")]


def test_installed_packages_need_no_work() -> None:
    said: list[str] = []
    ensure_packages(["iproute2"], said.append)
    assert installed("iproute2") and said == []


def test_a_package_that_cannot_be_installed_is_named() -> None:
    said: list[str] = []
    with pytest.raises(LabError) as caught:
        ensure_packages(["nxgov-no-such-package"], said.append)
    assert "nxgov-no-such-package" in caught.value.message
    assert "apt-get update" in (caught.value.hint or "")
    assert any("apt-get update" in line for line in said)
