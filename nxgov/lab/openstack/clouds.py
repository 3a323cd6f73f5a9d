"""Write the lab's clouds.yaml (mode 0600): an admin and a member entry per region."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from nxgov.lab.openstack.config import REGIONS, Settings


def cloud_names() -> list[str]:
    return [name for region in REGIONS for name in (f"nxlab-{region}", f"nxlab-{region}-member")]


def render(settings: Settings) -> dict[str, object]:
    clouds: dict[str, object] = {}
    for region in REGIONS:
        common = {"region_name": region, "identity_api_version": 3, "interface": "public"}
        clouds[f"nxlab-{region}"] = {
            "auth": {"auth_url": settings.keystone_url, "username": "admin", "password": settings.passwords["admin"],
                     "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"},
            **common,
        }
        clouds[f"nxlab-{region}-member"] = {
            "auth": {"auth_url": settings.keystone_url, "username": f"nxlab-{region}-member",
                     "password": settings.passwords["member"], "project_name": f"nxlab-{region}",
                     "user_domain_name": "Default", "project_domain_name": "Default"},
            **common,
        }
    return {"clouds": clouds}


def write(path: Path, settings: Settings) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# Written by `nxgov lab up`: the rehearsal lab's OpenStack regions. Secrets: keep mode 0600.\n")
        yaml.safe_dump(render(settings), out, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
