"""Keystone tokens: one for both nodes of a Keystone, kept between runs in a private cache, never reused
for other credentials, dropped when Keystone refuses it."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from nxgov.cloud.actual import paged
from nxgov.cloud.connect import NodeClient, node_clients
from nxgov.cloud.planner import managed_nodes
from nxgov.cloud.tokens import Tokens, default_cache
from nxgov.errors import OperationError
from nxgov.estate import load_estate
from tests.cloud.conftest import LAB_ESTATE
from tests.cloud.keystone_standin import Plugin as _Plugin


def _clients(cache: Path) -> dict[str, NodeClient]:
    estate = load_estate(LAB_ESTATE).estate
    return node_clients({n: estate.clouds[n] for n in managed_nodes(estate)}, LAB_ESTATE.parent,
                        tokens=Tokens(cache))


def _token(client: NodeClient) -> str:
    return str(client.connect().session.auth.auth_ref.auth_token)


@pytest.fixture
def lab_env(lab_clouds: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(lab_clouds))
    return lab_clouds


@pytest.mark.lab
def test_nodes_share_one_token_kept_private_and_reused(lab_env: Path, tmp_path: Path) -> None:
    cache = tmp_path / "tokens"
    first = _clients(cache)
    assert _token(first["yinchuan"]) == _token(first["zhongwei"])
    files = list(cache.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    second = _clients(cache)
    assert _token(second["zhongwei"]) == _token(first["yinchuan"])
    assert isinstance(paged(second["zhongwei"].conn.network, "/networks", "networks"), list)
    assert _token(second["zhongwei"]) == _token(first["yinchuan"]), "the same token served a real call"


@pytest.mark.lab
def test_refused_token_is_dropped_and_replaced(lab_env: Path, tmp_path: Path) -> None:
    cache = tmp_path / "tokens"
    _token(_clients(cache)["yinchuan"])
    kept = next(cache.iterdir())
    state = json.loads(kept.read_text())
    state["auth_token"] = "gAAAAAB" + "x" * 180
    kept.write_text(json.dumps(state))
    again = _clients(cache)["yinchuan"]
    assert _token(again) == state["auth_token"], "loaded from the cache without a call"
    assert paged(again.conn.identity, "/projects", "projects")
    assert _token(again) != state["auth_token"]
    assert not kept.exists(), "the refused token left the cache"


@pytest.mark.lab
def test_changed_credentials_never_reuse_a_cached_token(lab_env: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "tokens"
    _token(_clients(cache)["yinchuan"])
    doc = yaml.safe_load(lab_env.read_text())
    for entry in doc["clouds"].values():
        entry["auth"]["password"] = "not-the-password"
    wrong = tmp_path / "clouds.yaml"
    wrong.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(wrong))
    with pytest.raises(OperationError, match="Keystone refused the credentials"):
        _clients(cache)["yinchuan"].connect()


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NXGOV_TOKEN_CACHE", "off")
    assert default_cache() is None
    monkeypatch.setenv("NXGOV_TOKEN_CACHE", str(tmp_path / "t"))
    assert default_cache() == tmp_path / "t"
    monkeypatch.delenv("NXGOV_TOKEN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache() == tmp_path / "nxgov" / "tokens"


def _state(token: str, expires: str) -> str:
    return json.dumps({"auth_token": token, "body": {"token": {"expires_at": expires}}})


def test_expired_and_unreadable_tokens_are_forgotten_when_a_new_one_is_kept(tmp_path: Path) -> None:
    old, bad, live = (tmp_path / f"nxgov-token-{c * 64}.json" for c in "abc")
    old.write_text(_state("a", "2020-01-01T00:00:00.000000Z"))
    bad.write_text("{")
    live.write_text(_state("c", "2999-01-01T00:00:00.000000Z"))
    conn = SimpleNamespace(session=SimpleNamespace(auth=_Plugin(_state("b", "2999-01-01T00:00:00.000000Z"))))
    tokens = Tokens(tmp_path)
    tokens.attach(conn, {"auth_url": "http://127.0.0.1:1/v3", "password": "p"}, "password")
    tokens.remember(conn)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == 2 and live.name in kept
    new = next(tmp_path / name for name in kept if name != live.name)
    assert json.loads(new.read_text())["auth_token"] == "b" and stat.S_IMODE(new.stat().st_mode) == 0o600
