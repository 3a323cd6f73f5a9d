"""Install what the OpenStack lab needs: Debian packages and a dedicated venv of pinned services."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from nxgov.errors import LabError
from nxgov.lab.apt import ensure_packages

Progress = Callable[[str], None]

REQUIRED_APT: tuple[str, ...] = ("mariadb-server", "rabbitmq-server", "openssh-server", "iproute2", "qemu-utils")
"""Debian packages: the database, Nova's and Cinder's RPC bus, what reachable servers need (sshd, ip), and
``qemu-img``, which Cinder runs on an image before writing it into a new volume."""

PINNED: tuple[str, ...] = (
    "keystone==30.0.0",
    "glance==33.0.0",
    "neutron==29.0.0",
    "nova==34.0.0",
    "openstack-placement==16.0.0",
    "cinder==29.0.0",
    "gunicorn==23.0.0",
    "PyMySQL==1.1.1",
)
"""The service venv's pinned set. The marker file holds exactly these lines once the venv is complete."""

MARKER = ".nxgov-venv-complete"


def default_lab_dir() -> Path:
    """``$NXGOV_LAB_DIR``, else ``/var/lib/nxgov/lab``."""
    env = os.environ.get("NXGOV_LAB_DIR")
    return Path(env) if env else Path("/var/lib/nxgov/lab")


def venv_dir(lab_dir: Path) -> Path:
    return lab_dir / "venv"


def ensure_installed(lab_dir: Path, progress: Progress = print) -> None:
    """Make sure the Debian packages and the service venv are present; reuse what is already complete."""
    if os.geteuid() != 0:
        raise LabError("the OpenStack lab needs root", "run `nxgov lab up` as root (it installs packages)")
    ensure_packages(REQUIRED_APT, progress)
    ensure_venv(lab_dir, progress)


def venv_complete(lab_dir: Path) -> bool:
    """Whether the service venv holds exactly the pinned set."""
    venv = venv_dir(lab_dir)
    marker = venv / MARKER
    return marker.exists() and marker.read_text() == _wanted() and (venv / "bin" / "python").exists()


def _wanted() -> str:
    return "\n".join(PINNED) + "\n"


def ensure_venv(lab_dir: Path, progress: Progress) -> Path:
    venv = venv_dir(lab_dir)
    if venv_complete(lab_dir):
        return venv
    lab_dir.mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "python").exists():
        progress(f"creating the service venv {venv}")
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
    progress("installing OpenStack services into the service venv (a few minutes on a cold cache)")
    log = lab_dir / "logs" / "pip-install.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        result = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", *PINNED],
            stdout=out, stderr=subprocess.STDOUT, check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-12:])
        raise LabError(
            f"pip could not install the OpenStack services into {venv}:\n{tail}",
            f"full log: {log}; PyPI must be reachable",
        )
    (venv / MARKER).write_text(_wanted())
    return venv


def remove_venv(lab_dir: Path) -> None:
    shutil.rmtree(venv_dir(lab_dir), ignore_errors=True)
