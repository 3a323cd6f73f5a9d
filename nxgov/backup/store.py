"""A Cinder POSIX backup store as the operations host sees it (the estate's ``clouds.<node>.backup_store``).

Cinder's POSIX backup driver keeps each backup in its own container directory, ``<store>/<id[0:2]>/<id[2:4]>/<id>``,
holding the data objects ``<prefix>-00001 ...`` (each a compressed extent of the volume at an offset), the
``<prefix>_metadata`` JSON (objects, offsets, lengths, MD5s, compression, parent backup) and the
``<prefix>_sha256file`` JSON (the SHA-256 of every ``chunk_size`` block of the whole volume at the backup's point
in time: the copy's checksum manifest). An incremental backup holds only the extents that changed since its parent.

:func:`transfer` copies one backup's container from a node's store to the backup cloud's store with rsync:
``--inplace --append-verify`` so a copy killed mid-file resumes where it stopped (the objects never change once
written), ``--bwlimit`` for the rate, and rsync's own count of the bytes it sent. :func:`check_chain` reads a copy
(and the copies it builds on) back and checks every block against the manifest.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import lzma
import re
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nxgov.errors import InputError, OperationError
from nxgov.processes import end_leftovers

_SENT = re.compile(r"^Total bytes sent: ([\d,.]+)", re.MULTILINE)
_DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda data: data, "zlib": zlib.decompress, "bz2": bz2.decompress, "lzma": lzma.decompress,
}


def container_of(backup_id: str) -> str:
    """The POSIX driver's container (directory) of a backup."""
    return f"{backup_id[0:2]}/{backup_id[2:4]}/{backup_id}"


def store_path(node: str, configured: str | None) -> Path:
    """The node's store directory, checked: InputError naming the estate field when unset or missing."""
    if not configured:
        raise InputError(f"clouds.{node}.backup_store is not set in the estate",
                         f"set it to where this host reads node {node}'s Cinder backup store (the POSIX backup "
                         "driver's backup_posix_path, mounted here), e.g. /mnt/nx-backups")
    path = Path(configured)
    if not path.is_dir():
        raise OperationError(f"node {node}'s backup store {path} (clouds.{node}.backup_store) is not a directory "
                             "on this host", "mount the node's Cinder backup store there, or fix the estate")
    return path


@dataclass(frozen=True)
class Manifest:
    """A backup's two descriptive objects, as read from a store."""

    metadata: dict[str, Any]
    sha256file: dict[str, Any]
    sha256file_digest: str
    """SHA-256 of the sha256file object's bytes (what the catalog keeps to compare later reads with)."""

    @property
    def chunk_size(self) -> int:
        return int(self.sha256file["chunk_size"])

    @property
    def blocks(self) -> list[str]:
        return list(self.sha256file["sha256s"])

    @property
    def parent_id(self) -> str | None:
        parent = self.metadata.get("parent_id")
        return str(parent) if parent else None

    def objects(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, info) for entry in self.metadata["objects"] for name, info in entry.items()]


def read_manifest(store: Path, backup_id: str) -> Manifest:
    """The metadata and sha256file of backup ``backup_id`` in ``store``; OperationError when missing or unreadable."""
    directory = store / container_of(backup_id)
    found: dict[str, Path] = {}
    for suffix in ("_metadata", "_sha256file"):
        matches = sorted(directory.glob(f"*{suffix}")) if directory.is_dir() else []
        if len(matches) != 1:
            raise OperationError(f"backup {backup_id}: {directory} holds {len(matches)} '*{suffix}' objects, not one",
                                 "the copy is incomplete or damaged: run backup sync again")
        found[suffix] = matches[0]
    try:
        raw = found["_sha256file"].read_bytes()
        return Manifest(json.loads(found["_metadata"].read_bytes()), json.loads(raw), hashlib.sha256(raw).hexdigest())
    except (OSError, ValueError) as error:
        raise OperationError(f"backup {backup_id}: cannot read its manifest in {directory}: {error}",
                             "the copy is damaged: run backup sync again") from error


def stored_bytes(store: Path, backup_id: str) -> int:
    directory = store / container_of(backup_id)
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file()) if directory.is_dir() else 0


