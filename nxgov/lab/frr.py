"""The lab's dual-plane extranet: one FRR router per ``frr`` device of the lab estate, cabled as nxgov plans.

Each router is a network namespace ``nxl-<device>`` running zebra, staticd, bgpd, ospf6d and bfdd (as
user frr, sockets, pid files and config under ``<lab>/extranet/<device>/``) plus an sshd whose
ForceCommand is vtysh, so netmiko's ``cisco_ios`` driver can configure it and ``write memory`` saves
``frr.conf``. The root namespace reaches every router's sshd over a management bridge ``nxl-mgmt``
(2001:db8:ffff:1::1/64); each router answers on its estate ``host`` in that /64.

The cabling is nxgov's own (:func:`cabled`): every port of a device's intent becomes an interface of
the same name (``eth<port>``, as the FRR renderer names it), and the two ends of a link between lab
routers are the two ends of one veth pair. A port whose peer is not a lab router (a device the lab does
not run) is a veth whose far end waits in the namespace ``nxl-beyond`` (the kernel here has no dummy
interfaces): present and up, leading nowhere.

A simulated VRP or Comware device (``RouterSpec.simulated``) is a router here too: the data plane of the
simulator's device (:mod:`nxgov.lab.netsim.dataplane`), with zebra, staticd, bgpd and bfdd, its ports
``eth<port>`` whatever the vendor calls them, cabled like any other. It has no sshd and no management port:
its CLI is the simulator's, on loopback, which configures its FRR through vtysh. The
routers start *bare* (hostname only: no address, no BGP), so ``nxgov net push`` configures them from
the intent exactly as it would configure a real router. A topology may carry a router's initial
``config`` instead (the lab's own tests start routers already configured).
"""

from __future__ import annotations

import ipaddress
import json
import os
import pwd
import shutil
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nxgov.errors import LabError
from nxgov.lab import sshd
from nxgov.lab.apt import ensure_packages
from nxgov.lab.ledger import Entry, Ledger
from nxgov.lab.netns import (
    IFNAMSIZ,
    PREFIX,
    ComponentStatus,
    Progress,
    add_address,
    add_bridge,
    add_netns,
    add_veth,
    alive,
    describe,
    namespaces,
    run,
    set_link,
    spawn,
    sysctl,
    terminate,
    wait_for,
)
from nxgov.network.intent import DeviceIntent
from nxgov.network.render.frr import port_name

COMPONENT = "extranet"
FRR_DIR = Path("/usr/lib/frr")
PACKAGES: tuple[str, ...] = ("frr", *sshd.PACKAGES)
"""Debian packages the extranet part runs on: FRRouting, and OpenSSH's server in front of vtysh."""
VTYSH = Path("/usr/bin/vtysh")
DAEMONS = ("zebra", "staticd", "bgpd", "ospf6d", "bfdd")
SIMULATED_DAEMONS = ("zebra", "staticd", "bgpd", "bfdd")
"""A simulated device's data plane: what its translated configuration uses (no OSPFv3)."""
MGMT_BRIDGE = f"{PREFIX}mgmt"
BEYOND = f"{PREFIX}beyond"
MGMT_NET = ipaddress.IPv6Network("2001:db8:ffff:1::/64")  # not ffff::/64: the OpenStack lab holds ffff::1
RESERVED_IFNAMES = ("lo", "mgmt0")
SOCKET_PATH_MAX = 100
CONVERGE_TIMEOUT = 30.0


@dataclass(frozen=True)
class PortSpec:
    """An interface of a router: its ``name``, the ``plane`` of its link and the ``peer`` device at the far end."""

    name: str
    plane: str
    peer: str


@dataclass(frozen=True)
class RouterSpec:
    """One FRR router: ``name`` is the estate device (and the hostname), ``host`` its management address.

    ``config`` is the frr.conf it starts with; None starts it bare (:func:`bare_config`). A ``simulated``
    router is a simulated device's data plane: no sshd, no management port (``host`` is the simulator's).
    """

    name: str
    site: str
    host: str
    ports: tuple[PortSpec, ...]
    config: str | None = None
    simulated: bool = False

    @property
    def daemons(self) -> tuple[str, ...]:
        return SIMULATED_DAEMONS if self.simulated else DAEMONS

    @property
    def netns(self) -> str:
        return f"{PREFIX}{self.name}"


