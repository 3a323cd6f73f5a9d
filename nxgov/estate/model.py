"""Typed model of an estate: cloud nodes, departments, systems and the dual-plane extranet.

Models are frozen pydantic models with unknown keys forbidden. Field descriptions double as the
hints an operator sees when a field is missing. Credentials never live here: a cloud node names a
clouds.yaml entry, and devices, legacy hosts and ``server_access`` (the login to the servers nxgov
creates) name an entry of ``credentials`` (a 0600 file or environment variables), never a password.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from nxgov.estate.ports import PATTERN_HINT, parse_pattern, pattern_problem
from nxgov.estate.types import (
    AnyPrefix,
    DivisionCode,
    Duration,
    Host,
    IPv4Prefix,
    IPv6Prefix,
    IPv6PrefixOrAuto,
    Slug,
    fail,
)

LEVELS: tuple[str, ...] = ("region", "city", "county", "township", "village")
PLATFORMS: tuple[str, ...] = ("huawei_vrp", "h3c_comware", "frr", "cisco_ios")
PLACEMENT_MODES: tuple[str, ...] = ("active-active", "active-standby", "single")

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

SiteLevel = Literal["region", "city", "county", "township", "village"]
Platform = Literal["huawei_vrp", "h3c_comware", "frr", "cisco_ios"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PLAYBOOK = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}\.ya?ml$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEYPAIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CloudNode(Model):
    """One OpenStack cloud node. Its credentials stay in clouds.yaml / secure.yaml."""

    cloud: str = Field(description="the clouds.yaml entry to connect with, e.g. nx-yinchuan")
    role: Literal["primary", "backup"] = Field(description="primary (runs systems) or backup (holds DR copies)")
    region: str | None = Field(None, description="the region name when the clouds.yaml entry has several")
    clouds_yaml: str | None = Field(None, description="path of the clouds.yaml file, relative to the estate")
    backup_store: str | None = Field(None, description="absolute path where the operations host reads and writes this "
                                     "node's Cinder backup store (the POSIX backup driver's backup_posix_path, "
                                     "mounted), e.g. /mnt/nx-yinchuan-backups; needed by nxgov backup")
    description: str | None = None

    @field_validator("backup_store")
    @classmethod
    def _absolute_store(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise fail(f"backup_store {value!r} is not an absolute path",
                       "give the absolute path where this host mounts the node's backup store, e.g. /mnt/nx-backup")
        return value


class CredentialRef(Model):
    """Where a secret is kept: a 0600 YAML file, or environment variables with a prefix."""

    file: str | None = Field(None, description="a 0600 file holding username/password or key, outside the estate")
    env: str | None = Field(None, description="prefix of environment variables, e.g. NX_EXTRANET -> NX_EXTRANET_USER")
    username: str | None = None
    ssh_key: str | None = Field(None, description="path of an SSH private key file (the file, not its content)")

    @model_validator(mode="after")
    def _one_source(self) -> CredentialRef:
        if (self.file is None) == (self.env is None) and self.ssh_key is None:
            raise fail("a credentials reference needs exactly one of 'file' or 'env' (or an 'ssh_key')",
                       "e.g. {file: /etc/nxgov/extranet.yaml} or {env: NX_EXTRANET}")
        return self


class ServerAccess(Model):
    """How nxgov logs in to the servers it creates: the login user and private key of a credentials entry; the
    public half goes to the servers as a Nova keypair (see nxgov.cloud.access)."""

    credentials: Slug = Field(description="an entry of 'credentials' giving the login user and its SSH key, "
                              "e.g. lab-servers")
    keypair: KeypairName = Field("nxgov-ops", description="the Nova keypair nxgov makes from the key, e.g. nxgov-ops")


class Quotas(Model):
    """Per-node quotas of a department's project."""

    cores: int = Field(ge=0, description="vCPU cores")
    ram_gb: int = Field(ge=0, description="memory in GiB")
    instances: int = Field(ge=0, description="number of servers")
    volumes_gb: int = Field(0, ge=0, description="block storage in GiB")
    volumes: int = Field(20, ge=0)
    snapshots: int = Field(20, ge=0)
    networks: int = Field(10, ge=0)
    routers: int = Field(2, ge=0)
    security_groups: int = Field(20, ge=0)


