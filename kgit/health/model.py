"""What health is, as data: a status, a reason and a one-line message.

The statuses are kstatus' (``sigs.k8s.io/cli-utils/pkg/kstatus/status``), with their
meaning: Current (reconciled: the live object is what its spec asks for), InProgress (not
yet), Failed (the controller gave up or cannot progress), Terminating (being deleted),
NotFound (no such object) and Unknown (its status cannot be read).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.Enum):
    """kstatus' status of one live object."""

    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class Health:
    """The health of one live object.

    ``reason`` is a CamelCase word for programs (kstatus' condition reasons where it has
    one: ``LessAvailable``, ``ProgressDeadlineExceeded``); ``message`` a line for people
    (``1 of 2 updated replicas available``).
    """

    status: Status
    reason: str
    message: str


def current(message: str, reason: str = "Current") -> Health:
    """A Current health with ``message``."""
    return Health(Status.CURRENT, reason, message)


def in_progress(reason: str, message: str) -> Health:
    """An InProgress health: kstatus' ``Reconciling`` condition."""
    return Health(Status.IN_PROGRESS, reason, message)


def failed(reason: str, message: str) -> Health:
    """A Failed health: kstatus' ``Stalled`` condition."""
    return Health(Status.FAILED, reason, message)


def unknown(message: str) -> Health:
    """The status cannot be read (a malformed status, a phase kstatus does not know)."""
    return Health(Status.UNKNOWN, "Unknown", message)


def plural(count: int, noun: str) -> str:
    """``1 replica``, ``2 replicas``: counts read as English in messages."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (controllers' messages may hold newlines), cut at ``limit``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
