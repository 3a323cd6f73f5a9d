"""Default locations of nxgov's files, each overridable by an environment variable or an option."""

from __future__ import annotations

import os
from pathlib import Path


def state_home() -> Path:
    """``$XDG_STATE_HOME/nxgov``, by default ``~/.local/state/nxgov``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nxgov"


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/nxgov``, by default ``~/.cache/nxgov``: what can be rebuilt (Keystone tokens)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nxgov"


def default_audit_log() -> Path:
    """``$NXGOV_AUDIT_LOG``, else ``<state home>/audit.jsonl``."""
    env = os.environ.get("NXGOV_AUDIT_LOG")
    return Path(env) if env else state_home() / "audit.jsonl"


def default_state_db() -> Path:
    """``$NXGOV_STATE``, else ``<state home>/state.db``."""
    env = os.environ.get("NXGOV_STATE")
    return Path(env) if env else state_home() / "state.db"


def default_known_hosts() -> Path:
    """``$NXGOV_KNOWN_HOSTS``, else ``<state home>/known_hosts``: the SSH host keys nxgov trusts, in its own directory
    whatever ``--state`` names (a state file in /tmp must not put the trust anchors there)."""
    env = os.environ.get("NXGOV_KNOWN_HOSTS")
    return Path(env) if env else state_home() / "known_hosts"


def default_estate() -> Path:
    """``$NXGOV_ESTATE``, else ``inventories/ningxia`` (the embedded default, found beside the package)."""
    env = os.environ.get("NXGOV_ESTATE")
    if env:
        return Path(env)
    return project_root() / "inventories" / "ningxia"


def project_root() -> Path:
    """The checkout nxgov runs from (holds ``inventories/``, ``playbooks/``)."""
    return Path(__file__).resolve().parent.parent
