"""The damage cases of the bad-input corpus and what every command must do under each (issue 9 §3).

Every case damages one input of an otherwise valid workspace (``workspace.py``); every command of the
registry (``commands.py``) that reads that input runs under it, with ``-o json``. Each run must:

- exit with the code below (README "Exit codes": 2 bad input, nothing changed; 1 operation failed);
- when it fails, say so on stderr naming the damaged file, and the line where the damage has one;
- print no ``Traceback``, and at most 100 kB (a 1 MB scalar is not echoed back);
- print exactly one JSON document on stdout (``{"ok": false, "error": ...}`` for exit 2);
- never show the credentials' secret: not in stdout, stderr, the audit log or any file written;
- change nothing (state store, files written) unless the audit log gained a record of the change.

Expected exit codes, by what the command does with the damaged input (``reader``: only reads it;
``mutator``: writes it, or writes and audits; ``ignores``: does not read it, so its undamaged code):

=========================== ===================================================== ====== ======= ========
case                        damage                                                reader mutator ignores
=========================== ===================================================== ====== ======= ========
estate-yaml-tag             ``estate: !foo test``                                 2      2       -
estate-python-name          ``!!python/name:os.system ''`` as a value             2      2       -
estate-alias-bomb           billion laughs: 9 levels of 9 aliases                 2      2       -
estate-merge-key            ``<<: *quotas`` (YAML 1.1 merge: refused, not merged) 2      2       -
estate-not-utf8             a GBK-encoded name on line 10                         2      2       -
estate-deep-nesting         ``[[[...]]]`` 10,000 deep                             2      2       -
estate-huge-scalar          a 1 MB value where a level (1-5) is expected          2      2       -
credentials-*               the same seven, in the credentials file the estate    2      2       -
                            names (with the secret in it)
plan-truncated              the saved plan cut in half                            -      2       -
plan-other-schema           another document (``nxgov.estate.validate/1``)        -      2       -
plan-edited-action          a change's action edited to ``explode``               -      2       -
plan-edited-fingerprint     fingerprint edited to something not a SHA-256         -      2       -
plan-other-estate           a plan made for another estate                        -      2       -
plan-not-utf8               garbage bytes                                         -      2       -
migplan-yaml-tag            a migration plan file with ``estate: !foo test``      2      -       -
migplan-unknown-system      a wave naming a system the estate does not have       2      -       -
migplan-no-source           a wave naming a system without ``source``             2      -       -
migplan-other-estate        a migration plan made for another estate              2      -       -
migplan-not-utf8            a GBK-encoded note in the migration plan              2      -       -
state-corrupt               the store overwritten with garbage bytes              2      2       clean
state-truncated             the store cut to half its size (pages lost)           2      2       clean
state-locked                another process holds ``BEGIN EXCLUSIVE``             0      1       clean
state-newer-schema          ``user_version`` above what this nxgov knows          2      2       clean
state-read-only             the store unwritable (chattr +i, or mode 0400)        0      1       clean
state-is-directory          a directory where the store should be                 2      2       clean
state-parent-is-file        the store's parent directory is a regular file        2      2       clean
audit-torn                  the last record cut short (a write cut off)           1      1       clean
audit-tail-deleted          the last record deleted (head anchor says more)       0/1*   1       clean
audit-edited                a middle record's operator edited                     0/1*   1       clean
audit-read-only             the log and its head immutable                        0      1       clean
=========================== ===================================================== ====== ======= ========

``*`` ``audit show`` reads records without checking the chain (0); ``audit verify`` checks it (1, naming
the line); a mutator refuses to append to a log whose chain is broken anywhere (1, nothing changed: keep
the log as evidence, start a new one). The plan cases are refused before any cloud contact (the
workspace's clouds.yaml names no cloud). Locked and read-only are operational (1: retry, or make
it writable), the rest of the state cases are a ``--state`` that names something that is not a usable
store (2). A failing run changes nothing.

Cases whose fix belongs to another part of issue 9 are marked ``xfail(strict=True)`` in :data:`XFAIL`.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from tests.corpus.commands import Command
from tests.corpus.workspace import SECRET, Workspace

Damage = Callable[[Workspace], Collection[int] | None]
"""Damages the workspace; returns the lines an error may name (None: the damage has no line)."""


@dataclass(frozen=True)
class Case:
    name: str
    target: str
    file: Callable[[Workspace], Path]
    damage: Damage
    codes: dict[str, int]
    """Exit code per role (``reader``, ``mutator``) or per command name; ``ignores`` is always the clean code, and
    0 stands for "as on the undamaged workspace" (the clean code: 3 for a status that reports attention)."""
    says: tuple[str, ...] = ()
    """Words stderr must hold when the run fails (case-insensitive), beside the file's name."""

    def expected(self, command: Command) -> int:
        role = command.role(self.target)
        return self.codes[command.name] if command.name in self.codes else (
            self.codes[role] if self.fails(command) else command.clean_code)

    def fails(self, command: Command) -> bool:
        """Whether the damage makes ``command`` fail (then it must name the damaged file)."""
        if command.name in self.codes:
            return self.codes[command.name] != 0
        role = command.role(self.target)
        return role != "ignores" and self.codes[role] != 0


