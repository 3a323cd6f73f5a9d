"""One run's world: a tiny valid estate, a credentials file holding a unique secret, a seeded audit log and
state store, a saved cloud plan; then the command, run as a real process, and snapshots of what it may change."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.estates_small import tiny_estate

SECRET = "corpus-Secret-5c1e8f0b-never-printed"
"""The password in every credentials file: must never appear in any output, file written or audit record."""

CPU_SECONDS = 3
"""CPU a run may use: a clean run of these commands on the tiny estate needs about 0.6 s (an alias bomb is
stopped here instead of eating the machine)."""
MEMORY_BYTES = 1 << 30
WALL_SECONDS = 60.0
OUTPUT_LIMIT = 100_000
"""No run prints more than this (a 1 MB scalar must not be echoed back)."""

CREDENTIALS = f"username: netops\npassword: {SECRET}\n"

DEVICES = ("r-640000", "r-640100", "r-640104")
"""The estate's devices: one dual-homed FRR router per site, on closed ports (a device is never reached)."""
_DEVICES = "".join(f"    - {{name: {name}, site: '{name[2:]}', platform: frr, host: 127.0.0.1, port: {n + 1}, "
                   "credentials: extranet}\n" for n, name in enumerate(DEVICES))


def estate_text(credentials: Path) -> str:
    """The tiny valid estate (as tests/estate's broken-estate BASE, with routers the IPv6 plan can link) naming
    ``credentials``."""
    return tiny_estate(credentials, _DEVICES)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


@dataclass
class Workspace:
    root: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    state_path: Path | None = None

    @property
    def estate_dir(self) -> Path:
        return self.root / "estate"

    @property
    def estate_file(self) -> Path:
        return self.estate_dir / "estate.yaml"

    @property
    def credentials(self) -> Path:
        return self.root / "creds" / "extranet.yaml"

    @property
    def state(self) -> Path:
        return self.state_path or self.root / "state.db"

    def redirect_state(self, path: Path) -> None:
        """Point ``--state`` (NXGOV_STATE) at ``path`` instead of the seeded store."""
        self.state_path = path

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.jsonl"

    @property
    def plan(self) -> Path:
        return self.root / "plan.json"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def build(self, seed: str | None) -> None:
        """Write the undamaged world; ``seed`` as in :attr:`tests.corpus.commands.Command.seed`."""
        self.credentials.parent.mkdir(mode=0o700)
        self.credentials.write_text(CREDENTIALS, encoding="utf-8")
        self.credentials.chmod(0o600)
        self.estate_dir.mkdir()
        self.estate_file.write_text(estate_text(self.credentials), encoding="utf-8")
        self.out.mkdir()
        candidates = self.root / "candidates"
        candidates.mkdir()
        for device in DEVICES:
            (candidates / f"{device}.cfg").write_text("sysname corpus\n", encoding="utf-8")
        (self.root / "clouds.yaml").write_text(_CLOUDS, encoding="utf-8")
        self.plan.write_text(json.dumps(_plan_document(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self._seed_audit()
        if seed is not None:
            self._seed_state(partial=seed == "ipv6-partial")

    def _seed_audit(self) -> None:
        from nxgov.audit import AuditLog

        log = AuditLog(self.audit_log, operator="seed")
        for n in range(1, 4):
            log.append("corpus seed", f"corpus/{n}", "ok", {"n": n})

    def _seed_state(self, partial: bool) -> None:
        from nxgov.estate import load_estate
        from nxgov.network.planstore import plan_ipv6
        from nxgov.state import StateStore
        from tests.network.estates import with_extranet

        estate = load_estate(self.estate_dir).estate
        if partial:
            assert estate.extranet is not None
            estate = with_extranet(estate, devices=[d.model_dump() for d in estate.extranet.devices[:-1]])
        with StateStore.open(self.state) as store:
            plan_ipv6(store, estate)

    def argv(self, template: tuple[str, ...]) -> list[str]:
        values = {"ws": str(self.root), "out": str(self.out), "plan": str(self.plan), "lab": str(self.root / "lab"),
                  "candidates": str(self.root / "candidates")}
        return [part.format(**values) for part in template]

    def run(self, *args: str) -> Result:
        env = {**os.environ, "NXGOV_ESTATE": str(self.estate_dir), "NXGOV_STATE": str(self.state),
               "NXGOV_AUDIT_LOG": str(self.audit_log), "NXGOV_OPERATOR": "corpus", "NXGOV_TOKEN_CACHE": "off",
               "NXGOV_STATE_BUSY_TIMEOUT": "1", "OS_CLIENT_CONFIG_FILE": str(self.root / "clouds.yaml"),
               "XDG_STATE_HOME": str(self.root / "xdg-state"), "XDG_CACHE_HOME": str(self.root / "xdg-cache"),
               "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        for name in ("NXGOV_LAB_DIR", "OS_CLOUD", "NXGOV_EXTRANET_USER", "NXGOV_EXTRANET_PASSWORD"):
            env.pop(name, None)
        proc = subprocess.run([sys.executable, "-c", "from nxgov.cli.main import run; run()", *args],
                              capture_output=True, cwd=self.root, env=env, timeout=WALL_SECONDS,
                              preexec_fn=_limits)
        return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))

    # -- what a run may change --------------------------------------------------------------------
    def snapshot(self, watches: tuple[str, ...]) -> dict[str, Any]:
        return {watch: _state_digest(self.state) if watch == "state" else _tree_digest(self.root / watch)
                for watch in watches}

    def audit_records(self) -> list[dict[str, Any]]:
        """The log's records as far as they parse (a damaged log is read leniently here)."""
        try:
            raw = self.audit_log.read_bytes()
        except OSError:
            return []
        records = []
        for line in raw.decode("utf-8", "replace").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                records.append(data)
        return records

    def written_text(self) -> str:
        """Every file in the workspace but the credentials file: the audit log, the state store, --out files,
        session logs... (a secret must not get into any of them)."""
        parts = []
        for path in sorted(self.root.rglob("*")):
            if path == self.credentials or not path.is_file():
                continue
            try:
                parts.append(path.read_bytes().decode("utf-8", "replace"))
            except OSError:
                continue
        return "\n".join(parts)

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()


_CLOUDS = "clouds: {}\n"
"""No cloud at all: a command that tries to reach a node fails at once (the plan cases must not get there)."""


def _plan_document() -> dict[str, Any]:
    """A saved plan for the workspace's estate: one project to create on yinchuan."""
    from nxgov.cloud.plan import Change, Plan
    from nxgov.cloud.resources import Resource

    project = Resource(kind="project", node="yinchuan", department="nxdrc", name="nxdrc",
                       attrs={"description": "发展改革委", "tagged": True})
    plan = Plan(estate="test", created="2026-11-27T00:00:00+00:00", fingerprint=hashlib.sha256(b"corpus").hexdigest(),
                prune=False, nodes=["yinchuan", "zhongwei"],
                changes=[Change(action="create", reason="not found on the node", desired=project)])
    return plan.to_json()


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def _state_digest(path: Path) -> str | None:
    """The store's content (its SQL dump, read-only), else its bytes; what is in its place if not a file."""
    if path.is_dir():
        return "directory " + repr(_tree_digest(path))
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dump = "\n".join(connection.iterdump())
        finally:
            connection.close()
        return "sql " + hashlib.sha256(dump.encode()).hexdigest()
    except sqlite3.Error:
        return "bytes " + hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(path: Path) -> Any:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if not path.is_dir():
        return None
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(path.rglob("*"))}
