"""FRRouting: vtysh behind an sshd whose ForceCommand is vtysh, driven with netmiko ``cisco_ios``.

``write memory`` saves (the integrated ``frr.conf``); ``show startup-config`` shows what is saved.
Stock ``cisco_ios`` waits for 2 s of silence in every configuration-mode check, like ``huawei``;
:class:`VtyshSSH` reads up to the prompt instead.
"""

from __future__ import annotations

import re
from typing import ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.cisco.cisco_ios import CiscoIosSSH

from nxgov.network.drivers import config
from nxgov.network.drivers.base import ConfigKind, Driver


class VtyshSSH(CiscoIosSSH):
    """netmiko ``cisco_ios`` whose check_config_mode reads up to the prompt instead of waiting for silence."""

    def check_config_mode(self, check_string: str = ")#", pattern: str = r"[>#]", force_regex: bool = False) -> bool:
        return BaseConnection.check_config_mode(self, check_string=check_string, pattern=pattern)


class FrrDriver(Driver):
    platform: ClassVar[str] = "frr"
    connection_class: ClassVar[type[BaseConnection]] = VtyshSSH
    syntax: ClassVar[config.Syntax] = config.Syntax(
        separator="!",
        noise=re.compile(r"^(?:exit(?:-[\w-]+)?|end|Building configuration\.\.\.|Current configuration:.*"
                         r"|frr (?:version|defaults) .*)$"),
        negation="no",
        leave="exit",
        keep_blocks=re.compile(r"^interface "),
    )
    show_commands: ClassVar[dict[ConfigKind, str]] = {
        "running": "show running-config",
        "saved": "show startup-config",
    }
    error: ClassVar[re.Pattern[str]] = re.compile(r"^\s*%\s*(?!Warning)")
    prompt: ClassVar[str] = r"(?:^|\n)[\w.\-]+(?:\([\w\-]+\))?[#>]\s*$"

    config_commands: ClassVar[tuple[str, str]] = ("configure terminal", "end")
    config_prompt: ClassVar[re.Pattern[str]] = re.compile(r"\)#$")

    def save_command(self) -> str:
        return "write memory"
