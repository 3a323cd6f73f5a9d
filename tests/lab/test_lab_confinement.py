"""What the lab writes stays in the lab directory: a credentials file the estate names outside it is refused before
anything is read or written (no root, no lab: the check runs before the lab needs either)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nxgov.errors import InputError
from nxgov.estate import load_estate
from nxgov.lab.manager import Lab, confined
from tests.conftest import ROOT


def test_a_path_inside_the_lab_directory_is_kept(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    assert confined(lab, "extranet", lab / "credentials" / "extranet.yaml") == lab / "credentials" / "extranet.yaml"
    assert confined(lab, "extranet", lab / "credentials" / ".." / "x.yaml") == lab / "x.yaml"


@pytest.mark.parametrize("where", ["/etc/nxgov-lab-test.yaml", "{tmp}/lab/../outside.yaml", "{tmp}/lab-other/x.yaml",
                                   "{tmp}/lab"])
def test_a_path_outside_the_lab_directory_is_refused(tmp_path: Path, where: str) -> None:
    lab = tmp_path / "lab"
    path = Path(where.format(tmp=tmp_path))
    with pytest.raises(InputError) as raised:
        confined(lab, "extranet", path)
    error = raised.value
    assert f"credentials entry 'extranet': the lab writes only inside its directory {lab}, not {path}" in error.message
    assert error.hint is not None and f"{lab}/" in error.hint


def test_a_symlink_out_of_the_lab_directory_is_refused(tmp_path: Path) -> None:
    lab, outside = tmp_path / "lab", tmp_path / "etc"
    lab.mkdir()
    outside.mkdir()
    (lab / "credentials").symlink_to(outside)
    with pytest.raises(InputError, match="the lab writes only inside its directory"):
        confined(lab, "extranet", lab / "credentials" / "extranet.yaml")


def _lab(tmp_path: Path, name: str, path: Path) -> Lab:
    """The lab estate with its credentials under ``tmp_path/lab``, but entry ``name``'s at ``path``."""
    lab = tmp_path / "lab"
    doc = yaml.safe_load((ROOT / "inventories" / "lab" / "estate.yaml").read_text(encoding="utf-8"))
    for entry, ref in doc["credentials"].items():
        ref["file"] = str(path if entry == name else lab / "credentials" / f"{entry}.yaml")
    (tmp_path / "estate.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return Lab(lab, load_estate(tmp_path / "estate.yaml").estate)


def test_credentials_outside_the_lab_dir_are_refused_before_anything_is_touched(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "passwd"
    target.parent.mkdir()
    target.write_text("root:x:0:0::/root:/bin/sh\n")
    lab = _lab(tmp_path, "extranet", target)
    with pytest.raises(InputError, match="credentials entry 'extranet': the lab writes only inside its directory"):
        lab.check_credentials()
    assert target.read_text() == "root:x:0:0::/root:/bin/sh\n"
    assert not (tmp_path / "lab").exists()


def test_the_dry_run_refuses_it_too(tmp_path: Path) -> None:
    lab = _lab(tmp_path, "legacy-ssh", Path("/etc/nxgov-lab-test.yaml"))
    with pytest.raises(InputError, match="credentials entry 'legacy-ssh'"):
        lab.plan()


def test_credentials_inside_the_lab_dir_are_accepted(tmp_path: Path) -> None:
    lab = _lab(tmp_path, "extranet", tmp_path / "lab" / "extranet.yaml")
    assert lab.check_credentials() == {"extranet": tmp_path / "lab" / "extranet.yaml",
                                       "lab-frr": tmp_path / "lab" / "credentials" / "lab-frr.yaml",
                                       "legacy-ssh": tmp_path / "lab" / "credentials" / "legacy-ssh.yaml",
                                       "lab-servers": tmp_path / "lab" / "credentials" / "lab-servers.yaml"}


def test_the_lab_estate_writes_inside_the_default_lab_directory() -> None:
    estate = load_estate(ROOT / "inventories" / "lab").estate
    assert len(Lab(Path("/var/lib/nxgov/lab"), estate).check_credentials()) == 4
