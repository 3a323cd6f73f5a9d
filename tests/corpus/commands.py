"""The registry of commands the bad-input corpus runs (issue 9 §3). Add every new command here.

Each :class:`Command` says what it reads (the corpus then runs it under every damage case of those
inputs), whether it mutates anything, and what "changed" means for it: the state store and/or the files it
writes, which must stay as they were unless the audit log gained a record of the command's change.

``argv`` entries are formatted with the workspace's paths (see :class:`tests.corpus.workspace.Workspace`):
``{ws}`` the workspace, ``{out}`` its output directory, ``{plan}`` the saved cloud plan, ``{lab}`` a lab
directory, ``{candidates}`` a directory of candidate configurations. The global options (``-o json``,
``--estate``, ``--state``, ``--audit-log``) are set by the harness through the environment.

Inputs (``reads``):

- ``estate``: the estate YAML (``--estate``)
- ``credentials``: a credentials file the estate names (read before any device is contacted)
- ``plan``: a saved cloud plan given as an argument
- ``migplan``: a migration plan file (``migrate plan --check``), written by the damage itself at
  ``{ws}/migrate-plan.yaml``
- ``state``: the state store (``--state``)
- ``audit``: the audit log (``--audit-log``): read by the audit commands, appended to by every mutating one
"""

from __future__ import annotations

from dataclasses import dataclass, field

INPUTS = ("estate", "credentials", "plan", "migplan", "state", "audit")


@dataclass(frozen=True)
class Command:
    name: str
    """How the corpus ids it, e.g. ``net-ipv6-plan``."""
    argv: tuple[str, ...]
    reads: frozenset[str]
    mutates: bool
    changed: str
    """What "changed" means for this command, for people (the checks are ``watches``)."""
    watches: tuple[str, ...] = ()
    """What must not change without an audit record: ``state`` (the store's content) or a path under the workspace."""
    audit_command: str | None = None
    """The ``command`` of the audit record a change of this command writes."""
    seed: str | None = None
    """What the workspace's state store holds before the run: ``ipv6`` (the estate's IPv6 plan), ``ipv6-partial``
    (all but one device's numbering, so ``net ipv6 plan`` has something to write), or None (no store)."""
    also_under: frozenset[str] = field(default_factory=frozenset)
    """Inputs the command does not read but is run under anyway, to prove their damage does not affect it."""
    clean_code: int = 0
    """Its exit code on the undamaged workspace (the expectation under damage it ignores)."""

    def runs_under(self, target: str) -> bool:
        return target in self.reads or target in self.also_under

    def role(self, target: str) -> str:
        """``mutator``/``reader`` of the damaged input, or ``ignores`` it."""
        if target not in self.reads:
            return "ignores"
        return "mutator" if self.mutates else "reader"