@dataclass(frozen=True)
class Cable:
    """A veth pair between two lab routers on ``plane``: (router, interface) at each end."""

    plane: str
    a: tuple[str, str]
    b: tuple[str, str]


@dataclass(frozen=True)
class Topology:
    """The lab routers, parents first. Cables are implied: a port whose peer is a lab router meets that
    router's port towards it on the same plane."""

    routers: tuple[RouterSpec, ...]

    def router(self, name: str) -> RouterSpec:
        for r in self.routers:
            if r.name == name:
                return r
        raise LabError(f"the lab extranet has no router {name!r}", f"routers: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [r.name for r in self.routers]

    def cables(self) -> list[Cable]:
        """Every link between two lab routers, once (from the end listed first)."""
        names, out, seen = set(self.names()), [], set()
        for r in self.routers:
            for port in r.ports:
                if port.peer not in names or (port.peer, r.name, port.plane) in seen:
                    continue
                seen.add((r.name, port.peer, port.plane))
                out.append(Cable(port.plane, (r.name, port.name), (port.peer, self._far_port(r.name, port).name)))
        return out

    def stubs(self) -> list[tuple[RouterSpec, PortSpec]]:
        """Ports whose peer is not a lab router (their far ends are in :data:`BEYOND`)."""
        names = set(self.names())
        return [(r, port) for r in self.routers for port in r.ports if port.peer not in names]

    def _far_port(self, router: str, port: PortSpec) -> PortSpec:
        back = [p for p in self.router(port.peer).ports if p.peer == router and p.plane == port.plane]
        if len(back) != 1:
            raise LabError(f"lab router {router} port {port.name} (plane {port.plane}) leads to {port.peer}, which "
                           f"has {len(back)} ports back to it on that plane; a link needs exactly one")
        return back[0]

    def validate(self) -> None:
        names = self.names()
        if len(set(names)) != len(names):
            raise LabError("the lab topology names a router twice")
        hosts = [r.host for r in self.managed()]
        if len(set(hosts)) != len(hosts):
            raise LabError("two lab routers share a management address", "give every frr device its own host")
        for r in self.routers:
            if not r.name.replace("-", "").isalnum() or len(r.netns) > 24:
                raise LabError(f"lab router name {r.name!r}: use up to 20 letters, digits and '-'")
            host = ipaddress.ip_address(r.host)
            if not r.simulated and (host not in MGMT_NET or host == MGMT_NET[1]):
                raise LabError(f"lab router {r.name} has host {r.host}, outside the lab's management network",
                               f"set the device's host in the lab estate to an address of {MGMT_NET} "
                               f"other than {MGMT_NET[1]} (the bridge)")
            ports = [p.name for p in r.ports]
            bad = [p for p in ports if p in RESERVED_IFNAMES or not 0 < len(p) <= IFNAMSIZ]
            if bad or len(set(ports)) != len(ports):
                raise LabError(f"lab router {r.name} has unusable or repeated interface names: {', '.join(ports)}")
        self.cables()

    def managed(self) -> list[RouterSpec]:
        """The routers reached over the management bridge (every one but the simulated devices' data planes)."""
        return [r for r in self.routers if not r.simulated]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Topology:
        raw = json.loads(text)
        return cls(tuple(RouterSpec(**{**r, "ports": tuple(PortSpec(**p) for p in r["ports"])})
                         for r in raw["routers"]))


def cabled(intents: Iterable[DeviceIntent], hosts: Mapping[str, str], simulated: Collection[str] = ()) -> Topology:
    """The lab routers for the devices' ``intents``, each port named as the FRR renderer names it (the estate's
    name for it, else ``eth<port>``); the ``simulated`` devices' ports are ``eth<port>`` (vendor names are no
    Linux interface names)."""
    return Topology(tuple(
        RouterSpec(i.name, i.site, hosts[i.name],
                   tuple(PortSpec(port_name(p.port) if i.name in simulated else p.name or port_name(p.port),
                                  p.plane, p.peer) for p in i.interfaces), simulated=i.name in simulated)
        for i in intents))


def bare_config(router: RouterSpec) -> str:
    """What a router starts with when its topology gives no config: its name, nothing routed."""
    return f"hostname {router.name}\nservice integrated-vtysh-config\n!\n"


@dataclass(frozen=True)
class RouterAccess:
    """How to reach one router's vtysh over SSH (netmiko ``cisco_ios``)."""

    name: str
    host: str
    port: int
    username: str
    key_file: Path
    known_hosts: Path


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

    def topology(self) -> Topology:
        try:
            return Topology.from_json(self._topology_file.read_text())
        except FileNotFoundError as exc:
            raise LabError("the lab extranet is not up", "run 'nxgov lab up' first") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise LabError(f"the lab extranet's {self._topology_file} is not a topology this nxgov reads ({exc})",
                           "rebuild the extranet: nxgov lab up --only extranet") from exc

    def vty_dir(self, router: str) -> Path:
        """Where ``router``'s daemons have their vty sockets (vtysh --vty_socket)."""
        return self._run_dir(router)

    def access(self, router: str) -> RouterAccess:
        return RouterAccess(router, self.topology().router(router).host, 22, "root", self.key_file, self.known_hosts)

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
        ensure_packages(PACKAGES)
        sshd.ensure_sshd()
        self._prepare_files(topology)
        say(f"extranet: {len(topology.routers)} router namespaces, {len(topology.cables())} plane links, "
            f"{len(topology.stubs())} ports to devices outside the lab")
        self._build_network(topology)
        say("extranet: starting FRR daemons and sshd")
        self._start_daemons(topology)
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
            bgp = f"BGP {up}/{len(peers)} established" if peers else "no BGP configured"
            reached = f"CLI {r.host} (simulator)" if r.simulated else f"ssh {r.host}"
            out.append(ComponentStatus(COMPONENT, r.name, "running",
                                       f"site {r.site}, {len(r.ports)} ports, {bgp}, {reached}"))
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
        for r in topology.routers:
            rdir, run_dir = self._rdir(r.name), self._run_dir(r.name)
            if len(str(run_dir / "zserv.api")) > SOCKET_PATH_MAX:
                raise LabError(f"the lab directory path is too long for FRR's sockets: {run_dir}",
                               "use a shorter lab directory")
            if run_dir.exists():
                shutil.rmtree(run_dir)
            for d in (run_dir, rdir / "log"):
                d.mkdir(parents=True, exist_ok=True)
                os.chown(d, frr.pw_uid, frr.pw_gid)
            (rdir / "frr.conf").write_text(bare_config(r) if r.config is None else r.config)
            (rdir / "vtysh.conf").write_text("service integrated-vtysh-config\n")
            if r.simulated:
                continue
            (rdir / "authorized_keys").write_text(client_key + "\n")
            host_key = rdir / "ssh_host_ed25519_key"
            known.append(sshd.known_hosts_line([r.host], sshd.ensure_key(host_key, r.name)))
            force = f"ForceCommand {VTYSH} --vty_socket {run_dir} --config_dir {rdir}"
            (rdir / "sshd_config").write_text(sshd.config(
                [r.host], host_key, run_dir / "sshd.pid", "root",
                ["StrictModes no", f"AuthorizedKeysFile {rdir / 'authorized_keys'}", force,
                 "AllowTcpForwarding no", "PrintLastLog no"]))
        self.known_hosts.write_text("\n".join(known) + "\n")
        self.credentials.touch(mode=0o600)
        self.credentials.chmod(0o600)
        self.credentials.write_text(json.dumps({"username": "root", "key_file": str(self.key_file), "port": 22,
                                                "known_hosts": str(self.known_hosts)}, indent=1))
        self._topology_file.write_text(topology.to_json())

    def _build_network(self, topology: Topology) -> None:
        if topology.managed():
            add_bridge(self.ledger, COMPONENT, MGMT_BRIDGE)
            add_address(None, MGMT_BRIDGE, f"{MGMT_NET[1]}/{MGMT_NET.prefixlen}")
            set_link(None, MGMT_BRIDGE, True)
        for i, r in enumerate(topology.routers):
            add_netns(self.ledger, COMPONENT, r.netns, router=r.name)
            sysctl(r.netns, "net.ipv6.conf.all.forwarding", "1")
            if r.simulated:
                continue
            outside = f"nxlm{i}"
            add_veth(self.ledger, COMPONENT, (outside, None), ("mgmt0", r.netns), router=r.name)
            set_link(None, outside, True, master=MGMT_BRIDGE)
            add_address(r.netns, "mgmt0", f"{r.host}/{MGMT_NET.prefixlen}")
            set_link(r.netns, "mgmt0", True)
        for cable in topology.cables():
            ends = [(port, topology.router(router).netns) for router, port in (cable.a, cable.b)]
            add_veth(self.ledger, COMPONENT, ends[0], ends[1], plane=cable.plane)
            for dev, ns in ends:
                set_link(ns, dev, True)
        stubs = topology.stubs()
        if stubs:
            add_netns(self.ledger, COMPONENT, BEYOND)
        for r, port in stubs:
            far = f"x{topology.names().index(r.name)}-{port.name}"
            add_veth(self.ledger, COMPONENT, (port.name, r.netns), (far, BEYOND), plane=port.plane, towards=port.peer)
            set_link(r.netns, port.name, True)
            set_link(BEYOND, far, True)

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
                for daemon in (d for d in stage if d in r.daemons):
                    (self._rdir(r.name) / f"{daemon}.conf").touch()
                    spawn(self.ledger, COMPONENT, f"{r.name}/{daemon}", self._daemon_argv(r.name, daemon),
                          r.netns, self._rdir(r.name) / "log" / f"{daemon}.out", hostname=r.name, router=r.name)
            for r in topology.routers:
                for daemon in (d for d in stage if d in r.daemons):
                    sock = self._run_dir(r.name) / f"{daemon}.vty"
                    wait_for(sock.exists, 15, f"{daemon} of lab router {r.name} (see {sock.parent.parent}/log)")
        for r in topology.routers:
            run([str(VTYSH), "--vty_socket", str(self._run_dir(r.name)), "--config_dir", str(self._rdir(r.name)),
                 "-b"], netns=r.netns)
            if r.simulated:
                continue
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
        """True when every router has an Established BGP session per link to another lab router."""
        topology = self.topology()
        cabled = {name: 0 for name in topology.names()}
        for cable in topology.cables():
            cabled[cable.a[0]] += 1
            cabled[cable.b[0]] += 1
        for name, links in cabled.items():
            peers = self.bgp_summary(name).get("peers", {}).values()
            if sum(1 for p in peers if p.get("state") == "Established") < links:
                return False
        return True

    def wait_converged(self, timeout: float = CONVERGE_TIMEOUT) -> float:
        """Wait until :meth:`established` (a session per link between lab routers); return the seconds it took."""
        return wait_for(self.established, timeout, "every lab BGP session to be Established",
                        "look at 'show bgp summary' on the routers and at <lab>/extranet/<router>/log")

    def set_link(self, router: str, peer: str, plane: str, up: bool) -> str:
        """Bring ``router``'s port towards ``peer`` on ``plane`` down or up (the cable is cut at that end; the far
        end loses its carrier); return it as ``router:port``."""
        port = next((p for p in self.topology().router(router).ports if p.peer == peer and p.plane == plane), None)
        if port is None:
            raise LabError(f"lab router {router} has no port towards {peer} on plane {plane}")
        set_link(self.topology().router(router).netns, port.name, up)
        return f"{router}:{port.name}"

    def set_plane(self, plane: str, up: bool) -> list[str]:
        """Bring every port of ``plane`` (both ends of each link) down or up; return them as ``router:port``."""
        changed = []
        for r in self.topology().routers:
            for port in r.ports:
                if port.plane == plane:
                    set_link(r.netns, port.name, up)
                    changed.append(f"{r.name}:{port.name}")
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
