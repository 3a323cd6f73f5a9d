"""A private root file system for the sshd of a lab namespace (legacy hosts, lab servers): shell lines.

The lines are for ``sh`` running as the first process of ``unshare --mount --pid --fork`` (root, a new mount
namespace, PID 1 of a new PID namespace). ``base`` is a directory under the host's or server's own lab dir;
:func:`prepare` returns, in order:

1. ``mount --make-rprivate /``: no mount made from here on reaches the machine (nor one of the machine's here);
2. a tmpfs of the given size on ``base`` (a tmpfs uses only what is written), with ``upper``, ``work``,
   ``root`` and ``empty`` in it;
3. ``mount -t overlay overlay -o lowerdir=/,upperdir=<base>/upper,workdir=<base>/work <base>/root``: the new
   root is the machine's root file system (its own file system only: nothing mounted below / shows through)
   and every write to it lands in the tmpfs;
4. a fresh proc (the PID namespace's) on its /proc, the machine's /dev and /sys bound recursively, fresh
   tmpfs on /run (with /run/sshd, which sshd needs) and /tmp;
5. for each ``empty`` path, an empty directory of the tmpfs bound over it (what the machine has there is
   hidden, e.g. /root or the lab dir with its credentials);
6. for each :class:`Bind`, a file or directory of the machine bound at its path in the new root: what sshd
   reads from the lab dir (config, host key, authorized_keys), which may lie on a mount of its own (such as
   a tmpfs under /tmp) that the overlay of / does not show.

:func:`enter` is the last line: it makes ``<base>/root`` the root (``pivot_root``, then the machine's old root
detached, so nothing of the machine's mount tree is left in the namespace: neither a way back out to the
machine's / nor copies of other lab mounts such as another host's tmpfs or /run/netns entries, which would
keep those alive) and execs ARGV there, which ends in exec'ing sshd: sshd is PID 1 of the PID namespace. When
it dies the PID namespace ends, then the mount namespace and every mount above with it: whatever was written
inside (say /etc/x or /var/log/x) was never on the machine and is gone. None of these mounts exists in the
root namespace, so none needs a ledger entry.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

RUN_SIZE = "64m"


@dataclass(frozen=True)
class Bind:
    """``source`` (an absolute path on the machine, file or directory) bound at ``target`` in the new root
    (default: the same path), read-only when ``read_only``."""

    source: str
    target: str | None = None
    read_only: bool = False

    @property
    def inside(self) -> str:
        return self.target or self.source


def root(base: str) -> str:
    """The new root's path (as seen before entering it) for a private root set up on ``base``."""
    return posixpath.join(base, "root")


def _absolute(path: str) -> str:
    if not posixpath.isabs(path):
        raise ValueError(f"{path!r}: a private root needs absolute paths")
    return posixpath.normpath(path)


def prepare(base: str, size: str, empty: Sequence[str] = (), binds: Sequence[Bind] = (),
            tmp_size: str | None = None) -> list[str]:
    """The lines that build the private root on ``base`` (see the module docstring), before :func:`enter`.

    ``size`` (e.g. ``1g``) bounds everything written to the new root outside /run and /tmp; /tmp gets
    ``tmp_size`` (default ``size``), /run :data:`RUN_SIZE`.
    """
    base = _absolute(base)
    new = root(base)
    q = shlex.quote
    lines = [
        "mount --make-rprivate /",
        f"mkdir -p {q(base)}",
        f"mount -t tmpfs -o size={q(size)},mode=755 nxlab-privroot {q(base)}",
        f"mkdir -p {q(base + '/upper')} {q(base + '/work')} {q(new)} {q(base + '/empty')}",
        f"mount -t overlay overlay -o lowerdir=/,upperdir={q(base + '/upper')},workdir={q(base + '/work')} {q(new)}",
        f"mount -t proc proc {q(new + '/proc')}",
        f"mount --rbind /dev {q(new + '/dev')}",
        f"mount --rbind /sys {q(new + '/sys')}",
        f"mount -t tmpfs -o size={RUN_SIZE},mode=755 tmpfs {q(new + '/run')}",
        f"mkdir -m 755 {q(new + '/run/sshd')}",
        f"mount -t tmpfs -o size={q(tmp_size or size)},mode=1777 tmpfs {q(new + '/tmp')}",
    ]
    for i, path in enumerate(empty):
        hidden, blank = q(new + _absolute(path)), q(f"{base}/empty/{i}")
        lines += [f"mkdir -p {hidden} {blank}", f"chmod --reference={hidden} {blank}",
                  f"mount --bind {blank} {hidden}"]
    for bind in binds:
        source, target = q(_absolute(bind.source)), new + _absolute(bind.inside)
        lines.append(f"if [ -d {source} ]; then mkdir -p {q(target)}; "
                     f"else mkdir -p {q(posixpath.dirname(target))}; [ -e {q(target)} ] || : > {q(target)}; fi")
        lines.append(f"mount --bind {source} {q(target)}")
        if bind.read_only:
            lines.append(f"mount -o remount,bind,ro {q(target)}")
    return lines


def enter(base: str, argv: Sequence[str]) -> str:
    """The last line: switch to the new root, drop the old one, and replace the shell by ``argv`` (which should
    end by exec'ing sshd). ``pivot_root . .`` stacks the old root on the new one, ``umount -l .`` detaches it."""
    new = shlex.quote(root(_absolute(base)))
    return f"cd {new} && pivot_root . . && umount -l . && cd / && exec {shlex.join(argv)}"
