"""What a watch round may apply by itself (light: the command line reads it for --help)."""

from __future__ import annotations

import enum


class AutoApply(enum.Enum):
    """What a round may apply without a person: every plan, safe plans only, nothing."""

    ALL = "all"
    SAFE = "safe"
    NONE = "none"
