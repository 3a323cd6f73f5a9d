"""The region on one screen (``nxgov status``): one SDK call, :func:`region_status`, joining what each group's own
status already says.

- **nodes**: every cloud node of the estate (the backup cloud included) read as the exporter reads it
  (:func:`nxgov.monitor.cloudread.read_node`: Placement capacity and use, servers and volumes by status, the
  departments' quotas, networks without IPv6), each node in its own thread, so a node that cannot be reached is
  shown as ``unreachable`` with the error and the others are still shown. A node that answers is ``degraded`` when
  a server is in ``ERROR``, a volume in an ``error*`` state, or a department network has no IPv6 subnet.
- **departments**: *provisioned*, the resources the estate declares for the department on the primary nodes
  (:func:`nxgov.cloud.desired.build`) against those :func:`nxgov.cloud.drift.find` finds missing (``n of m``;
  unknown when a primary node could not be read); *migrated*, the 上云率 of
  :func:`nxgov.migrate.status.migration_status`; *protected*, its systems whose backup RPO is met, and *drilled*,
  those whose restore drill is not overdue (:func:`nxgov.backup.status.backup_status`).
- **sites**: the two planes of every extranet site as the last ``nxgov net verify`` saved them
  (:func:`nxgov.network.verify.latest`), with when (``unverified``: never judged).
- **attention**: what needs someone, each item with the nxgov command to look at it (``look``) and, where one
  exists, the one that fixes it (``fix``): a node unreachable or degraded, cloud drift (declared resources
  missing or changed by hand, orphans), an RPO breached, a drill overdue, a corrupt copy, a system at risk of
  missing its migration deadline, a system whose latest migration run failed or was interrupted, a site down,
  degraded or unknown, sites never verified, a device needing attention (:mod:`nxgov.network.attention`), and
  a pushed change still unconfirmed past its deadline (:mod:`nxgov.network.confirm`).

It changes nothing (no audit record): the state store is only read, the nodes only listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from nxgov.backup.status import SystemStatus as BackupRow
from nxgov.backup.status import backup_status
from nxgov.cloud import actual as actual_state
from nxgov.cloud import desired
from nxgov.cloud.connect import NodeClient, explain
from nxgov.cloud.drift import Drift, find
from nxgov.cloud.planner import managed_nodes
from nxgov.errors import NxgovError
from nxgov.estate.model import Estate
from nxgov.migrate.runs import Run, runs, still_going
from nxgov.migrate.status import ON_CLOUD, MigrationStatus, Tally, migration_status
from nxgov.monitor.cloudread import NodeReading, read_node
from nxgov.network import attention, confirm
from nxgov.network.verify import latest
from nxgov.spans import span
from nxgov.state import StateStore

SCHEMA = "nxgov.status/1"
NodeHealth = Literal["up", "degraded", "unreachable"]
UNVERIFIED = "unverified"
"""The state of a site no ``nxgov net verify`` has judged yet."""


@dataclass(frozen=True)
class NodeStatus:
    node: str
    role: str
    health: NodeHealth
    reading: NodeReading | None
    """What the node answered (None when it could not be read)."""
    error: str | None
    """Why it could not be read, for the operator."""
    problems: tuple[str, ...]
    """Why a node that answered is degraded."""

    def as_dict(self) -> dict[str, Any]:
        r = self.reading
        return {"node": self.node, "role": self.role, "health": self.health, "error": self.error,
                "problems": list(self.problems),
                "resources": None if r is None else {stem: {"capacity": u.capacity, "used": u.used,
                                                            "allocatable": u.allocatable}
                                                     for stem, u in r.resources.items()},
                "servers": None if r is None else dict(sorted(r.servers.items())),
                "volumes": None if r is None else dict(sorted(r.volumes.items())),
                "volume_bytes": None if r is None else r.volume_bytes,
                "quotas": None if r is None else [{"department": q.department, "resource": q.resource,
                                                    "limit": q.limit, "used": q.used} for q in r.quotas],
                "networks_without_ipv6": None if r is None else dict(r.networks_without_ipv6)}


@dataclass(frozen=True)
class Provisioned:
    """The department's declared resources on the primary nodes: how many there are and which are missing."""

    declared: int
    missing: tuple[str, ...]
    """``node/kind/name`` of each declared resource not found."""
    changed: tuple[str, ...]
    """``node/kind/name`` of each declared resource that differs from the estate (a quota changed by hand...)."""
    orphans: int
    """Resources in the department's projects the estate does not declare."""

    @property
    def present(self) -> int:
        return self.declared - len(self.missing)

    def as_dict(self) -> dict[str, Any]:
        return {"declared": self.declared, "present": self.present, "missing": list(self.missing),
                "changed": list(self.changed), "orphans": self.orphans}


