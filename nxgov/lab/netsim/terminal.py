"""The line discipline of a device's VTY: echo, line editing, Enter, Ctrl+Z, Ctrl+C.

Input arrives in arbitrary chunks (netmiko may send several commands in one write); ``feed``
echoes what was typed, hands each completed line to the CLI and returns everything to print.
"""

from __future__ import annotations

from nxgov.lab.netsim.base import Cli, Reply

_CTRL_C, _CTRL_Z, _BACKSPACES = "\x03", "\x1a", ("\x7f", "\x08")


class Terminal:
    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self._line: list[str] = []
        self._after_cr = False

    def greeting(self) -> str:
        return "\r\n".join(self.cli.banner()) + "\r\n" + self.cli.prompt()

    def feed(self, data: str) -> Reply:
        out: list[str] = []
        for char in data:
            after_cr, self._after_cr = self._after_cr, char == "\r"
            if char == "\n" and after_cr:
                continue
            if char in "\r\n":
                line, self._line = "".join(self._line), []
                reply = self.cli.handle(line)
                out.append("\r\n" + reply.text)
                if reply.close:
                    return Reply("".join(out), close=True)
            elif char in (_CTRL_C, _CTRL_Z):
                self._line = []
                reply = self.cli.ctrl_z() if char == _CTRL_Z else self.cli.handle("")
                out.append("^" + chr(ord(char) + 64) + "\r\n" + reply.text)
            elif char in _BACKSPACES:
                if self._line:
                    self._line.pop()
                    out.append("\b \b")
            elif char.isprintable():
                self._line.append(char)
                out.append(char)
        return Reply("".join(out))
