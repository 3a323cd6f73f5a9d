"""The IPv6 numbering plan: layout, stability across added and removed sites, exhaustion, no overlaps, export."""

from __future__ import annotations

import csv
import io
import ipaddress
import itertools
from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.network.ipv6export import export_csv
from nxgov.network.ipv6layout import build_layout
from nxgov.network.ipv6plan import Allocation, PlanOutcome, compute_plan
from nxgov.network.planstore import load_allocations, plan_ipv6, stored_plan
from nxgov.state import StateStore
from tests.network.estates import full_scale_plan, grown, sample, site, with_extranet, without


def values(allocations: tuple[Allocation, ...] | list[Allocation]) -> dict[tuple[str, str], str]:
    return {(a.kind, a.key): a.value for a in allocations}


def store_at(tmp_path: Path) -> StateStore:
    return StateStore.open(tmp_path / "state.db")


def test_layout_of_the_regions_40() -> None:
    extranet = sample("ningxia").extranet
    assert extranet is not None
    pools = build_layout(extranet).pools
    spans = {name: (p.span, p.length, p.capacity) for name, p in pools.items()}
    assert spans == {
        "region": ("2001:db8:6410::/48", 48, 1),
        "city": ("2001:db8:6410::/44", 48, 15),
        "county": ("2001:db8:6420::/44", 52, 256),
        "township": ("2001:db8:6430::/44", 56, 4096),
        "village": ("2001:db8:6440::/44", 60, 65536),
        "loopback": ("2001:db8:6400::/96", 128, 2**32 - 1),
        "link:A": ("2001:db8:6401::/48", 64, 65536),
        "link:B": ("2001:db8:6402::/48", 64, 65536),
        "asn": ("4200000000-4294967294", 0, 94_967_295),
    }


