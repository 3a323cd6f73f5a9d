"""The token cache touches nxgov's own, recognisably named files only, and refuses a directory others could write
to (no cloud needed: a stand-in for keystoneauth's plugin and connection)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from nxgov.cloud.tokens import Tokens, default_cache
from nxgov.errors import InputError
from tests.cloud.keystone_standin import Plugin

OTHERS = {"package.json": '{"name": "app"}', "settings.json": "{}", "notes.json": "not json", "token.json": "x"}


def _conn(expires: datetime) -> Any:
    state = json.dumps({"auth_token": "t", "body": {"token": {"expires_at": expires.isoformat()}}})
    return SimpleNamespace(session=SimpleNamespace(auth=Plugin(state)))


def _cache(tokens: Tokens, user: str, expires: datetime) -> None:
    conn = _conn(expires)
    tokens.attach(conn, {"auth_url": "http://keystone/v3", "username": user}, "password")
    tokens.remember(conn)


def test_a_cache_in_the_current_directory_deletes_only_nxgov_tokens(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "project"
    work.mkdir(mode=0o755)
    for name, text in OTHERS.items():
        (work / name).write_text(text)
    (work / "nxgov-token-junk.json").write_text("kept: not a name nxgov writes")
    monkeypatch.chdir(work)
    monkeypatch.setenv("NXGOV_TOKEN_CACHE", ".")
    tokens = Tokens(default_cache())
    now = datetime.now(UTC)
    _cache(tokens, "expired", now - timedelta(hours=1))
    _cache(tokens, "valid", now + timedelta(hours=1))
    garbage = work / f"nxgov-token-{'0' * 64}.json"
    garbage.write_text("not a token")
    _cache(tokens, "third", now + timedelta(hours=1))
    assert {name: (work / name).read_text() for name in OTHERS} == OTHERS
    assert (work / "nxgov-token-junk.json").exists()
    ours = sorted(p.name for p in work.glob("nxgov-token-*.json") if p.name != "nxgov-token-junk.json")
    assert len(ours) == 2 and garbage.name not in ours
    assert all(stat.S_IMODE((work / name).stat().st_mode) == 0o600 for name in ours)


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o1777])
def test_a_cache_directory_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    cache = tmp_path / "tokens"
    cache.mkdir()
    cache.chmod(mode)
    with pytest.raises(InputError) as raised:
        Tokens(cache)
    error = raised.value
    assert f"the token cache {cache} is writable by group or others (mode {mode:04o})" in error.message
    assert error.hint is not None and f"chmod 700 {cache}" in error.hint and "NXGOV_TOKEN_CACHE" in error.hint


def test_a_cache_directory_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "tokens"
    cache.mkdir(mode=0o700)
    owner = cache.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    with pytest.raises(InputError) as raised:
        Tokens(cache)
    assert f"the token cache {cache} is owned by uid {owner}, not by you (uid {owner + 1})" in raised.value.message
    assert raised.value.hint is not None and "chown" in raised.value.hint


def test_a_cache_directory_not_made_yet_is_made_private(tmp_path: Path) -> None:
    cache = tmp_path / "new" / "tokens"
    _cache(Tokens(cache), "u", datetime.now(UTC) + timedelta(hours=1))
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700 and len(list(cache.glob("nxgov-token-*.json"))) == 1


@pytest.fixture
def shared_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    monkeypatch.setenv("NXGOV_TOKEN_CACHE", str(cache))
    return cache


def test_cloud_plan_refuses_a_shared_cache_before_connecting(shared_cache: Path, nxgov, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    estate = tmp_path / "estate.yaml"
    estate.write_text("estate: tokentest\nclouds:\n  yinchuan: {cloud: nx-yc, region: r, role: primary}\n")
    result = nxgov("-e", str(estate), "-o", "json", "cloud", "plan")
    assert result.code == 2, result.err
    assert result.json()["error"]["message"].startswith(f"the token cache {shared_cache} is writable by group")
    assert "Traceback" not in result.err


def test_project_scoped_tokens_stay_in_memory_and_forget_drops_the_cached_one(tmp_path: Path) -> None:
    cache = tmp_path / "tokens"
    tokens = Tokens(cache)
    later = datetime.now(UTC) + timedelta(hours=1)
    scoped = _conn(later)
    tokens.attach(scoped, {"auth_url": "http://keystone/v3", "project_name": "nxdrc"}, "password", on_disk=False)
    tokens.remember(scoped)
    assert not list(cache.glob("nxgov-token-*.json"))  # a department's token never outlives the run
    _cache(tokens, "admin", later)
    assert len(list(cache.glob("nxgov-token-*.json"))) == 1
    tokens.forget({"auth_url": "http://keystone/v3", "username": "admin"}, "password")
    assert not list(cache.glob("nxgov-token-*.json"))