class Network(Model):
    """A tenant network. IPv6 is always on (full-stack IPv6); IPv4 only where declared."""

    name: Slug = Field(description="network name inside the department, e.g. app")
    ipv4: IPv4Prefix | None = Field(None, description="IPv4 subnet, e.g. 10.64.1.0/24; omit for IPv6-only")
    ipv6: IPv6PrefixOrAuto = Field("auto", description="'auto' (a /64 from the department's block) or a prefix")


def _clock(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        raise fail(f"{value // 60:02d}:{value % 60:02d} must be quoted: unquoted, YAML reads it as the number "
                   f"{value}", f"write '{value // 60:02d}:{value % 60:02d}'")
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise fail(f"{value!r} is not a time of day", "write HH:MM in Asia/Shanghai time, quoted, e.g. '22:00'")
    return value


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        raise fail(f"{value.isoformat()} is a time, not a date", f"write the day only: {value.date().isoformat()}")
    if isinstance(value, date):
        return value
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else repr(value)
    try:
        if _DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise fail(f"{text!r} is not a date", "write YYYY-MM-DD, e.g. 2027-06-30")


def _playbook(value: Any) -> str:
    if not isinstance(value, str) or not _PLAYBOOK.match(value):
        raise fail(f"{value!r} is not a playbook name",
                   "a relative path ending in .yml or .yaml, without '..', e.g. drain-lb.yml")
    return value


def _keypair(value: Any) -> str:
    if not isinstance(value, str) or not _KEYPAIR.match(value):
        raise fail(f"{value!r} is not a keypair name", "letters, digits and - _ . @ (at most 100), starting with a "
                   "letter or digit, e.g. nxgov-ops")
    return value


ClockTime = Annotated[str, BeforeValidator(_clock)]
Day = Annotated[date, BeforeValidator(_day), PlainSerializer(date.isoformat, return_type=str)]
Playbook = Annotated[str, BeforeValidator(_playbook)]
KeypairName = Annotated[str, BeforeValidator(_keypair)]


class MaintenanceWindow(Model):
    """A weekly window in which a department's systems may be migrated (Asia/Shanghai time, UTC+8).

    It opens at ``start`` on each of ``days`` and closes at ``end``, on the next day when ``end`` is earlier
    than ``start`` (22:00-06:00 on sat runs from Saturday 22:00 to Sunday 06:00)."""

    days: list[Weekday] = Field(min_length=1, description="the days it opens: mon tue wed thu fri sat sun")
    start: ClockTime = Field(description="when it opens, HH:MM quoted, e.g. '22:00'")
    end: ClockTime = Field(description="when it closes, HH:MM quoted, e.g. '06:00' (next day if before start)")

    @model_validator(mode="after")
    def _sensible(self) -> MaintenanceWindow:
        if self.start == self.end:
            raise fail(f"the window opens and closes at {self.start}", "give it a length: end differs from start")
        if len(set(self.days)) != len(self.days):
            raise fail("a day is listed twice", "list each day once")
        return self


class PhaseHooks(Model):
    """Playbooks run before and after one migration phase of the department's systems."""

    pre: list[Playbook] = Field(default_factory=list, description="playbooks run before the phase")
    post: list[Playbook] = Field(default_factory=list, description="playbooks run after the phase")


class Hooks(Model):
    """A department's own playbooks per migration phase (run by the lifecycle verbs, as nxgov's own are)."""

    replicate: PhaseHooks | None = None
    test: PhaseHooks | None = None
    cutover: PhaseHooks | None = None
    finalize: PhaseHooks | None = None
    rollback: PhaseHooks | None = None


class Department(Model):
    """A tenant: one OpenStack project per node its systems use."""

    code: Slug = Field(description="stable lower-case identifier, e.g. nxdrc")
    name: str = Field(description="the department's name, e.g. 自治区发展改革委")
    quotas: Quotas = Field(description="per-node quotas: {cores, ram_gb, instances, volumes_gb}")
    networks: list[Network] = Field(default_factory=list)
    ipv6: IPv6PrefixOrAuto = Field("auto", description="the department's IPv6 block, or 'auto'")
    operators: list[str] = Field(default_factory=list, description="Keystone users given the member role")
    maintenance: list[MaintenanceWindow] | None = Field(
        None, min_length=1, description="weekly migration windows, e.g. [{days: [sat, sun], start: '22:00', "
        "end: '06:00'}]")
    migration_deadline: Day | None = Field(None, description="date its systems must be on the cloud, YYYY-MM-DD")
    hooks: Hooks | None = Field(None, description="playbooks per phase, e.g. {cutover: {pre: [drain.yml]}}")


class Placement(Model):
    """Where a system's servers run across the two primary nodes."""

    mode: Literal["active-active", "active-standby", "single"] = Field(
        description="active-active, active-standby or single")
    nodes: list[Slug] | None = Field(None, description="active-active: the nodes to spread over (default: all)")
    primary: Slug | None = Field(None, description="active-standby: the node running the system")
    standby: Slug | None = Field(None, description="active-standby: the node holding the standby")
    standby_servers: Literal["stopped", "absent"] = Field(
        "stopped", description="active-standby: create standby servers stopped, or not at all")
    node: Slug | None = Field(None, description="single: the node the system is pinned to")

    @model_validator(mode="after")
    def _fields_fit_mode(self) -> Placement:
        needed = {"active-active": (), "active-standby": ("primary", "standby"), "single": ("node",)}[self.mode]
        allowed = ("nodes",) if self.mode == "active-active" else needed
        for name in needed:
            if getattr(self, name) is None:
                raise fail(f"placement mode {self.mode} needs '{name}'",
                           f"add {name}: yinchuan (or another primary node)")
        for name in ("nodes", "primary", "standby", "node"):
            if name not in allowed and getattr(self, name) is not None:
                raise fail(f"'{name}' does not apply to placement mode {self.mode}",
                           f"remove it, or use the mode it belongs to: {_mode_of(name)}")
        if self.mode == "active-standby" and self.primary == self.standby:
            raise fail("primary and standby are the same node", "put the standby on the other node")
        if self.nodes is not None and len(set(self.nodes)) < 2:
            raise fail("active-active needs at least two different nodes", "e.g. nodes: [yinchuan, zhongwei]")
        return self

    def node_names(self, primaries: list[str]) -> list[str]:
        """The nodes this placement uses, primary first."""
        if self.mode == "single":
            return [self.node or ""]
        if self.mode == "active-standby":
            return [self.primary or "", self.standby or ""]
        return list(self.nodes or primaries)


def _mode_of(field: str) -> str:
    return {"nodes": "active-active", "primary": "active-standby", "standby": "active-standby"}.get(field, "single")


class Flavor(Model):
    """A Nova flavor's size, as the nodes define it (for checks made without reaching a node)."""

    vcpus: int = Field(ge=1, description="virtual CPUs")
    ram_mb: int = Field(ge=1, description="memory in MiB, as Nova counts it")
    disk_gb: int = Field(0, ge=0, description="root disk in GiB")


class Server(Model):
    """A server of a system (``count`` alike servers named name-1 .. name-N)."""

    name: Slug = Field(description="server role name, e.g. web")
    flavor: str = Field(description="the Nova flavor, e.g. m1.medium")
    image: str = Field(description="the Glance image, e.g. kylin-v10")
    count: int = Field(1, ge=1, le=100)
    network: Slug | None = Field(None, description="the department network to attach (default: its first)")
    volumes_gb: list[int] = Field(default_factory=list, description="data volumes in GiB, e.g. [100]")


class LegacySource(Model):
    """The legacy host a system migrates from (assessed and copied over SSH)."""

    host: Host = Field(description="address or name of the legacy host")
    port: int = Field(22, ge=1, le=65535)
    user: str = Field(description="SSH user on the legacy host")
    credentials: Slug | None = Field(None, description="an entry of 'credentials' (key or password file)")
    paths: list[str] = Field(default_factory=list, description="data directories to migrate")
    health: str | None = Field(None, description="URL whose 200 answer means the service is healthy")


class Service(Model):
    """How the system's service is started and stopped on its hosts, and the record its users reach it by.

    ``start`` and ``stop`` are shell commands run on the legacy host (as ``source.user``) and on the target
    servers (as the server login) by the migration playbooks; ``start`` must return once the service runs in
    the background (e.g. ``setsid -f ...``), ``stop`` must succeed when it is already stopped. At cutover the
    ``name`` line of the hosts-format file ``records`` (on the operations host) is switched to the targets'
    addresses, and back at a rollback."""

    start: str = Field(min_length=1, description="shell command that starts the service in the background")
    stop: str = Field(min_length=1, description="shell command that stops it (exit 0 when already stopped)")
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$",
                             description="the service's DNS name, e.g. oa.nx.gov.cn")
    records: str | None = Field(None, description="hosts-format file on the operations host holding 'ADDRESS name' "
                                "lines (a DNS zone's export, say)")

    @model_validator(mode="after")
    def _name_with_records(self) -> Service:
        if (self.name is None) != (self.records is None):
            raise fail("name and records go together", "give both (the record to switch at cutover) or neither")
        return self


