"""Cloud names derived from two different estate entries must differ: ``estate validate`` names both places."""

from __future__ import annotations

from pathlib import Path

HEAD = """\
estate: names
clouds:
  yinchuan: {cloud: nx-yinchuan, role: primary}
cloud_ipv6: 2001:db8:6500::/40
departments:
  - code: ab
    name: AB
    quotas: {cores: 8, ram_gb: 16, instances: 4}
    networks: [{name: app}]
  - code: ab-x
    name: ABX
    quotas: {cores: 8, ram_gb: 16, instances: 4}
    networks: [{name: app}]
systems:
"""


def _system(code: str, department: str, server: str) -> str:
    return (f"  - code: {code}\n    department: {department}\n    level: 2\n"
            f"    placement: {{mode: single, node: yinchuan}}\n"
            f"    servers: [{{name: {server}, flavor: m1.small, image: cirros, volumes_gb: [10]}}]\n")


def _validate(text: str, tmp_path: Path, nxgov) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    (tmp_path / "estate.yaml").write_text(text, encoding="utf-8")
    result = nxgov("-o", "json", "estate", "validate", str(tmp_path / "estate.yaml"))
    assert "Traceback" not in result.err
    assert result.code == (2 if result.json()["problems"] else 0), result.err
    return list(result.json()["problems"])


def test_two_servers_deriving_one_cloud_name_are_refused(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    text = HEAD + _system("ab-x", "ab", "web") + _system("ab", "ab", "x-web")
    problems = _validate(text, tmp_path, nxgov)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem["path"] == "systems[1].servers[0].name" and problem["line"] == 24
    assert "server ab-x-web-1" in str(problem["message"]) and "estate.yaml:19" in str(problem["message"])
    assert "rename" in str(problem["hint"])


def test_servers_of_two_departments_deriving_one_name_are_refused(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    text = HEAD + _system("ab-x", "ab", "web") + _system("ab", "ab-x", "x-web")
    problems = _validate(text, tmp_path, nxgov)
    assert [p["path"] for p in problems] == ["systems[1].servers[0].name"]


def test_two_networks_deriving_one_cloud_name_are_refused(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    text = HEAD.replace("networks: [{name: app}]\n  - code: ab-x", "networks: [{name: x-app}]\n  - code: ab-x")
    problems = _validate(text + _system("ab-web", "ab", "web"), tmp_path, nxgov)
    assert [p["path"] for p in problems] == ["departments[1].networks[0].name"]
    assert "network ab-x-app" in str(problems[0]["message"]) and "estate.yaml:9" in str(problems[0]["message"])


def test_distinct_names_validate(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    assert _validate(HEAD + _system("ab-x", "ab", "web") + _system("ab", "ab", "db"), tmp_path, nxgov) == []
