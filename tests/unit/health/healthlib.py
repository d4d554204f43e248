"""Inline objects for the health tests: YAML as kubectl shows it, read into plain dicts."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from kgit.health import Health, Status, compute_health


def obj(text: str) -> dict[str, Any]:
    """A live object from inline YAML."""
    loaded: dict[str, Any] = yaml.safe_load(textwrap.dedent(text))
    return loaded


def health(text: str) -> Health:
    """The health of the object written in ``text``."""
    return compute_health(obj(text))


def assert_health(text: str, status: Status, reason: str, message: str | None = None) -> None:
    """``text``'s health has this status and reason (and message, when given)."""
    found = health(text)
    assert (found.status, found.reason) == (status, reason), found
    if message is not None:
        assert found.message == message
