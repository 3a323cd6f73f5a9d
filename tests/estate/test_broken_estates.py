"""A corpus of broken estates, one per kind of mistake, each run through the real CLI.

Each case edits a small valid estate (``BASE``) in one place. The CLI must exit 2, name the file and
the line of the mistake, the field path, say what was wrong, give a hint, and print no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.estate.mistakes import Case, assert_located
from tests.estates_small import tiny_estate

BASE = tiny_estate("/etc/nxgov/extranet.yaml", """\
    - {name: ce-a, site: '640104', plane: A, platform: huawei_vrp, host: 127.0.0.1, port: 10022, credentials: extranet}
    - {name: ce-b, site: '640104', plane: B, platform: h3c_comware, host: 127.0.0.1, port: 10023, credentials: extranet}
    - {name: ce-r, site: '640000', platform: frr, host: 127.0.0.1, port: 10020, credentials: extranet}
    - {name: ce-c, site: '640100', platform: frr, host: 127.0.0.1, port: 10021, credentials: extranet}
""")


CASES = [
    Case("yaml-syntax", "    level: 3\n", "    level: 3\n   bad indent: [\n", "", "YAML syntax error", "indentation",
         None),
    Case("unknown-key", "    level: 3\n", "    level: 3\n    placment: {}\n", "systems[0].placment",
         "unknown key 'placment'", "did you mean 'placement'?", 1),
    Case("wrong-type", "cores: 8, ram_gb: 16, instances: 4}\n    networks:\n      - {name: app, ipv4: 10.64.2",
         "cores: eight, ram_gb: 16, instances: 4}\n    networks:\n      - {name: app, ipv4: 10.64.2",
         "departments[1].quotas.cores", "expected a whole number, got text 'eight'", "vCPU"),
    Case("missing-field", "    department: nxdrc\n", "", "systems[0]", "missing required field 'department'",
         "owning department", -1),
    Case("relative-backup-store", "  yinchuan: {cloud: nx-yinchuan, role: primary}",
         "  yinchuan: {cloud: nx-yinchuan, role: primary, backup_store: mnt/backups}", "clouds.yinchuan.backup_store",
         "backup_store 'mnt/backups' is not an absolute path", "mounts the node's backup store"),
    Case("duplicate-department", "  - code: nxedu\n", "  - code: nxdrc\n", "departments[1].code",
         "duplicate department code 'nxdrc'", "unique"),
    Case("duplicate-site", "{code: '640104', name: 兴庆区", "{code: '640100', name: 兴庆区", "extranet.sites[2].code",
         "duplicate site code '640100'", "unique"),
    Case("duplicate-device", "{name: ce-b,", "{name: ce-a,", "extranet.devices[1].name",
         "duplicate device name 'ce-a'", "unique"),
    Case("unknown-department", "    department: nxdrc\n", "    department: nxdcr\n", "systems[0].department",
         "unknown department 'nxdcr'", "did you mean 'nxdrc'?"),
    Case("unknown-site", "site: '640104', plane: A", "site: '640105', plane: A", "extranet.devices[0].site",
         "unknown site '640105'", "did you mean"),
    Case("unknown-plane", "plane: B, platform", "plane: C, platform", "extranet.devices[1].plane",
         "unknown plane 'C'", "extranet planes: A, B"),
    Case("unknown-node", "standby: zhongwei}", "standby: zhongwie}", "systems[0].placement.standby",
         "unknown primary cloud node 'zhongwie'", "did you mean 'zhongwei'?"),
    Case("overlap-ipv4", "ipv4: 10.64.2.0/24}", "ipv4: 10.64.0.0/16}", "departments[",
         "overlaps", "its own prefix", None),
    Case("overlap-ipv6", "ipv4: 10.64.2.0/24}", "ipv4: 10.64.2.0/24, ipv6: 2001:db8:6500::/56}", "departments[",
         "overlaps", "its own prefix", None),
    Case("invalid-prefix", "ipv4: 10.64.1.0/24", "ipv4: 10.64.1.300/24", "departments[0].networks[0].ipv4",
         "is not a valid IPv4 prefix", "address/length"),
    Case("host-bits", "prefix: 2001:db8:6400::/40", "prefix: 2001:db8:64::/40", "extranet.prefix",
         "has host bits set", "did you mean 2001:db8::/40?"),
    Case("missing-parent", "level: county, parent: '640100'", "level: county, parent: '640200'",
         "extranet.sites[2].parent", "unknown parent site '640200'", "did you mean '640100'?"),
    Case("parent-cycle", "level: city, parent: '640000'}\n    - {code: '640104', name: 兴庆区, level: county, "
         "parent: '640100'}", "level: city, parent: '640104'}\n    - {code: '640104', name: 兴庆区, level: county, "
         "parent: '640100'}", "extranet.sites[1].parent", "parents form a cycle", "lead up to the region", None),
    Case("unknown-platform", "platform: h3c_comware", "platform: h3c_comwar", "extranet.devices[1].platform",
         "'h3c_comwar' is not one of", "did you mean 'h3c_comware'?"),
    Case("secret-field", "  extranet: {file: /etc/nxgov/extranet.yaml}\n",
         "  extranet: {file: /etc/nxgov/extranet.yaml, password: hunter2}\n", "credentials.extranet.password",
         "looks like a secret", "0600 file"),
    Case("token-field", "estate: test\n", "estate: test\ntoken: abc\n", "token", "looks like a secret", "clouds.yaml",
         1),
    Case("duplicate-yaml-key", "    level: 3\n", "    level: 3\n    level: 2\n", "systems[0].level",
         "duplicate key 'level'", "silently", 1),
    Case("plane-not-covered", "    - {name: ce-b, site: '640104', plane: B",
         "    - {name: ce-b, site: '640100', plane: B", "extranet.sites[2]", "not attached to plane B",
         "every plane", None),
    Case("level3-no-backup", "    backup: {rpo: 4h, retain: 14d}\n", "", "systems[0].level", "has no backup policy",
         "level-3", None),
    Case("placement-mode-fields", "{mode: active-standby, primary: yinchuan, standby: zhongwei}",
         "{mode: single, primary: yinchuan}", "systems[0].placement", "needs 'node'", "add node"),
    Case("bad-division-code", "{code: '640104', name: 兴庆区", "{code: '64010x', name: 兴庆区",
         "extranet.sites[2].code", "is not an administrative division code", "GB/T 2260"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_estate_is_reported_with_location(case: Case, tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    result = assert_located(BASE, case, tmp_path, nxgov)
    assert "Traceback" not in result.err + result.out


def test_base_estate_is_valid(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "estate.yaml").write_text(BASE, encoding="utf-8")
    result = nxgov("estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 0, result.err


def test_every_problem_is_reported_at_once(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    text = BASE
    for name in ("unknown-key", "unknown-plane", "invalid-prefix", "secret-field"):
        case = next(c for c in CASES if c.name == name)
        text = text.replace(case.old, case.new, 1)
    (tmp_path / "estate.yaml").write_text(text, encoding="utf-8")
    result = nxgov("-o", "json", "estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 2
    problems = result.json()["problems"]
    assert {p["path"] for p in problems} >= {"systems[0].placment", "extranet.devices[1].plane",
                                             "departments[0].networks[0].ipv4", "credentials.extranet.password"}
    assert all(p["file"].endswith("estate.yaml") and p["line"] for p in problems)


def test_empty_file(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "estate.yaml").write_text("# nothing yet\n", encoding="utf-8")
    result = nxgov("estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 2 and "the file is empty" in result.err and "Traceback" not in result.err


def test_directory_without_yaml(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("hello")
    result = nxgov("estate", "validate", str(tmp_path))
    assert result.code == 2 and "holds no YAML files" in result.err


def test_missing_path(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    result = nxgov("estate", "validate", str(tmp_path / "nope"))
    assert result.code == 2 and "no such file or directory" in result.err


def test_non_utf8_file(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "estate.yaml").write_bytes(BASE.replace("test", "测试").encode("gbk"))
    result = nxgov("estate", "validate", str(tmp_path / "estate.yaml"))
    assert result.code == 2 and "not UTF-8" in result.err and "estate.yaml:1" in result.err


def test_split_directory_merges_and_locates_each_file(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    head, rest = BASE.split("departments:\n", 1)
    depts, rest = ("departments:\n" + rest).split("systems:\n", 1)
    (tmp_path / "a.yaml").write_text(head, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(depts, encoding="utf-8")
    (tmp_path / "c.yaml").write_text("systems:\n" + rest.replace("department: nxdrc", "department: nope"),
                                     encoding="utf-8")
    result = nxgov("estate", "validate", str(tmp_path))
    assert result.code == 2
    assert "c.yaml:3:" in result.err and "unknown department 'nope'" in result.err


def test_conflicting_scalar_across_files(tmp_path: Path, nxgov) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("estate: other\n", encoding="utf-8")
    result = nxgov("estate", "validate", str(tmp_path))
    assert result.code == 2 and "b.yaml:1" in result.err and "set again with a different value" in result.err
