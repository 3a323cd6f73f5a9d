"""The lab's legacy hosts from the tests' side (a test-side SSH probe; nxgov's own trust is tested elsewhere): run a
command on a legacy host or a lab server, ask a health URL, and put the hosts back as the lab starts them."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import paramiko
import yaml

from tests.conftest import ROOT

LAB = Path("/var/lib/nxgov/lab")
SOURCES = {"labdrc-web": "2001:db8:ff10:1::10", "labedu-exam": "2001:db8:ff10:2::10",
           "labedu-portal": "2001:db8:ff10:3::10"}
"""The lab estate's systems and their legacy hosts' addresses."""


def _key(entry: str) -> str:
    return str(yaml.safe_load((LAB / "credentials" / f"{entry}.yaml").read_text())["ssh_key"])


def ssh(host: str, command: str, *, user: str, key: str, timeout: float = 120) -> tuple[int, str]:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # test-side probe
    client.connect(host, username=user, key_filename=key, timeout=10, allow_agent=False, look_for_keys=False)
    try:
        _, out, _ = client.exec_command(command, timeout=timeout)
        text = out.read().decode()
        return out.channel.recv_exit_status(), text
    finally:
        client.close()


def on_source(system: str, command: str) -> tuple[int, str]:
    return ssh(SOURCES[system], command, user="ops", key=_key("legacy-ssh"))


def on_target(address: str, command: str) -> tuple[int, str]:
    return ssh(address, command, user="root", key=_key("lab-servers"))


def health(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def url(address: str) -> str:
    return f"http://[{address}]:8080/health"


def as_the_lab_starts_them(systems: list[dict[str, Any]] | None = None) -> None:
    """The legacy hosts of ``systems`` (the lab estate's, by default) as the lab starts them: no retired marker, no
    big file of the lifecycle tests' kill test, each serving (a test's cutover stops a source)."""
    if systems is None:
        systems = yaml.safe_load((ROOT / "inventories" / "lab" / "estate.yaml").read_text())["systems"]
    for system in systems:
        code = system["code"]
        assert on_source(code, f"rm -f ~/NXGOV-RETIRED-{code} /srv/{code}/data/big-*.bin")[0] == 0
        if health(url(SOURCES[code])) != 200:
            on_source(code, system["service"]["start"])
