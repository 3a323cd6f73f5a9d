"""The catalog's rules, on a real state store and the lab estate (no cloud): which copies prune removes (never the
last good one, never a parent of a kept one), what status reports against the RPO and the drill frequency, and
when a sync starts a new full copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nxgov.backup import catalog
from nxgov.backup.policy import protected_systems, protected_volumes
from nxgov.backup.prune import expired
from nxgov.backup.status import backup_status
from nxgov.errors import InputError
from nxgov.estate import load_estate
from nxgov.estate.model import Estate
from nxgov.state import StateStore
from tests.conftest import ROOT

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
VOLUME = "labdrc-web-web-1-data1"


@pytest.fixture
def estate() -> Estate:
    return load_estate(ROOT / "inventories" / "lab").estate


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore.open(tmp_path / "state.db")


def good(store: StateStore, started: datetime, kind: str, parent: str | None, backup: str,
         node: str = "yinchuan") -> catalog.Copy:
    copy = catalog.open_copy(store, "labdrc-web", node, VOLUME, "vol-1", "backup", kind)
    return catalog.update(store, copy.id, state="good", started=started.isoformat(), finished=started.isoformat(),
                          backup_id=backup, parent_id=parent, size_bytes=1 << 30)


def test_prune_keeps_the_last_good_copy_and_every_parent_of_a_kept_copy(estate: Estate, store: StateStore) -> None:
    full1 = good(store, T0, "full", None, "b1")
    inc1 = good(store, T0 + timedelta(hours=1), "incremental", "b1", "b2")
    full2 = good(store, T0 + timedelta(days=2), "full", None, "b3")
    inc2 = good(store, T0 + timedelta(days=2, hours=1), "incremental", "b3", "b4")
    # retain 1d: at T0+3d, only inc2 is young enough... and full2 is its parent
    gone = expired(estate, store, when=T0 + timedelta(days=3, hours=1, minutes=30))
    assert [g.copy.id for g in gone] == [inc1.id, full1.id]    # children before parents
    # much later: nothing young remains, the last good copy and its chain stay
    assert {g.copy.id for g in expired(estate, store, when=T0 + timedelta(days=30))} == {inc1.id, full1.id}
    assert catalog.chain(store, inc2) == [full2, inc2]


def test_status_reports_rpo_breach_by_how_much_and_an_overdue_drill(estate: Estate, store: StateStore) -> None:
    for node in ("yinchuan", "zhongwei"):
        good(store, T0, "full", None, f"b-{node}", node)
    rows = {r.system: r for r in backup_status(estate, store, when=T0 + timedelta(minutes=30))}
    web = rows["labdrc-web"]
    assert web.rpo_met is True and web.volumes == 2 and web.breached_by_s is None
    assert web.drill_overdue is True                  # never drilled: due now
    late = {r.system: r for r in backup_status(estate, store, when=T0 + timedelta(hours=3))}["labdrc-web"]
    assert late.rpo_met is False and late.breached_by_s == pytest.approx(2 * 3600)
    assert rows["labedu-exam"].rpo_met is None        # no data volume: no RPO to meet
    drill = catalog.open_drill(store, "labdrc-web", "backup", "nxdrill-x", [1])
    catalog.close_drill(store, drill, "passed", 12.0, [], True, "")
    ended = catalog.parse_time(catalog.drills(store, "labdrc-web")[-1].ended or "")
    soon = {r.system: r for r in backup_status(estate, store, when=ended + timedelta(days=6))}["labdrc-web"]
    later = {r.system: r for r in backup_status(estate, store, when=ended + timedelta(days=8))}["labdrc-web"]
    assert soon.drill_overdue is False and later.drill_overdue is True    # weekly


def test_one_volume_without_a_good_copy_breaches_the_system(estate: Estate, store: StateStore) -> None:
    good(store, T0, "full", None, "b1")
    web = {r.system: r for r in backup_status(estate, store, when=T0)}["labdrc-web"]
    assert web.last_good is None and web.rpo_met is False and web.attention


def test_protected_volumes_follow_the_placement_and_unknown_systems_are_refused(estate: Estate) -> None:
    systems = protected_systems(estate)
    assert [s.code for s in systems] == ["labdrc-web", "labedu-exam"]
    assert {(v.node, v.volume) for v in protected_volumes(estate, systems) if v.system == "labdrc-web"} == {
        ("yinchuan", VOLUME), ("zhongwei", VOLUME)}
    with pytest.raises(InputError, match="no backup policy"):
        protected_systems(estate, ["labedu-portal"])
    with pytest.raises(InputError) as caught:
        protected_systems(estate, ["labdrc-wbe"])
    assert "did you mean 'labdrc-web'" in (caught.value.hint or "")
