"""Debian packages the lab needs, installed on demand (we are root on Debian 12)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence

from nxgov.errors import LabError


def installed(package: str) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False)
    return out.returncode == 0 and out.stdout.strip().endswith(" installed")


def missing_packages(packages: Sequence[str]) -> list[str]:
    """The ones of ``packages`` that are not installed, in order, each once."""
    return [p for p in dict.fromkeys(packages) if not installed(p)]


def ensure_packages(packages: Sequence[str], progress: Callable[[str], None] = lambda _m: None) -> None:
    """Install the missing ones; refresh stale package lists once if apt cannot find a package."""
    missing = missing_packages(packages)
    if not missing:
        return
    progress(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    argv = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        progress("package lists are stale or missing: running apt-get update")
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True, check=False)
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    still = [p for p in missing if not installed(p)]
    if result.returncode != 0 or still:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-8:])
        raise LabError(f"the lab needs the Debian package(s) {', '.join(still or missing)} and cannot install them:\n"
                       f"{tail}", "check that the Debian apt repositories are reachable (apt-get update) and retry")