class BackupPolicy(Model):
    """How the system's data is copied to the backup cloud and proven restorable."""

    rpo: Duration = Field(description="recovery point objective, e.g. 4h")
    retain: Duration = Field(description="how long copies are kept, e.g. 14d")
    drill: Literal["weekly", "monthly", "quarterly"] = Field("monthly", description="restore drill frequency")
    to: Slug = Field("backup", description="the backup node that holds the copies")


class System(Model):
    """An application system: what runs, where, migrated from where, backed up how."""

    code: Slug = Field(description="stable identifier, e.g. nxdrc-oa")
    name: str | None = None
    department: Slug = Field(description="code of the owning department")
    level: int = Field(ge=1, le=5, description="protection level (等级保护) 1-5")
    placement: Placement = Field(description="{mode: active-active|active-standby|single, ...}")
    source: LegacySource | None = None
    service: Service | None = Field(None, description="{start, stop} commands; optional {name, records} switched "
                                    "at cutover")
    servers: list[Server] = Field(default_factory=list)
    backup: BackupPolicy | None = None


class Plane(Model):
    """A backbone plane of the extranet, with its own AS."""

    name: str = Field(pattern=r"^[A-Za-z0-9]{1,8}$", description="plane name, e.g. A")
    asn: int = Field(ge=1, le=4294967295, description="the plane's AS number, e.g. 65101")
    description: str | None = None


