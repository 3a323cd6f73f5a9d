"""Reading copies back from a store (nxgov.backup.store.check_chain), on stores written here in the format of
Cinder's POSIX backup driver (zlib objects, MD5 of each object's data, SHA-256 per 32 KiB block). The lab tests
(tests/backup/test_backup_lab.py) check copies cinder-backup itself wrote; these cover every kind of damage."""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path

import pytest

from nxgov.backup.store import check_chain, container_of, read_manifest
from nxgov.errors import OperationError

BLOCK = 32 * 1024
FULL = "aaaaaaaa-0000-4000-8000-000000000001"
INCR = "bbbbbbbb-0000-4000-8000-000000000002"


def write_backup(store: Path, backup_id: str, volume: bytes, extents: list[tuple[int, int]],
                 parent: str | None) -> str:
    """A backup of ``volume`` holding the ``(offset, length)`` extents; the digest of its sha256file."""
    directory = store / container_of(backup_id)
    directory.mkdir(parents=True)
    prefix = f"volume_v_20261127_backup_{backup_id}"
    objects = []
    for i, (offset, length) in enumerate(extents, start=1):
        data = volume[offset:offset + length]
        name = f"{prefix}-{i:05d}"
        (directory / name).write_bytes(zlib.compress(data))
        objects.append({name: {"offset": offset, "length": length, "compression": "zlib",
                               "md5": hashlib.md5(data).hexdigest()}})
    (directory / f"{prefix}_metadata").write_text(json.dumps({"objects": objects, "parent_id": parent}))
    sha = json.dumps({"chunk_size": BLOCK, "sha256s": [hashlib.sha256(volume[i:i + BLOCK]).hexdigest()
                                                        for i in range(0, len(volume), BLOCK)]}).encode()
    (directory / f"{prefix}_sha256file").write_bytes(sha)
    return hashlib.sha256(sha).hexdigest()


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Path, list[tuple[str, str]]]:
    first = os.urandom(8 * BLOCK)
    second = first[:2 * BLOCK] + os.urandom(BLOCK) + first[3 * BLOCK:]
    full = write_backup(tmp_path, FULL, first, [(0, 4 * BLOCK), (4 * BLOCK, 4 * BLOCK)], None)
    incremental = write_backup(tmp_path, INCR, second, [(2 * BLOCK, BLOCK)], FULL)
    return tmp_path, [(FULL, full), (INCR, incremental)]


def test_an_intact_chain_has_no_damage(chain: tuple[Path, list[tuple[str, str]]]) -> None:
    store, links = chain
    assert check_chain(store, links) == []
    assert read_manifest(store, INCR).parent_id == FULL


def test_one_flipped_byte_of_a_parent_object_is_named(chain: tuple[Path, list[tuple[str, str]]]) -> None:
    store, links = chain
    target = sorted((store / container_of(FULL)).glob("*-00002"))[0]
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    damage = check_chain(store, links)
    assert len(damage) == 1 and damage[0].backup_id == FULL
    assert target.name in damage[0].what and ("decompress" in damage[0].what or "differs" in damage[0].what)


def test_data_that_decompresses_but_differs_from_the_manifest_is_named(
        chain: tuple[Path, list[tuple[str, str]]]) -> None:
    store, links = chain
    target = sorted((store / container_of(INCR)).glob("*-00001"))[0]
    target.write_bytes(zlib.compress(os.urandom(BLOCK)))
    damage = check_chain(store, links)
    assert [d.backup_id for d in damage] == [INCR] and "MD5 differs" in damage[0].what


def test_a_manifest_other_than_the_recorded_one_is_named(chain: tuple[Path, list[tuple[str, str]]]) -> None:
    store, links = chain
    damage = check_chain(store, [links[0], (INCR, "0" * 64)])
    assert len(damage) == 1 and "differs from the manifest recorded at sync" in damage[0].what


def test_a_missing_object_and_a_missing_container_are_named(chain: tuple[Path, list[tuple[str, str]]]) -> None:
    store, links = chain
    sorted((store / container_of(FULL)).glob("*-00001"))[0].unlink()
    damage = check_chain(store, links)
    assert any("cannot be read" in d.what for d in damage)
    for path in (store / container_of(INCR)).iterdir():
        path.unlink()
    with pytest.raises(OperationError, match="holds 0 '\\*_metadata' objects"):
        read_manifest(store, INCR)
    assert check_chain(store, links)[-1].backup_id == INCR


def test_sampling_reads_only_the_chosen_objects(chain: tuple[Path, list[tuple[str, str]]]) -> None:
    store, links = chain
    target = sorted((store / container_of(FULL)).glob("*-00002"))[0]
    target.write_bytes(b"not zlib")
    assert check_chain(store, links, 0.5, lambda index: index == 0) == []    # object 2 not read
    assert check_chain(store, links, 0.5, lambda index: index == 1) != []
