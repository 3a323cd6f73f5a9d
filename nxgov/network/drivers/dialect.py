"""What nxgov must know of a platform's command line to drive it: one frozen value per platform."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from netmiko.base_connection import BaseConnection

from nxgov.network.drivers import config

ConfigKind = Literal["running", "saved"]


@dataclass(frozen=True)
class Dialect:
    """A platform's CLI: its netmiko class, configuration syntax, commands and the texts it prints."""

    connection_class: type[BaseConnection]
    syntax: config.Syntax
    show_commands: dict[ConfigKind, str]
    """The commands that print the running and the saved configuration."""
    prompt: str
    """Matches the prompt at the end of what the device printed."""
    error: re.Pattern[str]
    """Matches a reply line in which the device refuses a command."""
    config_commands: tuple[str, str]
    """The commands that enter and leave configuration mode."""
    config_prompt: re.Pattern[str]
    """Matches a prompt of configuration mode."""
    save_command: str
    """Saves the running configuration (answered yes when it asks)."""