class Site(Model):
    """An extranet site at one of the five levels, keyed by its division code."""

    code: DivisionCode = Field(description="GB/T 2260 division code, quoted, e.g. '640104'")
    name: str = Field(description="site name, e.g. 兴庆区")
    level: SiteLevel = Field(description="region, city, county, township or village")
    parent: DivisionCode | None = Field(None, description="division code of the parent site")


def _port_pattern(value: Any) -> str:
    if not isinstance(value, str):
        raise fail(f"expected a port name pattern, got {value!r}", PATTERN_HINT)
    try:
        parse_pattern(value)
    except ValueError as error:
        raise fail(str(error), PATTERN_HINT) from None
    if not value.strip() or any(c.isspace() for c in value):
        raise fail(f"port pattern {value!r} has white space", "interface names have none")
    return value


def _port_names(value: Any) -> Any:
    """Port numbers as integers, each once (YAML keys 1 and '1' are the same port)."""
    if not isinstance(value, dict):
        return value
    out: dict[int, Any] = {}
    for key, name in value.items():
        text = str(key).strip() if isinstance(key, int | str) and not isinstance(key, bool) else ""
        if not text.isdigit():
            raise fail(f"port {key!r} is not a port number", "ports are numbered 0, 1, 2 ... as in the IPv6 plan")
        port = int(text)
        if port in out:
            raise fail(f"port {port} is mapped twice", "map each port number once")
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise fail(f"port {port}: {name!r} is not an interface name", "a name without spaces, e.g. "
                       "XGigabitEthernet0/0/1")
        out[port] = name
    return out