def transfer(source: Path, target: Path, backup_id: str, bwlimit: str, io_timeout: int = 60) -> int:
    """Copy backup ``backup_id``'s container from store ``source`` to store ``target``; the bytes rsync sent.

    Resumes a copy a killed run left half done (rsync processes of that earlier run still copying this container
    are ended first)."""
    container = container_of(backup_id)
    into = target / container
    end_leftovers(into)
    into.mkdir(parents=True, exist_ok=True)
    command = ["rsync", "-r", "--inplace", "--append-verify", "--stats", f"--bwlimit={bwlimit}",
               f"--timeout={io_timeout}", f"{source / container}/", f"{into}/"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise OperationError("rsync is not installed on this host", "install it: apt-get install rsync") from error
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise OperationError(f"copying backup {backup_id} to {target} failed (rsync exit {done.returncode}): {tail}",
                             "run backup sync again: the copy resumes where it stopped")
    found = _SENT.search(done.stdout)
    return int(found.group(1).replace(",", "").replace(".", "")) if found else 0


@dataclass(frozen=True)
class Damage:
    """What differs in a stored copy."""

    backup_id: str
    what: str


def check_chain(store: Path, chain: list[tuple[str, str]], sample: float = 1.0,
                chooser: Callable[[int], bool] | None = None) -> list[Damage]:
    """Read a copy back from ``store`` and check it: ``chain`` is ``(backup id, expected sha256file digest)`` from
    the full copy to the copy checked. Every data object read (all, or those ``chooser(index)`` picks when
    ``sample`` < 1) is decompressed and checked against its MD5 and the manifest's block SHA-256s; the newest copy's
    manifest must be the one recorded; every block of the volume must come from some object of the chain."""
    damage: list[Damage] = []
    covered: dict[int, str] = {}
    manifests: list[Manifest] = []
    for backup_id, digest in chain:
        try:
            manifest = read_manifest(store, backup_id)
        except OperationError as error:
            return [*damage, Damage(backup_id, error.message)]
        if manifest.sha256file_digest != digest:
            damage.append(Damage(backup_id, f"its sha256file differs from the manifest recorded at sync "
                                            f"(sha256 {manifest.sha256file_digest[:12]}, recorded {digest[:12]})"))
        manifests.append(manifest)
    newest = manifests[-1]
    for backup_id, manifest in zip((b for b, _ in chain), manifests, strict=True):
        directory = store / container_of(backup_id)
        for index, (name, info) in enumerate(manifest.objects()):
            first = int(info["offset"]) // manifest.chunk_size
            count = -(-int(info["length"]) // manifest.chunk_size)
            for block in range(first, first + count):
                covered[block] = backup_id
            if sample < 1.0 and chooser is not None and not chooser(index):
                continue
            problem = _check_object(directory / name, info, manifest)
            if problem:
                damage.append(Damage(backup_id, problem))
    missing = [i for i in range(len(newest.blocks)) if i not in covered]
    if missing:
        damage.append(Damage(chain[-1][0], f"{len(missing)} block(s) of the volume are in no object of the chain "
                                           f"(first at byte {missing[0] * newest.chunk_size})"))
    return damage


def _check_object(path: Path, info: dict[str, Any], manifest: Manifest) -> str | None:
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        return f"object {name} cannot be read: {error.strerror or error}"
    algorithm = str(info.get("compression") or "none").lower()
    try:
        data = _DECOMPRESS.get(algorithm, _DECOMPRESS["none"])(raw)
    except (zlib.error, OSError, lzma.LZMAError, ValueError) as error:
        return f"object {name} does not decompress ({algorithm}): {error}"
    if len(data) != int(info["length"]):
        return f"object {name} holds {len(data)} bytes, its metadata says {info['length']}"
    if hashlib.md5(data, usedforsecurity=False).hexdigest() != info.get("md5"):
        return f"object {name} (volume bytes {info['offset']}-{int(info['offset']) + len(data)}): MD5 differs"
    size = manifest.chunk_size
    blocks = manifest.blocks
    for i in range(0, len(data), size):
        block = (int(info["offset"]) + i) // size
        digest = hashlib.sha256(data[i:i + size]).hexdigest()
        if block < len(blocks) and digest != blocks[block]:
            return f"object {name}: block at volume byte {block * size} differs from the manifest"
    return None
