"""Bad input and faults, each reported with the node, department, system and fix, before any change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.cloud.conftest import LabEstate, Run

pytestmark = pytest.mark.lab


def test_unknown_flavor_and_image_named_before_any_change(cli: Callable[..., Run], estate: LabEstate) -> None:
    estate.doc.pop("flavors")  # with the estate's flavor table, estate validation would refuse m1.huge first
    estate.doc["systems"][0]["servers"][0]["flavor"] = "m1.huge"
    estate.doc["systems"][1]["servers"][0]["image"] = "kylin-v10"
    estate.write()
    run = cli("cloud", "apply", "--yes", estate=estate.path)
    assert run.code == 2
    text = " ".join(run.err.split())
    assert f"system {estate.name}d-web (department {estate.name}d) asks for flavor 'm1.huge', which node yinchuan" \
           in text
    assert "image 'kylin-v10'" in text and "m1.tiny" in text and "nothing was changed" in text
    assert "to create" not in run.out


def test_quota_warning_shown_in_plan(cli: Callable[..., Run], estate: LabEstate) -> None:
    estate.doc["departments"][1]["quotas"]["instances"] = 1
    estate.write()
    run = cli("cloud", "plan", estate=estate.path)
    assert run.code == 0, run.err
    assert f"department {estate.name}e on node zhongwei: its servers need instances 2 but its quota is 1" in \
        " ".join(run.out.split())


def _clouds(tmp_path: Path, lab_clouds: Path, **changes: str) -> Path:
    doc = yaml.safe_load(lab_clouds.read_text())
    for entry in ("nxlab-yinchuan", "nxlab-zhongwei"):
        doc["clouds"][entry]["auth"].update(changes)
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_missing_entry_wrong_credentials_unreachable(cli: Callable[..., Run], estate: LabEstate,
                                                    lab_clouds: Path, tmp_path: Path) -> None:
    estate.doc["clouds"]["zhongwei"]["cloud"] = "nxlab-nowhere"
    estate.write()
    missing = cli("cloud", "plan", estate=estate.path)
    assert missing.code == 2 and "node zhongwei: clouds.yaml entry 'nxlab-nowhere' not found" in missing.err
    estate.doc["clouds"]["zhongwei"]["cloud"] = "nxlab-zhongwei"
    estate.write()

    wrong = cli("cloud", "plan", estate=estate.path,
                extra_env={"OS_CLIENT_CONFIG_FILE": str(_clouds(tmp_path, lab_clouds, password="wrong"))})
    assert wrong.code == 1 and "Keystone refused the credentials of clouds.yaml entry" in wrong.err

    down = cli("cloud", "plan", estate=estate.path,
               extra_env={"OS_CLIENT_CONFIG_FILE": str(_clouds(tmp_path, lab_clouds,
                                                               auth_url="http://127.0.0.1:9/v3"))})
    assert down.code == 1 and "is unreachable" in down.err and "Traceback" not in down.err