PortPattern = Annotated[str, BeforeValidator(_port_pattern)]
PortNames = Annotated[dict[int, str], BeforeValidator(_port_names)]


class RouterModel(Model):
    """A router model: its platform and how it names the ports the IPv6 plan numbers."""

    platform: Platform = Field(description="huawei_vrp, h3c_comware, frr or cisco_ios")
    ports: PortPattern = Field(description='the interface name of port n, with {n} (or {n+1} to count from 1), '
                               'e.g. "100GE1/0/{n}"')
    description: str | None = None

    @model_validator(mode="after")
    def _names_fit_platform(self) -> RouterModel:
        problem = pattern_problem(parse_pattern(self.ports), self.platform)
        if problem is not None:
            raise fail(problem, PATTERN_HINT)
        return self


class Device(Model):
    """A router attached to one plane, or (plane omitted) dual-homed to every plane."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="device host name")
    site: DivisionCode = Field(description="division code of the site it serves")
    plane: str | None = Field(None, description="the plane it is attached to; omit for a router on every plane")
    platform: Platform = Field(description="huawei_vrp, h3c_comware, frr or cisco_ios")
    host: Host = Field(description="management address")
    port: int = Field(22, ge=1, le=65535)
    credentials: Slug = Field(description="an entry of 'credentials'")
    model: str | None = Field(None, description="an entry of extranet.models: how the device names its ports")
    ports: PortNames | None = Field(None, description="interface names by port number, e.g. {0: "
                                    "XGigabitEthernet0/0/1}; before the model's or the platform's naming")


class Extranet(Model):
    prefix: IPv6Prefix = Field(description="the region's IPv6 block, e.g. 2001:db8:6400::/40")
    planes: list[Plane] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    models: dict[str, RouterModel] = Field(
        default_factory=dict, description='router models by name, e.g. {ce6881: {platform: huawei_vrp, ports: '
        '"100GE1/0/{n}"}}')


class Estate(Model):
    """The whole estate. Build it with :func:`nxgov.estate.load_estate`, which checks cross-references."""

    estate: Slug = Field(description="the estate's name, e.g. ningxia")
    description: str | None = None
    clouds: dict[Slug, CloudNode] = Field(description="cloud nodes by name: yinchuan, zhongwei, backup")
    cloud_ipv6: IPv6Prefix | None = Field(None, description="block the departments' IPv6 allocations come from")
    operations: list[AnyPrefix] = Field(default_factory=list,
                                        description="prefixes management access is allowed from")
    credentials: dict[Slug, CredentialRef] = Field(default_factory=dict)
    server_access: ServerAccess | None = Field(
        None, description="how nxgov logs in to the servers it creates, e.g. {credentials: ops-servers, keypair: "
        "nxgov-ops}")
    flavors: dict[str, Flavor] = Field(default_factory=dict,
                                       description="sizes of the flavors servers use, e.g. {m1.medium: {vcpus: 2, "
                                       "ram_mb: 4096}}; checked by migrate plan")
    departments: list[Department] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    extranet: Extranet | None = None

    def primary_nodes(self) -> list[str]:
        return [name for name, node in self.clouds.items() if node.role == "primary"]

    def department(self, code: str) -> Department:
        return next(d for d in self.departments if d.code == code)
