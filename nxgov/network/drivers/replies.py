"""Reading a device's reply to a typed line: up to the next prompt or question, without the echo, and the
refusal in it (pointing at the part of the line the device objected to)."""

from __future__ import annotations

import re
import select
import time

import paramiko
from netmiko.base_connection import BaseConnection
from netmiko.exceptions import ReadTimeout

QUESTION = re.compile(r"\[[Yy]/[Nn]\]\s*:?\s*$")
_TAIL = 4096


def reply_end(prompt: str) -> re.Pattern[str]:
    """Matches the end of a reply: the platform's ``prompt`` or a yes/no question."""
    return re.compile(f"(?:{prompt}|{QUESTION.pattern})")


def read_reply(conn: BaseConnection, end: re.Pattern[str], timeout: float) -> str:
    """Read until the output ends as ``end`` matches, sleeping until data arrives (no polling)."""
    channel = conn.remote_conn
    assert isinstance(channel, paramiko.Channel)
    deadline = time.monotonic() + timeout
    output = ""
    while True:
        output += conn.read_channel()
        if end.search(output[-_TAIL:]):
            return output
        if channel.closed or (channel.eof_received and not channel.recv_ready()):
            raise EOFError("the device closed the session")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReadTimeout(f"no prompt within {timeout:.0f} s")
        select.select([channel], [], [], min(remaining, 0.5))


def last_line(reply: str) -> str:
    """The prompt (or question) a reply ends with."""
    return reply.rstrip().rsplit("\n", 1)[-1].strip()


def after_echo(reply: str, line: str) -> str:
    """The device's reply without the echo of the typed line and without the prompt that ends it."""
    lines = reply.replace("\r", "").split("\n")[:-1]
    if lines and line.strip() and lines[0].strip().endswith(line.strip()):
        lines = lines[1:]
    return "\n".join(lines)


def refusal(error: re.Pattern[str], line: str, reply: str, prompt: str) -> str | None:
    """The device's words when ``reply`` refuses ``line`` (typed after ``prompt``), as ``error`` finds them, with
    the part it objected to when a caret points at it."""
    lines = reply.splitlines()
    for index, text in enumerate(lines):
        if error.search(text):
            caret = lines[index - 1] if index and lines[index - 1].strip() == "^" else ""
            column = caret.index("^") - len(prompt) if caret else -1
            near = f" (at {line[column:]!r})" if 0 <= column < len(line) else ""
            return text.strip() + near
    return None
