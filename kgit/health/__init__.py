"""Health of live objects, with kstatus' semantics, and the evidence of a failure.

Pure functions over plain ``Mapping[str, Any]`` objects as the API server returns them;
nothing here talks to a cluster.

- :func:`compute_health` — Current, InProgress, Failed, Terminating, NotFound or Unknown
  for one object, with a reason and a one-line message.
- :func:`compute_evidence` — for an object that is not healthy, what its pods (waiting
  reasons such as ``ImagePullBackOff`` with the image) and last Warning events show.
"""

from __future__ import annotations

from kgit.health.compute import compute_health
from kgit.health.evidence import (
    EventNote,
    Evidence,
    PodProblem,
    compute_evidence,
    pod_problems,
    pods_of,
    selector_matches,
)
from kgit.health.model import Health, Status

__all__ = [
    "EventNote",
    "Evidence",
    "Health",
    "PodProblem",
    "Status",
    "compute_evidence",
    "compute_health",
    "pod_problems",
    "pods_of",
    "selector_matches",
]
