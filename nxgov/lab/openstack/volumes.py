"""Where the lab keeps a Cinder volume's or snapshot's data, for tests (production code never imports nxgov.lab).

The lab's volume driver (runtime/nxlab_cinder_driver.py.txt) backs each volume and snapshot with a sparse file
of 1 MiB per GB under the region's cinder state directory: a test can write data into a volume, change part of
it, or read what a restore wrote, through these files. Each region's cinder-backup stores its backups under
``Layout(lab_dir).backup_store(region)``.
"""

from __future__ import annotations

from pathlib import Path

from nxgov.lab.openstack.config import Layout

BYTES_PER_GB = 1024 * 1024
"""The lab's scale: a volume of N GB is a file of N MiB."""


def _file(lab_dir: Path, region: str, name: str) -> Path:
    path = Layout(lab_dir).state(region, "cinder") / "nxlab-volumes" / name
    if not path.is_file():
        raise FileNotFoundError(f"no {name} in region {region} of the lab in {lab_dir} (looked for {path})")
    return path


def volume_file(lab_dir: Path, region: str, volume_id: str) -> Path:
    """The sparse file holding volume ``volume_id``'s bytes (``size`` GB is ``size`` MiB)."""
    return _file(lab_dir, region, f"volume-{volume_id}")


def snapshot_file(lab_dir: Path, region: str, snapshot_id: str) -> Path:
    """The file holding snapshot ``snapshot_id``'s bytes (a copy of its volume's file when it was taken)."""
    return _file(lab_dir, region, f"snapshot-{snapshot_id}")
