"""Keystone tokens: one per identity for all the nodes that share a Keystone, kept between runs.

Yinchuan and Zhongwei are regions of one Keystone: their clouds.yaml entries carry the same auth_url,
user and project, so one token serves both (a token's catalog covers every region). Every new token
costs Keystone a password check and costs each service behind it a validation call to Keystone on its
first request; reusing a still-valid token between runs saves both (on the lab, 0.3 s of a 1.5 s plan).

A token is kept in ``<cache>/nxgov-token-<key>.json`` (directory 0700, file 0600), where the key is a
SHA-256 of the whole ``auth`` section of the clouds.yaml entry (password included, so changed
credentials never reuse an old token) and the auth type. Only files named so are ever read or deleted,
whatever else the directory holds; a cache directory that is not the user's own, or that group or
others can write to, is refused. keystoneauth renews a token that is about to expire; a token the
service refuses (revoked) is dropped from the cache, and keystoneauth authenticates again once.
``NXGOV_TOKEN_CACHE=off`` keeps tokens in memory only; ``NXGOV_TOKEN_CACHE=<dir>`` moves the cache.

Tokens scoped to a department's project (to create its servers) are kept for the run only, never on disk, and are
dropped when nxgov makes or deletes a project of that name (:meth:`Tokens.forget`): a project deleted and made
again keeps its name but not its id, and a token of the old one (which Keystone may still accept for a while)
would make the services act in, or refuse for, the old project.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nxgov.errors import InputError
from nxgov.paths import cache_home

PREFIX = "nxgov-token-"
_OURS = re.compile(rf"{PREFIX}[0-9a-f]{{64}}\.json")
_ELSEWHERE = "point NXGOV_TOKEN_CACHE at a private directory (or set it to off)"


def default_cache() -> Path | None:
    """``$NXGOV_TOKEN_CACHE`` (``off`` for none), else ``<cache home>/tokens``."""
    env = os.environ.get("NXGOV_TOKEN_CACHE", "")
    if env.lower() in ("off", "0", "no", "false"):
        return None
    return Path(env) if env else cache_home() / "tokens"


class Tokens:
    """The auth plugins of one run, one per identity, optionally backed by a private on-disk cache."""

    def __init__(self, directory: Path | None) -> None:
        if directory is not None:
            _check_private(directory)
        self.directory = directory
        self._plugins: dict[str, Any] = {}
        self._memory_only: set[str] = set()
        self._lock = threading.Lock()

    def attach(self, conn: Any, auth: dict[str, Any], auth_type: str | None, *, on_disk: bool = True) -> None:
        """Give ``conn`` the run's plugin for this identity: an earlier connection's, or its own, loaded
        with the cached token when there is one (``on_disk`` False: kept for this run only)."""
        key = _key(auth, auth_type)
        with self._lock:
            shared = self._plugins.get(key)
            if shared is not None:
                conn.session.auth = shared
                return
            plugin = conn.session.auth
            self._plugins[key] = plugin
        if self.directory is None or not on_disk or not hasattr(plugin, "set_auth_state"):
            self._memory_only.add(key)
            return
        path = _token_file(self.directory, key)
        try:
            plugin.set_auth_state(path.read_text())
        except (OSError, ValueError, KeyError):
            plugin.set_auth_state(None)
        original_invalidate = plugin.invalidate

        def invalidate() -> bool:
            path.unlink(missing_ok=True)
            return bool(original_invalidate())

        plugin.invalidate = invalidate

    def forget(self, auth: dict[str, Any], auth_type: str | None) -> None:
        """Drop this identity's plugin and its cached token (the next connection authenticates afresh)."""
        key = _key(auth, auth_type)
        with self._lock:
            self._plugins.pop(key, None)
        if self.directory is not None:
            _token_file(self.directory, key).unlink(missing_ok=True)

    def remember(self, conn: Any) -> None:
        """Write ``conn``'s token to the cache when it is not the one cached already."""
        plugin = conn.session.auth
        if self.directory is None or not hasattr(plugin, "get_auth_state"):
            return
        state = plugin.get_auth_state()
        key = next((k for k, p in self._plugins.items() if p is plugin), None)
        if state is None or key is None or key in self._memory_only:
            return
        path = _token_file(self.directory, key)
        try:
            if path.exists() and path.read_text() == state:
                return
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(state)
            os.replace(temporary, path)
            _forget_expired(self.directory)
        except OSError:
            return


def _key(auth: dict[str, Any], auth_type: str | None) -> str:
    return hashlib.sha256(json.dumps([auth_type, auth], sort_keys=True, default=str).encode()).hexdigest()


def _token_file(directory: Path, key: str) -> Path:
    return directory / f"{PREFIX}{key}.json"


def _check_private(directory: Path) -> None:
    """Refuse a cache directory someone else could plant or swap tokens in (one not there yet is made 0700)."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise InputError(f"cannot use the token cache {directory}: {error.strerror}", _ELSEWHERE) from None
    if info.st_uid != os.geteuid():
        raise InputError(f"the token cache {directory} is owned by uid {info.st_uid}, not by you (uid {os.geteuid()})",
                         f"chown $(id -u) {directory} (as its owner or root), or {_ELSEWHERE}")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(f"the token cache {directory} is writable by group or others "
                         f"(mode {stat.S_IMODE(info.st_mode):04o})", f"chmod 700 {directory}, or {_ELSEWHERE}")


def _forget_expired(directory: Path) -> None:
    """Delete nxgov's cached tokens that have expired or cannot be read (such files would pile up: older versions
    also kept a token per department). Only files named as nxgov names them are looked at."""
    now = datetime.now(UTC)
    for path in directory.glob(f"{PREFIX}*.json"):
        if not _OURS.fullmatch(path.name):
            continue
        try:
            expires = json.loads(path.read_text())["body"]["token"]["expires_at"]
            if datetime.fromisoformat(expires.replace("Z", "+00:00")) <= now:
                path.unlink()
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