def test_first_plan_of_the_sample(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        outcome = plan_ipv6(store, sample("ningxia"))
        assert outcome.counts() == {"new": 274, "kept": 0, "restored": 0, "reserved": 0, "released": 0}
        plan = outcome.plan()
        assert plan.site_prefix("640000") == "2001:db8:6410::/48"
        assert plan.site_prefix("640100") == "2001:db8:6411::/48"
        assert plan.site_prefix("640104") == "2001:db8:6420::/52"
        assert plan.asn("640000") == 4_200_000_000 and plan.asn("640100") == 4_200_000_001
        assert plan.loopback("ce-640000-a") == "2001:db8:6400::1" and plan.router_id("ce-640000-a") == "0.0.0.1"
        again = plan_ipv6(store, sample("ningxia"))
        assert not again.changed and values(again.allocations) == values(outcome.allocations)
        assert len(load_allocations(store, "ningxia")) == 274


def test_dry_run_stores_nothing(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        assert plan_ipv6(store, sample("ningxia"), dry_run=True).changed
        assert load_allocations(store, "ningxia") == []
        with pytest.raises(InputError, match="no IPv6 plan is stored"):
            stored_plan(store, sample("ningxia"))


def test_adding_sites_never_renumbers_another(tmp_path: Path) -> None:
    before = sample("ningxia")
    after = grown(before, [site("640600", "city", "640000"), site("640104001", "township", "640104"),
                           site("640104001001", "village", "640104001"), site("640199", "county", "640100")])
    with store_at(tmp_path) as store:
        first = plan_ipv6(store, before)
        second = plan_ipv6(store, after)
        with pytest.raises(InputError, match="out of date"):
            stored_plan(store, grown(after, [site("640198", "county", "640100")]))
    old, new = values(first.allocations), values(second.allocations)
    assert {k: new[k] for k in old} == old
    assert second.counts()["new"] == len(new) - len(old) and second.counts()["kept"] == len(old)
    assert new[("site", "640600")] == "2001:db8:6416::/48"
    assert new[("site", "640199")] == "2001:db8:6421:6000::/52"
    assert new[("site", "640104001")] == "2001:db8:6430::/56"
    assert new[("site", "640104001001")] == "2001:db8:6440::/60"


def test_removed_sites_stay_reserved_until_released(tmp_path: Path) -> None:
    full = sample("ningxia")
    with store_at(tmp_path) as store:
        first = values(plan_ipv6(store, full).allocations)
        shrunk = plan_ipv6(store, without(full, "640105"))
        reserved = {a.key for a in shrunk.reserved}
        assert {"640105", "ce-640105-a", "ce-640105-b", "ce-640105-a/A"} <= reserved
        assert "ce-640100-a/A/ce-640105-a" in reserved  # the parent's port towards it
        assert values(shrunk.allocations) == first  # nothing renumbered, the removed blocks held
        newcomer = plan_ipv6(store, grown(without(full, "640105"), [site("640199", "county", "640100")]))
        assert values(newcomer.new)[("site", "640199")] == "2001:db8:6421:6000::/52"  # not 640105's block
        back = plan_ipv6(store, grown(full, [site("640199", "county", "640100")]))
        assert {a.key for a in back.restored} == reserved
        assert {k: v for k, v in values(back.allocations).items() if k in first} == first


def test_release_frees_a_removed_sites_blocks_for_reuse(tmp_path: Path) -> None:
    full = sample("ningxia")
    with store_at(tmp_path) as store:
        plan_ipv6(store, full)
        smaller = without(full, "640105")
        with pytest.raises(InputError, match="nothing in the stored plan belongs to 649999"):
            plan_ipv6(store, smaller, release=["649999"])
        released = plan_ipv6(store, smaller, release=["640105", "ce-640105-a", "ce-640105-b"])
        assert {(a.kind, a.key) for a in released.released} >= {("site", "640105"), ("asn", "640105"),
                                                               ("loopback", "ce-640105-a"), ("link", "ce-640105-b/B")}
        assert all(a.state == "active" for a in released.allocations)
        reuse = plan_ipv6(store, grown(smaller, [site("640199", "county", "640100")]))
        assert values(reuse.new)[("site", "640199")] == "2001:db8:6420:1000::/52"  # 640105's old block


def test_a_site_that_changes_level_must_be_released(tmp_path: Path) -> None:
    base = grown(sample("ningxia"), [site("640104001", "township", "640104")])
    extranet = base.extranet
    assert extranet is not None
    moved = with_extranet(base, sites=[
        {**s.model_dump(), "level": "county", "parent": "640100"} if s.code == "640104001" else s.model_dump()
        for s in extranet.sites])
    with store_at(tmp_path) as store:
        plan_ipv6(store, base)
        with pytest.raises(InputError, match="planned in the township pool") as caught:
            plan_ipv6(store, moved)
        assert caught.value.hint is not None and "--release 640104001" in caught.value.hint
        renumbered = plan_ipv6(store, moved, release=["640104001"])
        assert values(renumbered.new)[("site", "640104001")] == "2001:db8:6421:6000::/52"


def test_a_changed_prefix_is_refused(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        plan_ipv6(store, sample("ningxia"))
        with pytest.raises(InputError, match="another extranet prefix"):
            plan_ipv6(store, with_extranet(sample("ningxia"), prefix="2001:db8:7700::/40"))


def test_a_full_level_names_level_site_parent_and_capacity() -> None:
    cities = [site(f"64{n:02d}00", "city", "640000") for n in range(6, 17)]  # 5 + 11 = 16 cities, room for 15
    with pytest.raises(InputError) as caught:
        compute_plan(grown(sample("ningxia"), cities))
    message = str(caught.value.message)
    assert "the city pool is full" in message and "city 641600" in message and "parent 640000" in message
    assert "2001:db8:6410::/44 holds 15 /48 blocks" in message
    assert caught.value.hint is not None and "--release" in caught.value.hint


def test_a_tiny_prefix_is_refused_and_a_small_one_fills_up() -> None:
    with pytest.raises(InputError, match="needs /32 to /44"):
        compute_plan(with_extranet(sample("ningxia"), prefix="2001:db8:6400::/48"))
    with pytest.raises(InputError, match="the city pool is full: no room for city 640100") as caught:
        compute_plan(with_extranet(sample("ningxia"), prefix="2001:db8:6400::/44"))
    assert "holds 0 /48 blocks" in caught.value.message


def test_management_addresses_inside_the_plan_are_refused() -> None:
    extranet = sample("ningxia").extranet
    assert extranet is not None
    devices = [{**d.model_dump(), "host": "2001:db8:6420::9"} if d.name == "ce-640104-a" else d.model_dump()
               for d in extranet.devices]
    with pytest.raises(InputError, match="overlaps management addresses: device ce-640104-a host 2001:db8:6420::9"):
        compute_plan(with_extranet(sample("ningxia"), devices=devices))


def _intervals(outcome: PlanOutcome) -> list[tuple[int, int, str]]:
    out = []
    for allocation in outcome.allocations:
        if allocation.kind in ("site", "link", "loopback"):
            network = ipaddress.IPv6Network(allocation.value)
            out.append((int(network.network_address), int(network.broadcast_address), allocation.key))
    return sorted(out)


def test_full_scale_has_no_overlaps_and_unique_numbers() -> None:
    outcome = full_scale_plan()
    counts = {kind: sum(1 for a in outcome.allocations if a.kind == kind) for kind in ("site", "loopback", "link")}
    assert counts == {"site": 2932, "loopback": 5864, "link": 5862}
    intervals = _intervals(outcome)
    prefix = ipaddress.IPv6Network("2001:db8:6400::/40")
    assert int(prefix.network_address) <= intervals[0][0] and intervals[-1][1] <= int(prefix.broadcast_address)
    for (_, end, key), (start, _, other) in itertools.pairwise(intervals):
        assert end < start, f"{key} overlaps {other}"
    plan = outcome.plan()
    asns = {plan.asn(code) for code in outcome.topology.sites}
    router_ids = {plan.router_id(name) for name in outcome.topology.devices}
    assert len(asns) == 2932 and len(router_ids) == 5864
    ports = [(a.pool, a.value) for a in outcome.allocations if a.kind == "port"]
    assert len(ports) == len(set(ports)) == 2 * 5862


def test_csv_export_is_netbox_prefix_import(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        plan_ipv6(store, sample("ningxia"))
        outcome = plan_ipv6(store, without(sample("ningxia"), "640105"))
    rows = list(csv.DictReader(io.StringIO(export_csv(outcome.allocations, outcome.layout))))
    assert rows and set(rows[0]) == {"prefix", "status", "description"}
    assert {r["status"] for r in rows} == {"container", "active", "reserved"}
    for row in rows:
        ipaddress.IPv6Network(row["prefix"])  # strict: no host bits
    prefixes = [r["prefix"] for r in rows]
    assert len(prefixes) == len(set(prefixes))
    assert {"prefix": "2001:db8:6420:1000::/52", "status": "reserved", "description": "county 640105 西夏区"} in rows


def test_a_change_that_cannot_be_audited_is_not_stored(tmp_path: Path) -> None:
    from nxgov.errors import AuditError

    seen: list[PlanOutcome] = []

    def refuse(outcome: PlanOutcome) -> None:
        seen.append(outcome)
        raise AuditError("cannot write the audit log")

    with store_at(tmp_path) as store:
        with pytest.raises(AuditError):
            plan_ipv6(store, sample("ningxia"), on_change=refuse)
        assert len(seen) == 1 and load_allocations(store, "ningxia") == []
        plan_ipv6(store, sample("ningxia"), on_change=seen.append)
        plan_ipv6(store, sample("ningxia"), on_change=refuse)
        plan_ipv6(store, sample("ningxia"), dry_run=True, release=["640104"], on_change=refuse)
    assert len(seen) == 2, "called once per run that changes something, never on a dry run"