@dataclass(frozen=True)
class DepartmentStatus:
    department: str
    name: str
    systems: int
    """The estate's systems of the department."""
    provisioned: Provisioned | None
    """None when the primary nodes could not all be read (:attr:`RegionStatus.cloud_error` says why)."""
    migration: Tally
    """Its systems with a legacy source by lifecycle state, and the 上云率 (``ratio``)."""
    at_risk: tuple[str, ...]
    """Systems not yet on the cloud whose deadline is near or past."""
    protected: int
    """Systems with a backup policy and data volumes whose RPO is met..."""
    protected_of: int
    """...of those with a backup policy and data volumes (a system without data volume has no RPO)."""
    drilled: int
    """Systems with a backup policy whose restore drill is not overdue..."""
    drilled_of: int
    """...of those with a backup policy."""

    def as_dict(self) -> dict[str, Any]:
        return {"department": self.department, "name": self.name, "systems": self.systems,
                "provisioned": None if self.provisioned is None else self.provisioned.as_dict(),
                "migration": self.migration.as_dict(), "at_risk": list(self.at_risk),
                "protected": {"met": self.protected, "of": self.protected_of},
                "drilled": {"current": self.drilled, "of": self.drilled_of}}


@dataclass(frozen=True)
class SiteStatus:
    code: str
    name: str
    level: str
    state: str
    """``both-up``, ``degraded``, ``down``, ``unknown`` (net verify's verdict) or ``unverified``."""
    planes: dict[str, str]
    """Plane → ``up``, ``down`` or ``unknown`` (empty when unverified)."""
    checked: str | None
    """When net verify judged it (ISO 8601 UTC)."""
    age_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.code, "name": self.name, "level": self.level, "state": self.state,
                "planes": dict(self.planes), "checked": self.checked, "age_s": self.age_s}


@dataclass(frozen=True)
class Attention:
    """One thing that needs someone: what, about what, and the nxgov commands to look at it and to fix it."""

    kind: str
    subject: str
    message: str
    look: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message, "look": self.look,
                "fix": self.fix}


@dataclass(frozen=True)
class RegionStatus:
    estate: str
    time: datetime
    nodes: tuple[NodeStatus, ...]
    departments: tuple[DepartmentStatus, ...]
    sites: tuple[SiteStatus, ...]
    attention: tuple[Attention, ...]
    cloud_error: str | None
    """Why the provisioning of the departments could not be read (None when it was)."""
    pending_confirmations: int
    """Pushed changes of the estate awaiting confirmation (those past their deadline are also attention items)."""

    @property
    def ok(self) -> bool:
        """Nothing needs attention."""
        return not self.attention

    def to_document(self) -> dict[str, Any]:
        """The ``nxgov.status/1`` document."""
        return {"schema": SCHEMA, "estate": self.estate, "time": self.time.isoformat(timespec="seconds"),
                "ok": self.ok, "nodes": [n.as_dict() for n in self.nodes],
                "departments": [d.as_dict() for d in self.departments], "cloud_error": self.cloud_error,
                "sites": [s.as_dict() for s in self.sites], "pending_confirmations": self.pending_confirmations,
                "attention": [a.as_dict() for a in self.attention]}


