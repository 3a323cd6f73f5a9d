"""The exporter's machinery on synthetic sources: the cache keeps the last good snapshot when a read fails and
marks the source down; a scrape builds fresh families every time; families keep one label set; --only."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from nxgov.errors import InputError, OperationError
from nxgov.estate import load_estate
from nxgov.monitor.collector import MonitorCollector, samples
from nxgov.monitor.families import FAMILIES, make_sources
from nxgov.monitor.refresh import Refresher
from nxgov.monitor.samples import Samples
from nxgov.monitor.server import Listen, parse_listen
from nxgov.monitor.source import MonitorConfig, Snapshot, Source
from tests.monitor.helpers import ROOT, exposition, parse, promtool


@dataclass(frozen=True)
class Value:
    node: str
    value: float

    def add_to(self, out: Samples) -> None:
        out.gauge("nxgov_test_value", "A test value", self.value, {"node": self.node})


class Scripted(Source):
    """Reads give the next value of ``script``; an exception in it is raised instead."""

    family = "cloud"

    def __init__(self, node: str, script: list[float | Exception]) -> None:
        self.node = node
        self.script = script
        self.calls = 0

    def read(self) -> Snapshot:
        self.calls += 3
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return Value(self.node, step)

    def api_calls(self) -> int:
        return self.calls


def test_a_failed_read_keeps_the_last_good_snapshot_and_marks_the_source_down() -> None:
    good = Refresher(Scripted("yinchuan", [1.0, 2.0]), 60)
    failing = Refresher(Scripted("zhongwei", [5.0, OperationError("node zhongwei is unreachable", "check it")]), 60)
    for refresher in (failing, good):
        refresher.refresh()
        refresher.refresh()
    last = failing.cached().last
    assert last is not None and last.error == "node zhongwei is unreachable"
    found = parse(exposition(samples([good.cached(), failing.cached()], 60, now=10**10)))
    assert found["nxgov_up"] == {(("node", "yinchuan"), ("source", "cloud")): 1,
                                 (("node", "zhongwei"), ("source", "cloud")): 0}
    assert found["nxgov_collection_api_calls"][(("node", "zhongwei"), ("source", "cloud"))] == 3
    assert found["nxgov_refresh_interval_seconds"] == {(): 60}
    ages = found["nxgov_cache_age_seconds"]
    assert ages[(("node", "zhongwei"), ("source", "cloud"))] > ages[(("node", "yinchuan"), ("source", "cloud"))]
    assert sorted(found["nxgov_test_value"].values()) == [2.0, 5.0], "the last good value of each source is served"


def test_a_source_never_read_has_no_up_yet_and_unexpected_errors_are_caught() -> None:
    fresh = Refresher(Scripted("yinchuan", []), 60)
    assert "nxgov_up" not in parse(exposition(samples([fresh.cached()], 60, now=0)))
    broken = Refresher(Scripted("yinchuan", [ValueError("bad JSON")]), 60)
    attempt = broken.refresh()
    assert attempt.error == "ValueError: bad JSON" and broken.cached().snapshot is None


def test_each_scrape_builds_fresh_families_while_reads_run() -> None:
    source = Scripted("yinchuan", [float(n) for n in range(100_000)])
    refresher = Refresher(source, 0.001)
    collector = MonitorCollector([refresher], 0.001)
    refresher.start()
    seen = set()
    try:
        for _ in range(5000):
            families = {f.name: f for f in collector.collect()}
            if "nxgov_test_value" in families:
                assert len(families["nxgov_test_value"].samples) == 1, "one sample, never an accumulated list"
                seen.add(families["nxgov_test_value"].samples[0].value)
            if len(seen) > 2:
                break
            threading.Event().wait(0.002)
    finally:
        refresher.stop()
    assert len(seen) > 1, "the values served follow the background reads"


def test_a_family_keeps_one_label_set_and_counters_end_in_total() -> None:
    out = Samples()
    out.gauge("nxgov_x", "x", 1, {"node": "a"})
    with pytest.raises(ValueError, match="labels"):
        out.gauge("nxgov_x", "x", 1, {"department": "d"})
    with pytest.raises(ValueError, match="_total"):
        out.counter("nxgov_records", "r", 1)


def test_families_are_registered_in_one_place_and_only_filters_them(tmp_path: Path) -> None:
    estate = load_estate(ROOT / "inventories" / "lab").estate
    config = MonitorConfig(estate, ROOT / "inventories" / "lab", tmp_path / "state.db", tmp_path / "audit.jsonl")
    assert list(FAMILIES) == ["cloud", "migration", "extranet", "audit", "backup"]
    every = make_sources(config)
    assert [s.key for s in every] == ["cloud/yinchuan", "cloud/zhongwei", "cloud/backup", "migration", "extranet",
                                      "audit", "backup"]
    assert [s.key for s in make_sources(config, ["audit", "migration"])] == ["migration", "audit"]
    with pytest.raises(InputError, match="no such metric family") as refused:
        make_sources(config, ["backups"])
    assert "cloud, migration, extranet, audit, backup" in (refused.value.hint or "")


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:8790", Listen("127.0.0.1", 8790)), ("[::1]:0", Listen("::1", 0)), (":9", Listen("0.0.0.0", 9)),
    ("localhost:8790", Listen("localhost", 8790))])
def test_listen_addresses(text: str, expected: Listen) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["8790", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "ops.example:8790",
                                  "[::1]8790", ""])
def test_bad_listen_addresses_are_refused_with_the_form(text: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_listen(text)
    assert "ADDRESS:PORT" in (refused.value.hint or "")


def test_the_real_exposition_passes_promtool(tmp_path: Path) -> None:
    good = Refresher(Scripted("yinchuan", [1.0]), 30)
    good.refresh()
    text = exposition(samples([good.cached()], 30, now=10**10))
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked
    bad = promtool("check", "metrics", stdin=text.replace("nxgov_test_value", "nxgov_test_value_total"))
    assert "_total" in bad.stdout + bad.stderr, f"promtool complains about a gauge named like a counter: {bad}"
