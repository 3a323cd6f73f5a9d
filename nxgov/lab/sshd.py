"""OpenSSH pieces shared by the lab's routers and legacy hosts: keys, known_hosts lines, sshd configs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nxgov.lab.apt import ensure_packages
from nxgov.lab.netns import run

SSHD = Path("/usr/sbin/sshd")
PACKAGES: tuple[str, ...] = ("openssh-server", "iproute2", "rsync")
"""What every lab part that runs sshd in a namespace needs (rsync: migrations copy data between legacy hosts and
servers with it; the namespaces run the machine's programs)."""


def ensure_sshd() -> None:
    """OpenSSH's server installed and its privilege-separation directory present (sshd refuses to start without)."""
    ensure_packages(PACKAGES)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


def ensure_key(path: Path, comment: str) -> str:
    """An ed25519 key pair at ``path`` (made once, so it stays stable across ups); return the public key line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return Path(f"{path}.pub").read_text().strip()


def known_hosts_line(addresses: Sequence[str], public_key: str, port: int = 22) -> str:
    """A known_hosts line for a server reachable at ``addresses`` with host key ``public_key``."""
    names = [a if port == 22 else f"[{a}]:{port}" for a in addresses]
    key_type, key = public_key.split()[:2]
    return f"{','.join(names)} {key_type} {key}"


def config(listen: Sequence[str], host_key: Path, pid_file: Path, user: str, extra: Sequence[str] = ()) -> str:
    """An sshd_config: key authentication only, for ``user`` only, listening on ``listen`` port 22."""
    lines = [
        "Port 22",
        *(f"ListenAddress {a}" for a in listen),
        f"HostKey {host_key}",
        f"PidFile {pid_file}",
        f"AllowUsers {user}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "UseDNS no",
        "PrintMotd no",
        "X11Forwarding no",
        "MaxStartups 100:30:200",
        *extra,
    ]
    return "\n".join(lines) + "\n"
