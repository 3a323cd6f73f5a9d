"""The driver registry: the built-in platforms, a new platform joining with ``register``, and what it refuses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from nxgov.errors import InputError
from nxgov.network.drivers import (
    DRIVERS,
    NetworkDriver,
    SessionOptions,
    StateReader,
    Target,
    driver,
    register,
    registry,
)
from nxgov.network.drivers.cli_driver import CliDriver
from nxgov.network.drivers.comware import ComwareDriver
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.dialect import Dialect
from nxgov.network.drivers.frr import FrrDriver
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.network.drivers.vrp import VrpDriver
from nxgov.network.parsers import BgpPeer, InterfaceState, Route


class ToyDriver(CliDriver):
    """A platform nxgov does not ship: an IOS-like CLI that saves with ``copy running-config startup-config``."""

    platform: ClassVar[str] = "toy_os"
    dialect: ClassVar[Dialect] = dataclasses.replace(FrrDriver.dialect, save_command="copy running-config "
                                                     "startup-config")

    def interface_name(self, port: int) -> str:
        return f"Ethernet{port}"

    def get_bgp_peers(self) -> tuple[BgpPeer, ...]:
        return (BgpPeer("2001:db8::2", 65002, "Established", 60, 1),)

    def get_interface_states(self) -> tuple[InterfaceState, ...]:
        return (InterfaceState("Ethernet0", True, True),)

    def get_routes(self) -> tuple[Route, ...]:
        return ()


@pytest.fixture
def toy() -> Iterator[type[ToyDriver]]:
    register("toy_os", ToyDriver)
    yield ToyDriver
    registry._registered.pop("toy_os")


def _target(platform: str) -> Target:
    return Target("t1", platform, "127.0.0.1", 22, Credentials("nxgov", "x"))


def test_the_builtin_platforms_are_registered() -> None:
    assert dict(DRIVERS) == {"huawei_vrp": VrpDriver, "h3c_comware": ComwareDriver, "frr": FrrDriver}
    assert all(issubclass(cls, NetworkDriver) for cls in DRIVERS.values())


def test_a_new_platform_joins_and_is_found_by_platform(toy: type[ToyDriver], tmp_path: Path) -> None:
    device = driver(_target("toy_os"), SessionOptions(KnownHosts(tmp_path / "known_hosts")))
    assert isinstance(device, ToyDriver) and DRIVERS["toy_os"] is ToyDriver
    assert issubclass(DRIVERS["toy_os"], StateReader)  # so net verify reads it
    assert device.session.dialect.save_command == "copy running-config startup-config"
    register("toy_os", ToyDriver)  # registering the same class again changes nothing


def test_an_unknown_platform_names_the_ones_there_are(toy: type[ToyDriver], tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        driver(_target("junos"), SessionOptions(KnownHosts(tmp_path / "known_hosts")))
    assert raised.value.message == "t1: nxgov has no driver for platform 'junos'"
    assert raised.value.hint == "the platforms it can configure are frr, h3c_comware, huawei_vrp, toy_os"


def test_a_platform_is_driven_by_one_class_only(toy: type[ToyDriver]) -> None:
    with pytest.raises(ValueError, match="platform 'huawei_vrp' is already driven by VrpDriver"):
        register("huawei_vrp", ToyDriver)
    with pytest.raises(TypeError, match="str is not a NetworkDriver"):
        register("text", str)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DRIVERS["junos"] = ToyDriver  # type: ignore[index]
    assert DRIVERS["huawei_vrp"] is VrpDriver


def test_the_interface_declares_what_every_driver_must_offer() -> None:
    class Partial(NetworkDriver):
        def open(self) -> None:
            return None

    with pytest.raises(TypeError, match="abstract"):
        Partial(_target("x"), None)  # type: ignore[abstract,arg-type]