def region_status(estate: Estate, store: StateStore, clients: Mapping[str, NodeClient], now: datetime
                  ) -> RegionStatus:
    """Where the region stands at ``now`` (timezone-aware): ``clients`` are the estate's cloud nodes (a client
    per node of ``estate.clouds``; :func:`nxgov.cloud.connect.node_clients`), read concurrently; everything else
    comes from ``store``. A node that cannot be read (or has no client) is reported, never raised."""
    nodes, drift, declared, cloud_error = _read_cloud(estate, clients)
    migration = migration_status(estate, store, now)
    backup = backup_status(estate, store, now)
    sites = _sites(estate, store, now)
    devices = {d.name for d in estate.extranet.devices} if estate.extranet else set()
    stuck = [item for item in attention.open_items(store) if item.device in devices]
    pending = [p for p in confirm.open_changes(store.path) if p.estate == estate.estate]
    latest_runs = [run for s in estate.systems if s.source is not None for run in runs(store, s.code, 1)]
    migrating = {row.system for row in migration.systems if row.state not in ON_CLOUD}  # its backups start after
    items = [*_node_items(nodes), *_cloud_items(drift, cloud_error),  # cutover: nothing of it to copy or drill yet
             *_backup_items([row for row in backup if row.system not in migrating]),
             *_migration_items(migration, latest_runs, store), *_site_items(sites),
             *(Attention("device", item.device, f"{item.operation} left the device in a state nobody chose "
                         f"(since {item.noted}): {item.detail}", f"nxgov net history {item.device}",
                         f"nxgov net push -d {item.device}") for item in stuck),
             *(Attention("unconfirmed-push", p.device, f"the change pushed by {p.push} was not confirmed by its "
                         f"deadline {p.deadline.isoformat(timespec='seconds')} and is not reverted yet",
                         "nxgov net revert-due --dry-run", "nxgov net revert-due")
               for p in pending if p.overdue(now))]
    return RegionStatus(estate.estate, now, nodes, _departments(estate, drift, declared, migration, backup),
                        sites, tuple(items), cloud_error, len(pending))


def _read_cloud(estate: Estate, clients: Mapping[str, NodeClient]
                ) -> tuple[tuple[NodeStatus, ...], Drift | None, dict[str, int], str | None]:
    """Every node read on its own, and the drift of the primary nodes read at the same time."""
    departments = {d.code for d in estate.departments}
    given = {name: clients[name] for name in estate.clouds if name in clients}
    primary = managed_nodes(estate)
    unknown = [name for name in primary if name not in given]
    with ThreadPoolExecutor(max_workers=len(given) + 1, thread_name_prefix="nxgov-status") as pool:
        readings = {name: pool.submit(_read_node, client, departments) for name, client in given.items()}
        drifted: Future[tuple[Drift, dict[str, int]]] | None = (
            pool.submit(_drift, estate, {name: given[name] for name in primary}, departments)
            if primary and not unknown else None)
    nodes = []
    for name, node in estate.clouds.items():
        if name not in readings:
            nodes.append(NodeStatus(name, node.role, "unreachable", None, f"node {name}: no connection was given",
                                    ()))
            continue
        try:
            reading = readings[name].result()
        except Exception as error:
            nodes.append(NodeStatus(name, node.role, "unreachable", None, _message(error), ()))
            continue
        problems = _problems(reading)
        nodes.append(NodeStatus(name, node.role, "degraded" if problems else "up", reading, None, problems))
    if unknown:
        return tuple(nodes), None, {}, f"no connection was given for the primary node(s) {', '.join(unknown)}"
    if drifted is None:
        return tuple(nodes), Drift(), {}, None
    try:
        drift, declared = drifted.result()
    except Exception as error:
        return tuple(nodes), None, {}, _message(error)
    return tuple(nodes), drift, declared, None


def _read_node(client: NodeClient, departments: set[str]) -> NodeReading:
    try:
        return read_node(client.conn, client.node, departments)
    except Exception as error:
        raise explain(error, client.node, client.entry) from error


