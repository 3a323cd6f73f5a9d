"""A dropped session's error says what really happened after the drop: rolled back, no new session, reconnected but
the rollback failed, or the session dropped during a rollback (simulated VRP routers in a real simulator process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from nxgov.lab.netsim import DeviceSpec, NetsimProcess, SimSpec, free_loopback_ports, read_config, write_spec
from nxgov.network import push
from nxgov.network.drivers import SessionOptions, Target
from nxgov.network.drivers.credentials import Credentials
from nxgov.network.drivers.errors import RollbackError, SessionDroppedError
from nxgov.network.drivers.hostkeys import KnownHosts
from nxgov.network.drivers.session import CliSession
from nxgov.network.drivers.vrp import VrpDriver

USER, PASSWORD = "netops", "Sim-pass-4d1!"
CANDIDATE = "interface LoopBack5\n ipv6 enable\n description cut\n ipv6 address 2001:db8:5::1/128\n"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, DeviceSpec]]]:
    root = tmp_path_factory.mktemp("dropped")
    ports = free_loopback_ports(2)
    devices = {name: DeviceSpec(name, "huawei_vrp", ports.pop(), USER, PASSWORD) for name in ("D1", "D2")}
    write_spec(root / "devices.json", SimSpec(tuple(devices.values())))
    process = NetsimProcess.start(root / "devices.json", root / "state", root / "netsim.log")
    try:
        yield root, devices
    finally:
        process.stop()


def _target(devices: dict[str, DeviceSpec], name: str) -> Target:
    spec = devices[name]
    return Target(name, spec.platform, spec.host, spec.port, Credentials(USER, PASSWORD))


class DropOnce(CliSession):
    """Drops itself right after typing the first ``description`` line."""

    dropped: ClassVar[list[str]] = []

    def type(self, line: str, confirm: bool = False) -> str:
        reply = super().type(line, confirm)
        if line.startswith("description") and not self.dropped:
            self.dropped.append(line)
            self.connection.remote_conn.transport.close()  # type: ignore[union-attr]
        return reply


class DropThenRollbackFails(VrpDriver):
    """Drops its session right after typing the first ``description`` line; after reconnecting, its rollback does
    not restore the device."""

    session_class = DropOnce

    def rollback(self) -> None:
        raise RollbackError(self.target.name, "a rollback was needed", ["interface LoopBack5"])


class RejectThenDropInRollback(VrpDriver):
    """The device rejects a line; the session then drops while rolling back."""

    def rollback(self) -> None:
        self.connection.remote_conn.transport.close()  # type: ignore[union-attr]
        super().rollback()


def test_reconnected_but_the_rollback_failed_is_not_called_unreachable(sim: tuple[Path, dict[str, DeviceSpec]],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root, devices = sim
    monkeypatch.setattr(push, "driver", lambda target, options: DropThenRollbackFails(target, options))
    result = push.push([_target(devices, "D1")], {"D1": CANDIDATE}, SessionOptions(KnownHosts(root / "kh")))
    error = result.results[0].error or ""
    assert "D1: the session dropped after 'description cut'" in error
    assert "nxgov reconnected, but the rollback failed (still different: 'interface LoopBack5'): it NEEDS" in error
    assert "could not" not in error and "NEEDS ATTENTION" in error


def test_a_drop_during_the_rollback_of_a_rejected_line_says_so(sim: tuple[Path, dict[str, DeviceSpec]],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    root, devices = sim
    before = read_config(root / "state", "D2")
    monkeypatch.setattr(push, "driver", lambda target, options: RejectThenDropInRollback(target, options))
    result = push.push([_target(devices, "D2")], {"D2": "interface LoopBack8\n ipv6 address 2001:db8::zz/64\n"},
                       SessionOptions(KnownHosts(root / "kh")), state=tmp_path / "state.db")
    error = result.results[0].error or ""
    assert "D2: the device rejected 'ipv6 address 2001:db8::zz/64'; the session then dropped during the rollback (" \
           in error
    assert "the rollback did not finish: it NEEDS ATTENTION" in error
    assert "before any line was applied" not in error and "could not be reached" not in error
    assert read_config(root / "state", "D2") != before


@pytest.mark.parametrize(("recovery", "detail", "says"), [
    ("rolled back", "", "reconnected and rolled back: the running configuration is as it was before"),
    ("not reconnected", "R1: cannot reach 127.0.0.1 port 22: timed out",
     "nxgov could not open a new session to roll back (R1: cannot reach 127.0.0.1 port 22: timed out): it NEEDS "
     "ATTENTION"),
    ("rollback failed", "timed out", "nxgov reconnected, but the rollback failed (timed out): it NEEDS ATTENTION"),
])
def test_each_recovery_has_its_own_message(recovery: str, detail: str, says: str) -> None:
    error = SessionDroppedError("R1", "description cut", "the connection was closed", recovery,  # type: ignore[arg-type]
                                detail)
    assert error.message.startswith("R1: the session dropped after 'description cut' (the connection was closed)")
    assert says in error.message
    assert error.rolled_back is (recovery == "rolled back")
    assert error.hint