COMMANDS: tuple[Command, ...] = (
    Command("estate-validate", ("estate", "validate"), frozenset({"estate"}), False, "nothing"),
    Command("estate-show", ("estate", "show"), frozenset({"estate"}), False, "nothing"),
    Command("estate-generate", ("estate", "generate", "--scale", "region", "--out", "{out}/generated"),
            frozenset({"audit"}), True, "YAML files written under --out", watches=("out/generated",),
            audit_command="estate generate"),
    Command("net-ipv6-plan", ("net", "ipv6", "plan"), frozenset({"estate", "state", "audit"}), True,
            "numbering rows added to the state store", watches=("state",), audit_command="net ipv6 plan",
            seed="ipv6-partial"),
    Command("net-ipv6-show", ("net", "ipv6", "show", "--kind", "all"), frozenset({"estate", "state"}), False,
            "nothing", watches=("state",), seed="ipv6"),
    Command("net-ipv6-export", ("net", "ipv6", "export", "--format", "json"), frozenset({"estate", "state"}), False,
            "nothing", watches=("state",), seed="ipv6"),
    Command("net-render", ("net", "render", "--out", "{out}/rendered"), frozenset({"estate", "state"}), False,
            "configuration files written under --out (not audited: only the damage must not write them)",
            watches=("state", "out/rendered"), seed="ipv6"),
    Command("net-backup", ("net", "backup", "--archive", "{out}/archive", "--workers", "2"),
            frozenset({"estate", "credentials"}), True, "archived configurations under --archive",
            watches=("out/archive",), audit_command="net backup", clean_code=1),
    Command("net-push-dry-run", ("net", "push", "--dry-run", "--candidates", "{candidates}", "--workers", "2"),
            frozenset({"estate", "credentials"}), False, "nothing (dry run)", clean_code=1),
    Command("net-push-prune-dry-run", ("net", "push", "--dry-run", "--prune", "--candidates", "{candidates}",
                                       "--archive", "{out}/archive", "--workers", "2"),
            frozenset({"estate", "credentials"}), False, "nothing (dry run: no removal, no record of what was pushed)",
            watches=("out/archive",), clean_code=1),
    Command("net-push-confirm-dry-run", ("net", "push", "--dry-run", "--confirm-within", "5m", "--no-wait",
                                         "--candidates", "{candidates}", "--workers", "2"),
            frozenset({"estate", "credentials"}), False, "nothing (dry run: no baseline verify, nothing pending)",
            watches=("state",), clean_code=1),
    Command("net-confirm-dry-run", ("net", "confirm", "--dry-run"), frozenset({"state"}), False,
            "nothing (dry run: no change confirmed)", watches=("state",), seed="ipv6"),
    Command("net-revert-due-dry-run", ("net", "revert-due", "--dry-run", "--workers", "2"),
            frozenset({"estate", "state"}), False, "nothing (dry run: nothing confirmed or reverted)",
            watches=("state",), seed="ipv6", also_under=frozenset({"audit"})),
    Command("audit-show", ("audit", "show"), frozenset({"audit"}), False, "nothing"),
    Command("audit-verify", ("audit", "verify"), frozenset({"audit"}), False, "nothing"),
    Command("cloud-apply-plan", ("cloud", "apply", "{plan}", "--timeout", "2", "--wait", "2"), frozenset({"plan"}),
            True, "cloud resources (refused before any cloud contact in every plan case)"),
    Command("lab-status", ("lab", "status", "--lab-dir", "{lab}"), frozenset(), False, "nothing",
            also_under=frozenset({"state", "audit"}), clean_code=1),
    Command("migrate-assess-dry-run", ("migrate", "assess", "--dry-run"), frozenset({"estate"}), False,
            "nothing (dry run: no host contacted, nothing stored)", watches=("state",),
            also_under=frozenset({"state", "audit"})),
    Command("migrate-plan", ("migrate", "plan", "--out", "{out}/migrate-plan.yaml"), frozenset({"estate", "state"}),
            False, "the plan file written by --out (not audited: only the damage must not write it)",
            watches=("state", "out/migrate-plan.yaml"), seed="ipv6"),
    Command("migrate-plan-check", ("migrate", "plan", "--check", "{ws}/migrate-plan.yaml"),
            frozenset({"estate", "migplan"}), False, "nothing"),
    Command("migrate-status", ("migrate", "status"), frozenset({"estate", "state"}), False, "nothing",
            watches=("state",), seed="ipv6"),
    Command("migrate-register", ("migrate", "register", "--since", "2020-01-01"), frozenset({"estate", "state"}),
            False, "nothing", watches=("state",), seed="ipv6"),
    Command("migrate-register-csv", ("migrate", "register", "--format", "csv"), frozenset({"estate", "state"}),
            False, "nothing", watches=("state",), seed="ipv6"),
    Command("migrate-status-plan", ("migrate", "status", "--plan", "{ws}/migrate-plan.yaml"),
            frozenset({"estate", "migplan"}), False, "nothing"),
    Command("migrate-runs", ("migrate", "runs"), frozenset({"state"}), False, "nothing", watches=("state",),
            seed="ipv6"),
    Command("migrate-finalize-wave-dry-run",
            ("migrate", "finalize", "--wave", "1", "--plan", "{ws}/migrate-plan.yaml", "--dry-run"),
            frozenset({"estate", "migplan"}), False,
            "nothing (dry run; the tiny estate's system has no source: exit 2)", watches=("state",), clean_code=2),
    Command("migrate-retire-dry-run", ("migrate", "retire", "nxdrc-oa", "--dry-run"), frozenset({"estate"}), False,
            "nothing (dry run; the tiny estate's system has no source: exit 2)", watches=("state",), clean_code=2,
            also_under=frozenset({"state", "audit"})),
    Command("backup-status", ("backup", "status"), frozenset({"estate", "state"}), False,
            "nothing (the tiny estate's system was never drilled: exit 3)", watches=("state",), clean_code=3),
    Command("backup-verify", ("backup", "verify"), frozenset({"estate", "state"}), False,
            "nothing (the tiny estate's system has no data volume to read back)", watches=("state",)),
    Command("backup-copies", ("backup", "copies"), frozenset({"state"}), False, "nothing", watches=("state",)),
    Command("backup-drills", ("backup", "drills"), frozenset({"state"}), False, "nothing", watches=("state",)),
    Command("backup-prune-dry-run", ("backup", "prune", "--dry-run"), frozenset({"estate", "state"}), False,
            "nothing (dry run)", watches=("state",)),
    Command("backup-drill-dry-run", ("backup", "drill", "--dry-run"), frozenset({"estate", "state"}), False,
            "nothing (dry run; no node contacted)", watches=("state",)),
    Command("monitor-check", ("monitor", "check", "--only", "migration", "--only", "extranet", "--only", "audit"),
            frozenset({"estate", "state"}), False,
            "nothing (a broken audit chain is a metric, nxgov_audit_chain_intact 0, not a failure)", watches=("state",),
            seed="ipv6", also_under=frozenset({"audit"})),
    Command("status", ("status", "--timeout", "2"), frozenset({"estate", "state"}), False,
            "nothing (the workspace's clouds.yaml names no cloud, so every node is unreachable, and the tiny estate's "
            "system was never drilled: exit 3)", watches=("state",), seed="ipv6", clean_code=3,
            also_under=frozenset({"audit"})),
    Command("plan", ("plan",), frozenset({"estate", "state"}), False,
            "nothing (the workspace's clouds.yaml names no cloud: the cloud part cannot be read, exit 2)",
            watches=("state",), seed="ipv6", clean_code=2),
    Command("monitor-check-cloud", ("monitor", "check", "--only", "cloud", "--timeout", "2"), frozenset({"estate"}),
            False, "nothing (the workspace's clouds.yaml names no cloud: every node is down, exit 1)", clean_code=1,
            also_under=frozenset({"state", "audit"})),
)
"""Every command the corpus runs. Commands that need the cloud lab are in only with the inputs they read
before any cloud contact (``cloud apply PLAN``: the plan file)."""
