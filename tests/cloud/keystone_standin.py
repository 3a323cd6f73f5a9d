"""A stand-in for a keystoneauth plugin, for the token cache's tests that need no cloud."""

from __future__ import annotations


class Plugin:
    """Just enough of a keystoneauth plugin: only its auth-state calls matter to the token cache."""

    def __init__(self, state: str) -> None:
        self.state: str | None = state

    def get_auth_state(self) -> str | None:
        return self.state

    def set_auth_state(self, state: str | None) -> None:
        self.state = state or self.state

    def invalidate(self) -> bool:
        return True
