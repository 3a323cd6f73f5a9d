"""H3C Comware 7: netmiko ``hp_comware`` (its configuration-mode check already reads up to the prompt)."""

from __future__ import annotations

import re
from typing import ClassVar

from netmiko.base_connection import BaseConnection
from netmiko.hp.hp_comware import HPComwareSSH

from nxgov.network.drivers import config
from nxgov.network.drivers.base import ConfigKind, Driver
from nxgov.network.drivers.vrp import LOGICAL_INTERFACES, VRP_PROMPT


class ComwareDriver(Driver):
    platform: ClassVar[str] = "h3c_comware"
    connection_class: ClassVar[type[BaseConnection]] = HPComwareSSH
    syntax: ClassVar[config.Syntax] = config.Syntax(
        separator="#",
        noise=re.compile(r"^(?:return|version \d.*)$"),
        negation="undo",
        leave="quit",
        keep_blocks=re.compile(rf"^interface {LOGICAL_INTERFACES}"),
    )
    show_commands: ClassVar[dict[ConfigKind, str]] = {
        "running": "display current-configuration",
        "saved": "display saved-configuration",
    }
    error: ClassVar[re.Pattern[str]] = re.compile(r"^\s*%\s")
    prompt: ClassVar[str] = VRP_PROMPT

    config_commands: ClassVar[tuple[str, str]] = ("system-view", "return")
    config_prompt: ClassVar[re.Pattern[str]] = re.compile(r"\]$")

    def save_command(self) -> str:
        return "save force"