def _drift(estate: Estate, clients: dict[str, NodeClient], departments: set[str]) -> tuple[Drift, dict[str, int]]:
    """The drift of the primary nodes, and how many resources the estate declares per department there."""
    actual = actual_state.read(clients, estate.estate, departments)
    declared: dict[str, int] = {}
    for resource in desired.build(estate, actual.context).resources:
        if resource.department:
            declared[resource.department] = declared.get(resource.department, 0) + 1
    return find(estate, actual), declared


def _message(error: Exception) -> str:
    if isinstance(error, NxgovError):
        return error.message
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else 'no message'}"


def _problems(reading: NodeReading) -> tuple[str, ...]:
    problems = []
    if reading.servers.get("ERROR"):
        problems.append(f"{reading.servers['ERROR']} server(s) in ERROR")
    failed = {status: n for status, n in reading.volumes.items() if status.startswith("error") and n}
    if failed:
        problems.append(f"{sum(failed.values())} volume(s) in " + ", ".join(sorted(failed)))
    problems.extend(f"department {department}: {n} network(s) without IPv6"
                    for department, n in sorted(reading.networks_without_ipv6.items()) if n)
    return tuple(problems)


def _departments(estate: Estate, drift: Drift | None, declared: Mapping[str, int], migration: MigrationStatus,
                 backup: list[BackupRow]) -> tuple[DepartmentStatus, ...]:
    tallies = {d.department: d.tally for d in migration.departments}
    out = []
    for dept in estate.departments:
        code = dept.code
        mine = [row for row in backup if row.department == code]
        with_rpo = [row for row in mine if row.rpo_met is not None]
        provisioned = None if drift is None else Provisioned(
            declared.get(code, 0), tuple(_key(i.node, i.kind, i.name) for i in drift.missing if i.department == code),
            tuple(_key(i.node, i.kind, i.name) for i in drift.changed if i.department == code),
            sum(1 for i in drift.orphans if i.department == code))
        out.append(DepartmentStatus(
            code, dept.name, sum(1 for s in estate.systems if s.department == code), provisioned, tallies[code],
            tuple(a.system for a in migration.at_risk if a.department == code),
            sum(1 for row in with_rpo if row.rpo_met), len(with_rpo),
            sum(1 for row in mine if not row.drill_overdue), len(mine)))
    return tuple(out)


def _key(node: str, kind: str, name: str) -> str:
    return f"{node}/{kind}/{name}"


def _sites(estate: Estate, store: StateStore, now: datetime) -> tuple[SiteStatus, ...]:
    if estate.extranet is None:
        return ()
    found = {row["site"]: row for row in latest(store, estate.estate)}
    out = []
    for site in estate.extranet.sites:
        row = found.get(site.code)
        if row is None:
            out.append(SiteStatus(site.code, site.name, site.level, UNVERIFIED, {}, None, None))
            continue
        checked = datetime.fromisoformat(row["checked"])
        out.append(SiteStatus(site.code, site.name, site.level, row["state"], dict(row["planes"]), row["checked"],
                              (now - checked).total_seconds()))
    return tuple(out)


def _node_items(nodes: tuple[NodeStatus, ...]) -> list[Attention]:
    out = []
    for node in nodes:
        if node.health == "unreachable":
            out.append(Attention("node-unreachable", node.node, node.error or "could not be read",
                                 "nxgov monitor check --only cloud"))
        elif node.health == "degraded":
            out.append(Attention("node-degraded", node.node, "; ".join(node.problems),
                                 "nxgov -v monitor check --only cloud"))
    return out


