"""The combined plan as a file: what a saved plan holds, how it is read back, and what makes it stale (pure: the
lab tests in test_region_lab.py make and apply real ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nxgov.errors import InputError
from nxgov.region.parts import STAGES, Deferred, Part, RegionPlan, differences
from nxgov.region.plan import read_plan, refuse_changed


def _plan(**changes: object) -> RegionPlan:
    values: dict[str, object] = {
        "estate": "lab", "created": "2026-11-27T21:00:00+00:00", "options": {"migrate": ["labdrc-web"]},
        "parts": [Part(key="cloud:labdrc", stage="cloud", summary="create 2", detail={"changes": []}),
                  Part(key="replicate:labdrc-web", stage="replicate", summary="copy", needs=["cloud:labdrc"]),
                  Part(key="verify", stage="verify", summary="check", changes=False)],
        "deferred": [Deferred(key="sync:labedu-exam", reason="not on the cloud yet")],
        "read": {"cloud": "a" * 64, "migration": "b" * 64}}
    values.update(changes)
    return RegionPlan.model_validate(values)


def test_a_saved_plan_reads_back_equal_with_each_parts_group(tmp_path: Path) -> None:
    plan = _plan()
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan.to_json()))
    document = json.loads(path.read_text())
    assert document["schema"] == "nxgov.plan/1" and document["summary"] == {"cloud": 1, "replicate": 1, "verify": 1}
    assert [p["group"] for p in document["parts"]] == ["cloud", "migrate", "net"]
    assert read_plan(path) == plan
    refuse_changed(plan, read_plan(path), path)


def test_a_plan_of_checks_only_changes_nothing() -> None:
    assert _plan(parts=[Part(key="verify", stage="verify", summary="check", changes=False)]).empty
    assert not _plan().empty


def test_what_differs_names_each_fingerprint_and_part() -> None:
    saved = _plan()
    fresh = _plan(read={"cloud": "c" * 64, "migration": "b" * 64},
                  parts=[saved.parts[0], Part(key="test:labdrc-web", stage="test", summary="start")])
    found = differences(saved, fresh)
    assert found == [f"cloud (read {'a' * 12}, now {'c' * 12})", "part replicate:labdrc-web no longer planned",
                     "part verify no longer planned", "part test:labdrc-web newly due"]
    with pytest.raises(InputError) as refused:
        refuse_changed(saved, fresh, Path("saved.json"))
    assert "the region changed since saved.json was made" in refused.value.message
    assert "nothing was changed" in refused.value.message and "nxgov plan --out" in (refused.value.hint or "")


def test_a_plan_for_another_estate_is_refused_before_anything_is_compared() -> None:
    with pytest.raises(InputError) as refused:
        refuse_changed(_plan(estate="ningxia"), _plan(), Path("p.json"))
    assert "made for the estate 'ningxia', not 'lab'" in refused.value.message


@pytest.mark.parametrize(("content", "says"), [
    (b"{\"schema\": \"nxgov.plan/1\", \"estate\": ", "cannot read the plan"),
    (b"\xff\xfe garbage", "cannot read the plan"),
    (json.dumps({"schema": "nxgov.cloud.plan/1"}).encode(), "is not an nxgov region plan"),
    (json.dumps({**_plan().to_json(), "parts": [{"key": "x", "stage": "explode", "summary": ""}]}).encode(),
     "is damaged: parts.0"),
])
def test_a_damaged_plan_file_is_refused_naming_the_file(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as refused:
        read_plan(path)
    assert says in refused.value.message and str(path) in refused.value.message


def test_the_stages_run_each_dependency_before_what_needs_it() -> None:
    order = {stage: i for i, stage in enumerate(STAGES)}
    assert order["cloud"] < order["replicate"] < order["test"] < order["cutover"] < order["sync"] < order["drill"]
    assert order["ipv6"] < order["push"] < order["verify"] and order["assess"] < order["replicate"]
