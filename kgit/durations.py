"""Durations as people write them on the command line: ``30s``, ``5m``, ``1h30m``."""

from __future__ import annotations

import re

from kgit.errors import ConfigError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration (``5m``, ``90s``, ``1h30m``, ``500ms``) or a number.

    Raises :class:`ConfigError` for anything else, or for zero.
    """
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ConfigError(f"{text!r}: not a duration (like 30s, 5m, 1h30m)") from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise ConfigError(f"{text!r}: a duration must be more than zero")
    return seconds