def _cloud_items(drift: Drift | None, cloud_error: str | None) -> list[Attention]:
    if drift is None:
        return [Attention("cloud-unread", "provisioning", f"the departments' resources could not be read: "
                          f"{cloud_error}", "nxgov cloud drift")]
    out = []
    for kind, items, what, look in (
            ("cloud-missing", drift.missing, "declared resource(s) missing", "nxgov cloud plan"),
            ("cloud-changed", drift.changed, "resource(s) changed by hand", "nxgov cloud drift")):
        for department in dict.fromkeys(i.department for i in items):
            mine = [i for i in items if i.department == department]
            out.append(Attention(kind, department or "(no department)", f"{len(mine)} {what}: "
                                 + _some(_key(i.node, i.kind, i.name) for i in mine), look, "nxgov cloud apply"))
    if drift.orphans:
        out.append(Attention("cloud-orphans", "nxgov projects", f"{len(drift.orphans)} resource(s) the estate does "
                             "not declare (zombie candidates): " + _some(_key(i.node, i.kind, i.name)
                                                                          for i in drift.orphans),
                             "nxgov cloud drift"))
    return out


def _backup_items(rows: list[BackupRow]) -> list[Attention]:
    out = []
    for row in rows:
        code = row.system
        if row.rpo_met is False:
            text = ("a data volume has no good copy" if row.age_s is None else
                    f"last good copy {span(row.age_s)} old, RPO {span(row.rpo_s)}: breached by "
                    f"{span(row.breached_by_s or 0)}")
            out.append(Attention("rpo-breached", code, text, f"nxgov backup copies --system {code}",
                                 f"nxgov backup sync --system {code}"))
        if row.drill_overdue:
            text = ("never drilled" if row.last_drill is None else
                    f"last drill {row.last_drill} {row.last_drill_result}; the next was due {row.drill_due}")
            out.append(Attention("drill-overdue", code, text, f"nxgov backup drills --system {code}",
                                 f"nxgov backup drill --system {code}"))
        if row.last_verify_result == "corrupt":
            out.append(Attention("corrupt-copy", code, f"the verify of {row.last_verify} found a damaged copy",
                                 f"nxgov backup verify --system {code}", f"nxgov backup sync --system {code}"))
    return out


def _migration_items(migration: MigrationStatus, latest_runs: list[Run], store: StateStore) -> list[Attention]:
    out = [Attention("migration-at-risk", risk.system,
                     f"{risk.state}, deadline {risk.deadline.isoformat()} " + (
                         f"in {risk.days_left} day(s)" if risk.days_left >= 0 else
                         f"passed {-risk.days_left} day(s) ago"),
                     f"nxgov migrate status --department {risk.department}") for risk in migration.at_risk]
    for run in latest_runs:
        interrupted = run.outcome == "interrupted" or (run.outcome == "running" and not still_going(store, run.id))
        if run.outcome != "failed" and not interrupted:
            continue
        again = f"nxgov migrate retire {run.system}" if run.verb == "retire" else \
            f"nxgov migrate {run.verb} --system {run.system}"
        reason = run.detail.get("reason")
        out.append(Attention("migration-interrupted" if interrupted else "migration-failed", run.system,
                             f"its last run (#{run.id} {run.verb}, started {run.started[:19]}) "
                             + ("was interrupted" if interrupted else "failed") + (f": {reason}" if reason else ""),
                             f"nxgov migrate runs --system {run.system}", again))
    return out


def _site_items(sites: tuple[SiteStatus, ...]) -> list[Attention]:
    out = []
    for site in sites:
        down = [plane for plane, state in site.planes.items() if state == "down"]
        text = {"down": "no plane up", "degraded": f"plane {', '.join(down)} down",
                "unknown": "net verify could not tell"}.get(site.state)
        if text is not None:
            out.append(Attention(f"site-{site.state}", site.code, f"{site.name} ({site.level}): {text}, as of "
                                 f"{site.checked}", f"nxgov net verify --site {site.code}"))
    never = [site.code for site in sites if site.state == UNVERIFIED]
    if never:
        out.append(Attention("sites-unverified", f"{len(never)} site(s)", "never verified: " + _some(never),
                             "nxgov net verify"))
    return out


def _some(names: Iterable[str], shown: int = 3) -> str:
    """The first ``shown`` of ``names`` and how many more."""
    listed = list(names)
    return ", ".join(listed[:shown]) + (f" and {len(listed) - shown} more" if len(listed) > shown else "")


