"""What an apply did: results in the past tense, never mixed with planned actions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kgit.health.wait import HealthReport
    from kgit.manifests.keys import ObjectKey


class Result(enum.Enum):
    """What happened to one object."""

    CREATED = "created"
    UPDATED = "updated"
    ADOPTED = "adopted"
    REPLACED = "replaced"
    DELETED = "deleted"
    FORGOTTEN = "forgotten"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ObjectResult:
    """The outcome for one object; ``message`` is the API server's word on a failure."""

    key: ObjectKey
    result: Result
    message: str = ""
    seconds: float = 0.0
    uid: str = ""


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """The user's choices for one apply."""

    allow_replace: bool = False
    adopt: bool = False
    wait: bool = False
    concurrency: int = 8
    timeout: float = 300.0
    who: str = ""


@dataclass(slots=True)
class ApplyReport:
    """Every object's result, in the order they finished, and the new state serial.

    ``health`` is how the wait for health ended (``--wait``), None without one.
    """

    results: list[ObjectResult] = field(default_factory=list)
    serial: int = 0
    interrupted: bool = False
    health: HealthReport | None = None

    def count(self, *results: Result) -> int:
        """How many objects ended in any of ``results``."""
        return sum(1 for r in self.results if r.result in results)

    @property
    def failed(self) -> bool:
        """True when any object failed, the run was cut short, or the health wait did not
        end with every object Current."""
        unhealthy = self.health is not None and not self.health.healthy
        return self.interrupted or unhealthy or self.count(Result.FAILED) > 0