def _line_of(text: str, needle: str) -> int:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


# -- YAML damage, for estates and credentials files ---------------------------------------------------
def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["x-lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, levels):
        lines.append(f"x-lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _estate(edit: Callable[[str], tuple[str | bytes, Collection[int] | None]]) -> Damage:
    def damage(ws: Workspace) -> Collection[int] | None:
        text, lines = edit(ws.estate_file.read_text(encoding="utf-8"))
        if isinstance(text, bytes):
            ws.estate_file.write_bytes(text)
        else:
            ws.estate_file.write_text(text, encoding="utf-8")
        return lines
    return damage


def _estate_tag(text: str) -> tuple[str, Collection[int]]:
    return text.replace("estate: test\n", "estate: !foo test\n", 1), {1}


def _estate_python_name(text: str) -> tuple[str, Collection[int]]:
    new = text.replace("    level: 3\n", "    level: !!python/name:os.system ''\n", 1)
    return new, {_line_of(new, "!!python")}


def _estate_bomb(text: str) -> tuple[str, Collection[int]]:
    bomb = _bomb()
    return bomb + text, set(range(1, bomb.count("\n") + 1))


def _estate_merge(text: str) -> tuple[str, Collection[int]]:
    first = "    quotas: {cores: 8, ram_gb: 16, instances: 4}\n    networks:\n      - {name: app, ipv4: 10.64.1"
    second = "    quotas: {cores: 8, ram_gb: 16, instances: 4}\n    networks:\n      - {name: app, ipv4: 10.64.2"
    new = text.replace(first, first.replace("quotas: {", "quotas: &quotas {"), 1)
    new = new.replace(second, second.replace("quotas: {cores: 8, ", "quotas: {<<: *quotas, "), 1)
    return new, {_line_of(new, "<<")}


def _estate_not_utf8(text: str) -> tuple[bytes, Collection[int]]:
    line = _line_of(text, "发展改革委")
    return text.encode("utf-8").replace("发展改革委".encode(), "发展改革委".encode("gbk"), 1), {line}


def _deep(depth: int = 10_000) -> str:
    return "[" * depth + "]" * depth


def _estate_deep(text: str) -> tuple[str, Collection[int]]:
    new = text + f"x-deep: {_deep()}\n"
    return new, {_line_of(new, "x-deep")}


def _estate_huge(text: str) -> tuple[str, Collection[int]]:
    new = text.replace("    level: 3\n", f"    level: {'3' * 1_000_000}x\n", 1)
    return new, {_line_of(new, "333")}


def _credentials(content: str | bytes, lines: Collection[int] | None) -> Damage:
    def damage(ws: Workspace) -> Collection[int] | None:
        if isinstance(content, bytes):
            ws.credentials.write_bytes(content)
        else:
            ws.credentials.write_text(content, encoding="utf-8")
        ws.credentials.chmod(0o600)
        return lines
    return damage


_USER = "username: netops\n"
_PASSWORD = f"password: {SECRET}\n"


# -- saved cloud plans -------------------------------------------------------------------------------
def _plan_edit(edit: Callable[[str], str | bytes], lines: Callable[[str | bytes], Collection[int] | None]) -> Damage:
    def damage(ws: Workspace) -> Collection[int] | None:
        new = edit(ws.plan.read_text(encoding="utf-8"))
        if isinstance(new, bytes):
            ws.plan.write_bytes(new)
        else:
            ws.plan.write_text(new, encoding="utf-8")
        return lines(new)
    return damage


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


def _last_lines(text: str | bytes) -> Collection[int]:
    count = (text.count("\n") if isinstance(text, str) else text.count(b"\n")) + 1
    return {count - 1, count}


# -- migration plan files (``migrate plan --check``) --------------------------------------------------
_MIGRATION_PLAN = """\
schema: nxgov.migrate.plan/1
estate: test
created: '2026-11-27T00:00:00+00:00'
start: '2026-11-30T00:00:00+08:00'
max_per_wave: 10
waves: []
not_planned:
- {code: nxdrc-oa, department: nxdrc, reason: 'no source: nothing to migrate'}
notes: []
"""
_WAVE = """\
waves:
- wave: 1
  window: {start: '2026-12-05T22:00:00+08:00', end: '2026-12-06T06:00:00+08:00'}
  systems:
  - {code: SYSTEM, department: nxdrc, targets: [yinchuan, zhongwei]}
"""


def _migration_plan(edit: Callable[[str], str | bytes], needle: str | None) -> Damage:
    """Write the workspace's migration plan file (an empty plan for its estate), edited; the error's line is the
    line holding ``needle``."""
    def damage(ws: Workspace) -> Collection[int] | None:
        new = edit(_MIGRATION_PLAN)
        if isinstance(new, bytes):
            _migration_plan_file(ws).write_bytes(new)
            return None
        _migration_plan_file(ws).write_text(new, encoding="utf-8")
        return {_line_of(new, needle)} if needle else None
    return damage


def _with_wave(system: str) -> Callable[[str], str]:
    return lambda text: text.replace("waves: []\n", _WAVE.replace("SYSTEM", system))


def _migration_plan_file(ws: Workspace) -> Path:
    return ws.root / "migrate-plan.yaml"


# -- state stores ------------------------------------------------------------------------------------
def _state_corrupt(ws: Workspace) -> None:
    ws.state.write_bytes(bytes(range(256)) * 16)
    for suffix in ("-wal", "-shm"):
        Path(f"{ws.state}{suffix}").unlink(missing_ok=True)


def _state_truncated(ws: Workspace) -> None:
    _store_exists(ws)
    data = ws.state.read_bytes()
    ws.state.write_bytes(data[: len(data) // 2])


def _state_locked(ws: Workspace) -> None:
    _store_exists(ws)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(ws.state)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"

    def release() -> None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    ws.cleanups.append(release)


_HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


def _state_newer(ws: Workspace) -> None:
    _store_exists(ws)
    connection = sqlite3.connect(ws.state, isolation_level=None)
    try:
        connection.execute("PRAGMA user_version = 99")
    finally:
        connection.close()


def _state_read_only(ws: Workspace) -> None:
    _store_exists(ws)
    make_read_only(ws, ws.state)


def _state_is_directory(ws: Workspace) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ws.state}{suffix}").unlink(missing_ok=True)
    ws.state.mkdir()


def _state_parent_is_file(ws: Workspace) -> None:
    parent = ws.root / "not-a-dir"
    parent.write_text("a file\n", encoding="utf-8")
    ws.redirect_state(parent / "state.db")


def _store_exists(ws: Workspace) -> None:
    if not ws.state.exists():
        from nxgov.state import StateStore

        StateStore.open(ws.state).close()


def make_read_only(ws: Workspace, path: Path) -> None:
    """Make ``path`` unwritable even for root (``chattr +i``), else by mode; undone when the workspace closes."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        ws.cleanups.append(lambda: _chattr_minus_i(path))
    else:
        path.chmod(0o400)
        ws.cleanups.append(lambda: path.chmod(0o600))


def _chattr_minus_i(path: Path) -> None:
    subprocess.run(["chattr", "-i", str(path)], check=True)


# -- audit logs --------------------------------------------------------------------------------------
def _audit_torn(ws: Workspace) -> Collection[int]:
    raw = ws.audit_log.read_bytes()
    ws.audit_log.write_bytes(raw[:-40])
    return {3}


def _audit_tail_deleted(ws: Workspace) -> Collection[int]:
    lines = ws.audit_log.read_bytes().splitlines(keepends=True)
    ws.audit_log.write_bytes(b"".join(lines[:-1]))
    return {3}


def _audit_edited(ws: Workspace) -> Collection[int]:
    lines = ws.audit_log.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"operator":"seed"', b'"operator":"mallory"')
    ws.audit_log.write_bytes(b"".join(lines))
    return {2}


def _audit_read_only(ws: Workspace) -> None:
    make_read_only(ws, ws.audit_log)
    make_read_only(ws, ws.audit_log.with_name(ws.audit_log.name + ".head"))


def _estate_file(ws: Workspace) -> Path:
    return ws.estate_file


def _credentials_file(ws: Workspace) -> Path:
    return ws.credentials


def _plan_file(ws: Workspace) -> Path:
    return ws.plan


def _state_file(ws: Workspace) -> Path:
    return ws.state


def _audit_file(ws: Workspace) -> Path:
    return ws.audit_log


_BAD = {"reader": 2, "mutator": 2}
_UNUSABLE_STORE = ("state store",)

CASES: tuple[Case, ...] = (
    Case("estate-yaml-tag", "estate", _estate_file, _estate(_estate_tag), _BAD),
    Case("estate-python-name", "estate", _estate_file, _estate(_estate_python_name), _BAD),
    Case("estate-alias-bomb", "estate", _estate_file, _estate(_estate_bomb), _BAD),
    Case("estate-merge-key", "estate", _estate_file, _estate(_estate_merge), _BAD),
    Case("estate-not-utf8", "estate", _estate_file, _estate(_estate_not_utf8), _BAD, ("utf-8",)),
    Case("estate-deep-nesting", "estate", _estate_file, _estate(_estate_deep), _BAD),
    Case("estate-huge-scalar", "estate", _estate_file, _estate(_estate_huge), _BAD),
    Case("credentials-yaml-tag", "credentials", _credentials_file,
         _credentials(_USER + f"password: !secret {SECRET}\n", {2}), _BAD),
    Case("credentials-python-name", "credentials", _credentials_file,
         _credentials("username: !!python/name:os.system ''\n" + _PASSWORD, {1}), _BAD),
    Case("credentials-alias-bomb", "credentials", _credentials_file,
         _credentials(_bomb() + _USER + _PASSWORD, set(range(1, 10))), _BAD),
    Case("credentials-merge-key", "credentials", _credentials_file,
         _credentials(f"<<: {{username: netops, password: {SECRET}}}\n", {1}), _BAD),
    Case("credentials-not-utf8", "credentials", _credentials_file,
         _credentials(_PASSWORD.encode() + "username: 网络运维\n".encode("gbk"), {2}), _BAD, ("utf-8",)),
    Case("credentials-deep-nesting", "credentials", _credentials_file,
         _credentials(_USER + _PASSWORD + f"note: {_deep()}\n", {3}), _BAD),
    Case("credentials-huge-scalar", "credentials", _credentials_file,
         _credentials(_USER + _PASSWORD + f"{'k' * 1_000_000}: 1\n", {3}), _BAD),
    Case("plan-truncated", "plan", _plan_file, _plan_edit(_truncated, _last_lines), _BAD),
    Case("plan-other-schema", "plan", _plan_file,
         _plan_edit(lambda text: text.replace('"nxgov.cloud.plan/1"', '"nxgov.estate.validate/1"'), lambda _: None),
         _BAD, ("schema",)),
    Case("plan-edited-action", "plan", _plan_file,
         _plan_edit(lambda text: text.replace('"action": "create"', '"action": "explode"'), lambda _: None), _BAD),
    Case("plan-edited-fingerprint", "plan", _plan_file,
         _plan_edit(lambda text: text.replace('"fingerprint": "', '"fingerprint": "edited-'), lambda _: None),
         _BAD, ("fingerprint",)),
    Case("plan-other-estate", "plan", _plan_file,
         _plan_edit(lambda text: text.replace('"estate": "test"', '"estate": "ningxia"'), lambda _: None), _BAD,
         ("ningxia",)),
    Case("plan-not-utf8", "plan", _plan_file, _plan_edit(lambda text: b"\xff\xfe\x00" + bytes(range(256)),
                                                         lambda _: None), _BAD),
    Case("migplan-yaml-tag", "migplan", _migration_plan_file,
         _migration_plan(lambda text: text.replace("estate: test", "estate: !foo test"), "!foo"), _BAD),
    Case("migplan-unknown-system", "migplan", _migration_plan_file,
         _migration_plan(_with_wave("nxdrc-ox"), "nxdrc-ox"), _BAD, ("unknown system", "nxdrc-oa")),
    Case("migplan-no-source", "migplan", _migration_plan_file,
         _migration_plan(_with_wave("nxdrc-oa"), "code: nxdrc-oa, department: nxdrc, targets"), _BAD,
         ("no source",)),
    Case("migplan-other-estate", "migplan", _migration_plan_file,
         _migration_plan(lambda text: text.replace("estate: test", "estate: ningxia"), "estate: ningxia"), _BAD,
         ("ningxia",)),
    Case("migplan-not-utf8", "migplan", _migration_plan_file,
         _migration_plan(lambda text: (text + "notes: [备注]\n").encode("gbk"), None), _BAD, ("utf-8",)),
    Case("state-corrupt", "state", _state_file, _state_corrupt, _BAD, ("move it aside",)),
    Case("state-truncated", "state", _state_file, _state_truncated, _BAD, ("move it aside",)),
    Case("state-locked", "state", _state_file, _state_locked, {"reader": 0, "mutator": 1},
         ("locked by another nxgov process", "retry")),
    Case("state-newer-schema", "state", _state_file, _state_newer, _BAD, ("newer nxgov", "upgrade")),
    Case("state-read-only", "state", _state_file, _state_read_only, {"reader": 0, "mutator": 1},
         ("read-only", "writable")),
    Case("state-is-directory", "state", _state_file, _state_is_directory, _BAD, ("directory",)),
    Case("state-parent-is-file", "state", lambda ws: ws.root / "not-a-dir", _state_parent_is_file, _BAD,
         ("not a directory",)),
    Case("audit-torn", "audit", _audit_file, _audit_torn, {"reader": 1, "mutator": 1}),
    Case("audit-tail-deleted", "audit", _audit_file, _audit_tail_deleted,
         {"reader": 1, "mutator": 1, "audit-show": 0}),
    Case("audit-edited", "audit", _audit_file, _audit_edited, {"reader": 1, "mutator": 1, "audit-show": 0}),
    Case("audit-read-only", "audit", _audit_file, _audit_read_only, {"reader": 0, "mutator": 1}),
)
"""Every damage case (see the table above)."""

_CREDENTIALS_OWNER = "issue 9 §2.2: credentials file reader (nxgov/network/drivers/credentials.py)"
_CLI_OWNER = "issue 9 §2.4: CLI messages/JSON contract (nxgov/cli/)"

XFAIL: dict[tuple[str, str], str] = {
}
"""(case, command) -> reason, for cases another part of issue 9 fixes; ``*`` as command: every command."""


def xfail_reason(case: Case, command: Command) -> str | None:
    return XFAIL.get((case.name, command.name)) or XFAIL.get((case.name, "*"))
