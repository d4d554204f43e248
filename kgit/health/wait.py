"""Waiting for health, decided purely: when a wait is over, and what it ends with.

The polling itself (reading objects, their pods and events) is
:func:`kgit.cluster.health.wait_healthy`'s; it asks :func:`decide_wait` after each read
and builds a :class:`HealthReport` at the end.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgit.health.model import Health, Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class WaitOutcome(enum.Enum):
    """How a wait for health ended."""

    CURRENT = "current"  # every object is Current
    FAILED = "failed"  # an object is Failed: waiting longer cannot help
    TIMED_OUT = "timed out"  # the deadline passed with objects not yet Current
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM, or the stack's lock was lost


@dataclass(frozen=True, slots=True)
class ObjectHealth:
    """One object's health at the end of a wait, with the evidence when it is not Current.

    ``evidence`` is :meth:`kgit.health.Evidence.summary`'s line (``pod web-7d9…:
    ImagePullBackOff (nginx:v3)``), "" for a Current object or when nothing shows.
    """

    subject: str  # Kind/namespace/name
    health: Health
    evidence: str = ""

    @property
    def status(self) -> Status:
        """The object's kstatus status."""
        return self.health.status

    def describe(self) -> str:
        """``Deployment/web/nginx: rollout failed: ProgressDeadlineExceeded; pod …``."""
        text = f"{self.subject}: {self.health.message}"
        return f"{text}; {self.evidence}" if self.evidence else text


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The end of a wait: its outcome and each object's health, in the order given."""

    outcome: WaitOutcome
    objects: tuple[ObjectHealth, ...]
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        """True when every object is Current."""
        return self.outcome is WaitOutcome.CURRENT

    @property
    def problems(self) -> tuple[ObjectHealth, ...]:
        """The objects that are not Current, Failed ones first."""
        rest = [o for o in self.objects if o.status is not Status.CURRENT]
        return tuple(sorted(rest, key=lambda o: o.status is not Status.FAILED))

    def summary(self) -> str:
        """Counts by status: ``1 Failed, 2 Current`` (``no objects`` for an empty wait)."""
        return summarize_statuses(o.status for o in self.objects)

    def record(self) -> str:
        """What the history and the watch status keep: ``current: 3 Current``."""
        return f"{self.outcome.value}: {self.summary()}"


def summarize_statuses(statuses: Iterable[Status]) -> str:
    """``1 Failed, 1 InProgress, 2 Current``: counts in the order of :class:`Status`."""
    counts = Counter(statuses)
    parts = [f"{counts[s]} {s.value}" for s in _SEVERITY if counts[s]]
    return ", ".join(parts) or "no objects"


# Worst first, so a summary leads with what needs a look.
_SEVERITY = (
    Status.FAILED,
    Status.UNKNOWN,
    Status.NOT_FOUND,
    Status.TERMINATING,
    Status.IN_PROGRESS,
    Status.CURRENT,
)


# How long a wait gives a custom resource's controller to write a first status.
STATUS_GRACE = 5.0


def await_first_status(obj: Mapping[str, Any] | None, health: Health, waited: float) -> Health:
    """``health``, or InProgress while a custom resource has no status at all and the wait
    is younger than ``STATUS_GRACE`` seconds.

    kstatus calls a custom resource without conditions Current, so a wait that reads it
    before its controller first wrote (``Ready=False``) would end at once; Flux and kapp
    share the caveat. Built-in kinds (the core group, ``apps``, ``*.k8s.io``…) are left
    alone: their rules know what their status means.
    """
    if obj is None or health.status is not Status.CURRENT or waited >= STATUS_GRACE:
        return health
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    built_in = "." not in group or group.endswith(".k8s.io")
    if built_in or obj.get("status"):
        return health
    return Health(Status.IN_PROGRESS, "NoStatusYet", "no status from its controller yet")


def decide_wait(healths: Iterable[Health]) -> WaitOutcome | None:
    """Whether a wait is over: FAILED as soon as one object Failed, CURRENT once all are,
    None while any is still on its way (InProgress, Terminating, NotFound, Unknown)."""
    statuses = [h.status for h in healths]
    if Status.FAILED in statuses:
        return WaitOutcome.FAILED
    if all(s is Status.CURRENT for s in statuses):
        return WaitOutcome.CURRENT
    return None
