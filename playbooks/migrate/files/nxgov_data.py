"""The program the migration's copy task runs on the source and on each target, for its data paths: on a target,
first, the copy of the paths from the legacy host with rsync (``copy_from``); on every host, the SHA-256 manifest
of the paths.

``playbooks/migrate/tasks/copy.yml`` runs it with the host's Python through Ansible's ``raw`` action, the program's
text and its arguments (JSON) on the command line: one command in the SSH session Ansible already holds, where a
module would cost Ansible's packaging of it (AnsiballZ) and the import of ``ansible.module_utils.basic`` on the host,
or, as a non-Python-packaged module, four more commands to copy it and its arguments over and make it executable
(measured in the README, "Benchmarks"). It needs nothing but Python 3's standard library and rsync. Each target
copies, then takes its manifest in the same process, while the source takes its own at the lowest CPU priority
(the legacy host may still be serving).

The manifest is hashed with Python's hashlib (OpenSSL), several times faster than coreutils' sha256sum, and is the
same text the earlier ``find | sort | xargs sha256sum`` pipeline printed: one ``<sha256>  <path>/<file>`` line per
regular file (symbolic links not followed, the top-level ``.nxgov-partial`` folder of rsync's partial transfers
left out), sorted by the file's path bytes; a name holding a backslash or a newline is escaped and its line starts
with a backslash, as sha256sum does. A file that cannot be read is left out, with a warning.

The copy: each target pulls through the reverse tunnel nxgov opened to it for the run (127.0.0.1:``port`` -> the
legacy host's sshd), logging in with the operations host's SSH agent forwarded in Ansible's session (no key is left
on the target), the legacy host's key pinned in ``known_hosts_file``. rsync sends only what differs, keeps a killed
transfer's partial file in .nxgov-partial to resume from, gives up after ``io_timeout`` seconds without traffic and
keeps to ``bwlimit`` (rsync's --bwlimit: 0 is no limit, 20M is 20 MiB/s).

Prints one JSON object: ``changed``, ``manifest`` (the text), ``files``, ``bytes`` (the regular files' sizes),
``warnings``, and after a copy ``received`` (the bytes rsync received, its own count) and ``stdout`` (rsync's
statistics of each path). On failure it has ``failed`` and ``msg``, the message is also the last line on stderr
and the exit status is 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from typing import Any

PARTIAL = b".nxgov-partial"
CHUNK = 1 << 20
RECEIVED = re.compile(r"^Total bytes received: ([\d,]+)", re.MULTILINE)
NOTHING_SENT = "Number of regular files transferred: 0"


def files(top: bytes, warnings: list[str]) -> list[tuple[bytes, int]]:
    """Every regular file under ``top`` (``./``-relative path, size), the top-level partial folder left out,
    sorted by path."""
    found: list[tuple[bytes, int]] = []
    pending = [b"."]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(top, folder)))
        except OSError as error:
            warnings.append(f"cannot list {os.fsdecode(os.path.join(top, folder))}: {error.strerror}")
            continue
        for entry in entries:
            rel = os.path.join(folder, entry.name)
            if rel == b"./" + PARTIAL:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as error:
                warnings.append(f"cannot read {os.fsdecode(entry.path)}: {error.strerror}")
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(rel)
            elif stat.S_ISREG(info.st_mode):
                found.append((rel, info.st_size))
    return sorted(found)


def sha256(path: bytes) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while True:
            read = handle.readinto(buffer)
            if not read:
                return digest.hexdigest()
            digest.update(view[:read])


def line(digest: str, path: bytes) -> str:
    """sha256sum's line for ``path``: a name with a backslash or a newline escaped, and the line marked with a
    leading backslash."""
    name = path.decode(errors="backslashreplace")
    if "\\" in name or "\n" in name:
        return "\\" + digest + "  " + name.replace("\\", "\\\\").replace("\n", "\\n")
    return digest + "  " + name


def manifest(paths: list[str]) -> tuple[str, int, int, list[str]]:
    """(manifest text, files, bytes, warnings) of ``paths``; ValueError naming a path that is not a directory."""
    lines: list[str] = []
    total = 0
    warnings: list[str] = []
    for path in paths:
        top = os.fsencode(path)
        if not os.path.isdir(top):
            raise ValueError(f"data path {path} is missing")
        for rel, size in files(top, warnings):
            total += size
            try:
                digest = sha256(os.path.join(top, rel))
            except OSError as error:
                warnings.append(f"cannot read {os.fsdecode(os.path.join(top, rel))}: {error.strerror}")
                continue
            lines.append(line(digest, top.rstrip(b"/") + rel[1:]))
    return "".join(f"{text}\n" for text in lines), len(lines), total, warnings


def rsync_argv(source: dict[str, Any], path: str) -> list[str]:
    """The rsync command line that pulls ``path`` from the legacy host through the tunnel."""
    rsh = (f"ssh -p {int(source['port'])} -o HostKeyAlias=nxgov-source -o StrictHostKeyChecking=yes "
           f"-o UserKnownHostsFile={source['known_hosts_file']} -o BatchMode=yes -o ServerAliveInterval=5 "
           "-o ServerAliveCountMax=2 -o ConnectTimeout=10")
    return ["rsync", "--archive", "--delete", "--partial-dir=.nxgov-partial", "--stats", "--no-human-readable",
            f"--timeout={int(source['io_timeout'])}", f"--bwlimit={source['bwlimit']}", "--rsh", rsh,
            f"{source['user']}@127.0.0.1:{path}/", f"{path}/"]


def arguments(text: str) -> tuple[list[str], dict[str, Any] | None]:
    """``paths`` and ``copy_from`` from the JSON arguments; ValueError saying what is wrong."""
    args = json.loads(text)
    paths, source = args.get("paths"), args.get("copy_from")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise ValueError("paths must be a list of folders")
    if source is not None and not isinstance(source, dict):
        raise ValueError("copy_from must be a mapping")
    return paths, source


def run(paths: list[str], source: dict[str, Any] | None) -> dict[str, Any]:
    """The copy (when ``source`` is given) and the manifest; ``failed`` and ``msg`` when a step fails."""
    result: dict[str, Any] = {"changed": False, "warnings": []}
    if source is None:  # on the legacy host, which may still serve: its manifest yields to everything else
        os.nice(19)
    else:
        known = str(source["known_hosts_file"])
        for folder in [*paths, os.path.dirname(known)]:
            os.makedirs(folder, exist_ok=True)
        with open(known, "w") as handle:
            handle.write(f"{source['known_host']}\n")
        outputs, received = [], 0
        for path in paths:
            done = subprocess.run(rsync_argv(source, path), capture_output=True, text=True, check=False,
                                  env={**os.environ, "LC_ALL": "C"})
            outputs.append(done.stdout)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or [""])[-1]
                return {**result, "failed": True, "rc": done.returncode, "stdout": "".join(outputs),
                        "msg": f"rsync of {path} from the source exited {done.returncode}: {last}".rstrip(": ")}
            found = RECEIVED.search(done.stdout)
            received += int(found.group(1).replace(",", "")) if found else 0
            result["changed"] = result["changed"] or NOTHING_SENT not in done.stdout
        result.update(stdout="".join(outputs), received=received)
    try:
        text, count, total, warnings = manifest(paths)
    except ValueError as error:
        return {**result, "failed": True, "msg": str(error)}
    result.update(manifest=text, files=count, bytes=total, warnings=warnings)
    return result


def main(argv: list[str]) -> int:
    try:
        paths, source = arguments(argv[1] if len(argv) == 2 else "")
    except ValueError as error:
        result: dict[str, Any] = {"failed": True, "msg": f"nxgov_data: bad arguments: {error}"}
    else:
        result = run(paths, source)
    print(json.dumps(result))
    if result.get("failed"):
        print(result["msg"], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
