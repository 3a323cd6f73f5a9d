"""The lab's dual-plane extranet: one FRR router per site, linked to its parent on plane A and on plane B.

Each router is a network namespace ``nxl-<name>`` running zebra, staticd, bgpd, ospf6d and bfdd (as
user frr, sockets, pid files and config under ``<lab>/extranet/<name>/``) plus an sshd whose
ForceCommand is vtysh, so netmiko's ``cisco_ios`` driver can configure it and ``write memory`` saves
``frr.conf``. The root namespace reaches every router's sshd over a management bridge ``nxl-mgmt``
(2001:db8:ffff:1::1/64; router *i* answers on 2001:db8:ffff:1::10+i). Plane links are veth pairs named
``nxl<link><plane><end>``. Every address comes from 2001:db8::/32.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pwd
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from nxgov.errors import LabError
from nxgov.lab import sshd
from nxgov.lab.ledger import Entry, Ledger
from nxgov.lab.netns import (
    PREFIX,
    ComponentStatus,
    Progress,
    add_address,
    add_bridge,
    add_netns,
    add_veth,
    alive,
    describe,
    documentation_address,
    ensure_package,
    namespaces,
    run,
    set_link,
    spawn,
    sysctl,
    terminate,
    wait_for,
)

COMPONENT = "extranet"
FRR_DIR = Path("/usr/lib/frr")
VTYSH = Path("/usr/bin/vtysh")
DAEMONS = ("zebra", "staticd", "bgpd", "ospf6d", "bfdd")
MGMT_BRIDGE = f"{PREFIX}mgmt"
MGMT_NET = ipaddress.IPv6Network("2001:db8:ffff:1::/64")  # not ffff::/64: the OpenStack lab holds ffff::1
MGMT_FIRST = 0x10
LOOPBACKS = ipaddress.IPv6Network("2001:db8:ff00::/64")
PRIVATE_ASN = 4_200_000_000
SOCKET_PATH_MAX = 100
CONVERGE_TIMEOUT = 30.0


@dataclass(frozen=True)
class RouterSpec:
    """One FRR router. ``plane`` is None for a router on every plane. ``loopback6`` is a bare address."""

    name: str
    site_code: str
    plane: str | None
    asn: int
    loopback6: str
    site_prefix6: str | None = None

    @property
    def netns(self) -> str:
        return f"{PREFIX}{self.name}"

    @property
    def router_id(self) -> str:
        """BGP router id: the low 32 bits of the loopback (no IPv4 address exists in the lab)."""
        return str(ipaddress.IPv4Address(int(ipaddress.IPv6Address(self.loopback6)) & 0xFFFFFFFF))


@dataclass(frozen=True)
class LinkSpec:
    """A point-to-point link of ``plane``; ``a_router`` gets ``prefix6``::1, ``b_router`` ::2."""

    plane: str
    a_router: str
    b_router: str
    prefix6: str

    def address(self, end: int) -> str:
        net = ipaddress.IPv6Network(self.prefix6)
        return f"{net[end + 1]}/{net.prefixlen}"


@dataclass(frozen=True)
class Topology:
    routers: tuple[RouterSpec, ...]
    links: tuple[LinkSpec, ...]

    def router(self, name: str) -> RouterSpec:
        for r in self.routers:
            if r.name == name:
                return r
        raise LabError(f"the lab extranet has no router {name!r}", f"routers: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [r.name for r in self.routers]

    def veth(self, index: int, end: int) -> str:
        return f"nxl{index}{self.links[index].plane.lower()}{end}"

    def neighbors(self, router: str) -> list[tuple[LinkSpec, int, str]]:
        """(link, this router's end, the veth at this end) for every link of ``router``."""
        out = []
        for i, link in enumerate(self.links):
            for end, name in enumerate((link.a_router, link.b_router)):
                if name == router:
                    out.append((link, end, self.veth(i, end)))
        return out

    def validate(self) -> None:
        names = self.names()
        if len(set(names)) != len(names):
            raise LabError("the lab topology names a router twice")
        for r in self.routers:
            if not r.name.replace("-", "").isalnum() or len(r.netns) > 24:
                raise LabError(f"lab router name {r.name!r}: use up to 20 letters, digits and '-'")
            for text in (r.loopback6, r.site_prefix6 or "2001:db8::/32"):
                _ipv6(text)
        ids = {r.router_id for r in self.routers}
        if len(ids) != len(self.routers) or "0.0.0.0" in ids:
            raise LabError("the lab routers' loopbacks must differ (and be non-zero) in their low 32 bits")
        for i, link in enumerate(self.links):
            self.router(link.a_router)
            self.router(link.b_router)
            _ipv6(link.prefix6)
            if len(self.veth(i, 1)) > 15:
                raise LabError(f"plane name {link.plane!r} is too long for a veth name; use a short plane name")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Topology:
        raw = json.loads(text)
        return cls(tuple(RouterSpec(**r) for r in raw["routers"]), tuple(LinkSpec(**k) for k in raw["links"]))


def _ipv6(text: str) -> None:
    if documentation_address(text).version != 6:
        raise LabError(f"lab extranet address {text} is not IPv6", "the extranet is IPv6-only: use 2001:db8::/32")


class SiteLike(Protocol):
    """What :func:`default_topology` needs of a site (the estate's ``Site`` fits)."""

    @property
    def code(self) -> str: ...

    @property
    def parent(self) -> str | None: ...


def default_topology(sites: Iterable[SiteLike], planes: Sequence[str] = ("A", "B")) -> Topology:
    """One router per site (private ASN each), linked to its parent's router once per plane.

    Router *i* (parents before children) is ``r<code>`` with loopback 2001:db8:ff00::<i+1>, site prefix
    2001:db8:<1000+i>::/48; plane *p*'s link to child *c* is 2001:db8:fa<p>:<c>::/64.
    """
    pending = list(sites)
    known = {s.code for s in pending}
    for s in pending:
        if s.parent is not None and s.parent not in known:
            raise LabError(f"site {s.code} names parent {s.parent}, which is not among the lab's sites")
    ordered: list[SiteLike] = []
    placed: set[str | None] = {None}
    while pending:
        ready = [s for s in pending if s.parent in placed]
        if not ready:
            raise LabError("the lab's sites form a parent cycle: " + ", ".join(s.code for s in pending))
        ordered += ready
        placed |= {s.code for s in ready}
        pending = [s for s in pending if s.code not in placed]
    routers = tuple(
        RouterSpec(f"r{s.code}", s.code, None, PRIVATE_ASN + i, str(LOOPBACKS[i + 1]),
                   f"2001:db8:{0x1000 + i:x}::/48")
        for i, s in enumerate(ordered)
    )
    links = tuple(
        LinkSpec(plane, f"r{s.parent}", f"r{s.code}", f"2001:db8:fa{p:02x}:{c:x}::/64")
        for c, s in enumerate(ordered) if s.parent is not None
        for p, plane in enumerate(planes)
    )
    return Topology(routers, links)


@dataclass(frozen=True)
class RouterAccess:
    """How to reach one router's vtysh over SSH (netmiko ``cisco_ios``)."""

    name: str
    host: str
    port: int
    username: str
    key_file: Path
    known_hosts: Path


def render_config(router: RouterSpec, topology: Topology, bfd: bool) -> str:
    """The router's initial frr.conf: eBGP over every plane link, advertising loopback and site prefix."""
    peers = []
    for link, end, _ in topology.neighbors(router.name):
        peer = topology.router((link.a_router, link.b_router)[1 - end])
        peers.append((link.address(1 - end).split("/")[0], peer, link.plane, end == 0))
    lines = [f"hostname {router.name}", "service integrated-vtysh-config", "!"]
    if router.site_prefix6:
        lines += [f"ipv6 route {router.site_prefix6} blackhole", "!"]
    if bfd:
        lines += ["bfd", " profile lab", "  transmit-interval 300", "  receive-interval 300", " exit", "exit", "!"]
    lines += [
        f"router bgp {router.asn}",
        f" bgp router-id {router.router_id}",
        " no bgp ebgp-requires-policy",
        " no bgp default ipv4-unicast",
        " bgp default ipv6-unicast",  # active from the neighbor's first line: no reset for a later 'activate'
        " bgp bestpath as-path multipath-relax",
    ]
    for address, peer, plane, passive in peers:
        lines += [
            f" neighbor {address} remote-as {peer.asn}",
            f" neighbor {address} description plane {plane} to {peer.name}",
            f" neighbor {address} timers 1 3",
            f" neighbor {address} timers connect 1",
            f" neighbor {address} advertisement-interval 0",
        ]
        if passive:  # the child opens every session: no OPEN collisions
            lines.append(f" neighbor {address} passive")
        if bfd:
            lines.append(f" neighbor {address} bfd profile lab")
    lines += [" !", " address-family ipv6 unicast", f"  network {router.loopback6}/128"]
    if router.site_prefix6:
        lines.append(f"  network {router.site_prefix6}")
    lines += ["  maximum-paths 8", " exit-address-family", "exit", "!", "line vty", "!"]
    return "\n".join(lines) + "\n"


class Extranet:
    """The lab's FRR extranet under ``<lab_dir>/extranet``; every namespace, link and process is in the ledger."""

    def __init__(self, lab_dir: Path) -> None:
        self.lab_dir = lab_dir
        self.dir = lab_dir / "extranet"
        self.ledger = Ledger(lab_dir)
        self._topology_file = self.dir / "topology.json"
        self.key_file = self.dir / "id_ed25519"
        self.known_hosts = self.dir / "known_hosts"
        self.credentials = self.dir / "credentials.json"

    # -- paths -------------------------------------------------------------------------------------
    def _rdir(self, name: str) -> Path:
        return self.dir / name

    def _run_dir(self, name: str) -> Path:
        return self._rdir(name) / "run"

    def _mgmt(self, index: int) -> str:
        return str(MGMT_NET[MGMT_FIRST + index])

    def topology(self) -> Topology:
        try:
            return Topology.from_json(self._topology_file.read_text())
        except FileNotFoundError as exc:
            raise LabError("the lab extranet is not up", "run 'nxgov lab up' first") from exc

    def access(self, router: str) -> RouterAccess:
        index = self.topology().names().index(self.topology().router(router).name)
        return RouterAccess(router, self._mgmt(index), 22, "root", self.key_file, self.known_hosts)

    # -- lifecycle ---------------------------------------------------------------------------------
    def up(self, topology: Topology, progress: Progress | None = None) -> list[ComponentStatus]:
        """Bring the extranet up; when the same topology is already running, report it and change nothing."""
        say = progress or (lambda _msg: None)
        topology.validate()
        if self.ledger.entries(COMPONENT):
            if self._running(topology):
                return [ComponentStatus(s.component, s.name, s.state, f"already running; {s.detail}")
                        for s in self.status()]
            say("extranet: removing a stale or different lab extranet")
            self.down()
        ensure_package("frr", FRR_DIR / "zebra")
        sshd.ensure_sshd()
        self._prepare_files(topology)
        say(f"extranet: {len(topology.routers)} router namespaces, {len(topology.links)} plane links")
        self._build_network(topology)
        say("extranet: starting FRR daemons and sshd")
        self._start_daemons(topology)
        say(f"extranet: BGP converged on every plane in {self.wait_converged(CONVERGE_TIMEOUT):.1f} s")
        return self.status()

    def down(self) -> list[str]:
        """Remove everything the extranet recorded in the ledger; works after a partial or failed up."""
        terminate(self.ledger.entries(COMPONENT))
        gone = [describe(e) for e in self.ledger.release(COMPONENT)]
        self._topology_file.unlink(missing_ok=True)
        return gone

    def status(self) -> list[ComponentStatus]:
        if not self._topology_file.exists():
            return [ComponentStatus(COMPONENT, "extranet", "stopped", "not up")]
        topology = self.topology()
        present = namespaces()
        out = []
        for r in topology.routers:
            entries = self._router_processes(r.name)
            if r.netns not in present or not entries:
                out.append(ComponentStatus(COMPONENT, r.name, "stopped", "namespace or daemons missing"))
                continue
            if not alive(entries):
                out.append(ComponentStatus(COMPONENT, r.name, "degraded", "a daemon has died"))
                continue
            peers = self.bgp_summary(r.name).get("peers", {})
            up = sum(1 for p in peers.values() if p.get("state") == "Established")
            state = "running" if up == len(topology.neighbors(r.name)) else "degraded"
            out.append(ComponentStatus(COMPONENT, r.name, state,
                                       f"site {r.site_code}, AS {r.asn}, BGP {up}/{len(peers)} established, "
                                       f"ssh {self.access(r.name).host}"))
        return out

    def _running(self, topology: Topology) -> bool:
        try:
            same = self.topology() == topology
        except LabError:
            return False
        present = namespaces()
        return same and all(r.netns in present and self._router_processes(r.name) for r in topology.routers) and alive(
            self.ledger.entries(COMPONENT))

    def _router_processes(self, name: str) -> list[Entry]:
        return [e for e in self.ledger.entries(COMPONENT) if e.kind == "process" and e.info.get("router") == name]

    # -- build -------------------------------------------------------------------------------------
    def _prepare_files(self, topology: Topology) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        frr = pwd.getpwnam("frr")
        _check_reachable(self.dir)
        client_key = sshd.ensure_key(self.key_file, "nxgov-lab-operator")
        known = []
        for i, r in enumerate(topology.routers):
            rdir, run_dir = self._rdir(r.name), self._run_dir(r.name)
            if len(str(run_dir / "zserv.api")) > SOCKET_PATH_MAX:
                raise LabError(f"the lab directory path is too long for FRR's sockets: {run_dir}",
                               "use a shorter lab directory")
            if run_dir.exists():
                shutil.rmtree(run_dir)
            for d in (run_dir, rdir / "log"):
                d.mkdir(parents=True, exist_ok=True)
                os.chown(d, frr.pw_uid, frr.pw_gid)
            (rdir / "frr.conf").write_text(render_config(r, topology, (FRR_DIR / "bfdd").exists()))
            (rdir / "vtysh.conf").write_text("service integrated-vtysh-config\n")
            (rdir / "authorized_keys").write_text(client_key + "\n")
            host_key = rdir / "ssh_host_ed25519_key"
            known.append(sshd.known_hosts_line([self._mgmt(i)], sshd.ensure_key(host_key, r.name)))
            force = f"ForceCommand {VTYSH} --vty_socket {run_dir} --config_dir {rdir}"
            (rdir / "sshd_config").write_text(sshd.config(
                [self._mgmt(i)], host_key, run_dir / "sshd.pid", "root",
                ["StrictModes no", f"AuthorizedKeysFile {rdir / 'authorized_keys'}", force,
                 "AllowTcpForwarding no", "PrintLastLog no"]))
        self.known_hosts.write_text("\n".join(known) + "\n")
        self.credentials.touch(mode=0o600)
        self.credentials.chmod(0o600)
        self.credentials.write_text(json.dumps({"username": "root", "key_file": str(self.key_file), "port": 22,
                                                "known_hosts": str(self.known_hosts)}, indent=1))
        self._topology_file.write_text(topology.to_json())

    def _build_network(self, topology: Topology) -> None:
        add_bridge(self.ledger, COMPONENT, MGMT_BRIDGE)
        add_address(None, MGMT_BRIDGE, f"{MGMT_NET[1]}/{MGMT_NET.prefixlen}")
        set_link(None, MGMT_BRIDGE, True)
        for i, r in enumerate(topology.routers):
            add_netns(self.ledger, COMPONENT, r.netns, router=r.name)
            sysctl(r.netns, "net.ipv6.conf.all.forwarding", "1")
            add_address(r.netns, "lo", f"{r.loopback6}/128")
            outside = f"nxlm{i}"
            add_veth(self.ledger, COMPONENT, (outside, None), ("mgmt0", r.netns), router=r.name)
            set_link(None, outside, True, master=MGMT_BRIDGE)
            add_address(r.netns, "mgmt0", f"{self._mgmt(i)}/{MGMT_NET.prefixlen}")
            set_link(r.netns, "mgmt0", True)
        for i, link in enumerate(topology.links):
            a, b = topology.router(link.a_router), topology.router(link.b_router)
            ends = [(topology.veth(i, 0), a.netns), (topology.veth(i, 1), b.netns)]
            add_veth(self.ledger, COMPONENT, ends[0], ends[1], plane=link.plane)
            for end, (dev, ns) in enumerate(ends):
                add_address(ns, dev, link.address(end))
                set_link(ns, dev, True)

    def _daemon_argv(self, name: str, daemon: str) -> list[str]:
        run_dir = self._run_dir(name)
        argv = [str(FRR_DIR / daemon), "-u", "frr", "-g", "frr", "--vty_socket", str(run_dir),
                "-i", str(run_dir / f"{daemon}.pid"), "-z", str(run_dir / "zserv.api"), "-P", "0",
                "-f", str(self._rdir(name) / f"{daemon}.conf"),
                "--log", f"file:{self._rdir(name) / 'log' / f'{daemon}.log'}"]
        return [*argv, "--bfdctl", str(run_dir / "bfdd.sock")] if daemon == "bfdd" else argv

    def _start_daemons(self, topology: Topology) -> None:
        daemons = [d for d in DAEMONS if (FRR_DIR / d).exists()]
        for stage in (daemons[:1], daemons[1:]):
            for r in topology.routers:
                for daemon in stage:
                    (self._rdir(r.name) / f"{daemon}.conf").touch()
                    spawn(self.ledger, COMPONENT, f"{r.name}/{daemon}", self._daemon_argv(r.name, daemon),
                          r.netns, self._rdir(r.name) / "log" / f"{daemon}.out", hostname=r.name, router=r.name)
            for r in topology.routers:
                for daemon in stage:
                    sock = self._run_dir(r.name) / f"{daemon}.vty"
                    wait_for(sock.exists, 15, f"{daemon} of lab router {r.name} (see {sock.parent.parent}/log)")
        for r in topology.routers:
            run([str(VTYSH), "--vty_socket", str(self._run_dir(r.name)), "--config_dir", str(self._rdir(r.name)),
                 "-b"], netns=r.netns)
            spawn(self.ledger, COMPONENT, f"{r.name}/sshd", [str(sshd.SSHD), "-D", "-e", "-f",
                  str(self._rdir(r.name) / "sshd_config")], r.netns, self._rdir(r.name) / "log" / "sshd.log",
                  hostname=r.name, router=r.name)

    # -- operation ---------------------------------------------------------------------------------
    def vtysh(self, router: str, command: str) -> str:
        """Run one vtysh command on ``router`` (inside its namespace) and return its output."""
        spec = self.topology().router(router)
        return run([str(VTYSH), "--vty_socket", str(self._run_dir(router)), "-c", command], netns=spec.netns)

    def _json(self, router: str, command: str) -> dict[str, Any]:
        out = self.vtysh(router, command)
        try:
            parsed: dict[str, Any] = json.loads(out or "{}")
        except json.JSONDecodeError as exc:
            raise LabError(f"router {router} gave no JSON for {command!r}: {out[:200]}") from exc
        return parsed

    def routes(self, router: str) -> dict[str, Any]:
        """``show ipv6 route json``: prefix -> list of route entries (with ``nexthops``)."""
        return self._json(router, "show ipv6 route json")

    def bgp_summary(self, router: str) -> dict[str, Any]:
        """``show bgp ipv6 unicast summary json`` (``peers`` maps each neighbor address to its ``state``)."""
        return self._json(router, "show bgp ipv6 unicast summary json")

    def established(self) -> bool:
        """True when every BGP session of every router is Established."""
        topology = self.topology()
        for r in topology.routers:
            peers = self.bgp_summary(r.name).get("peers", {})
            if len(peers) != len(topology.neighbors(r.name)):
                return False
            if any(p.get("state") != "Established" for p in peers.values()):
                return False
        return True

    def wait_converged(self, timeout: float = CONVERGE_TIMEOUT) -> float:
        """Wait until every BGP session is Established; return the seconds it took."""
        return wait_for(self.established, timeout, "every lab BGP session to be Established",
                        "look at 'show bgp summary' on the routers and at <lab>/extranet/<router>/log")

    def set_plane(self, plane: str, up: bool) -> list[str]:
        """Bring both ends of every link of ``plane`` down or up; return the veths changed."""
        topology = self.topology()
        changed = []
        for i, link in enumerate(topology.links):
            if link.plane != plane:
                continue
            for end, name in enumerate((link.a_router, link.b_router)):
                set_link(topology.router(name).netns, topology.veth(i, end), up)
                changed.append(topology.veth(i, end))
        if not changed:
            raise LabError(f"the lab extranet has no links on plane {plane!r}")
        return changed


def _check_reachable(path: Path) -> None:
    """FRR drops to user frr: every directory above its sockets must be searchable by others."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise LabError(
                f"user frr cannot reach the lab directory: {parent} is not searchable by others",
                f"chmod o+x {parent}, or choose a lab directory under a world-searchable path",
            )
