"""Time spans for people: one wording everywhere (``backup status``, ``nxgov status``)."""

from __future__ import annotations


def span(seconds: float | None) -> str:
    """A span as its two largest units: 1d 2h, 3h 5m, 42s (None: 0s)."""
    left = int(seconds or 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts[:2])
