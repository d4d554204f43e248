"""The Kubernetes boundary: the only package that imports ``kubernetes``.

Objects cross it as plain dicts (raw JSON), never client model objects.
"""

from __future__ import annotations

from kgit.cluster.client import (
    CONFIGMAP,
    CRD,
    LEASE,
    NAMESPACE,
    SECRET,
    Cluster,
    connect,
)
from kgit.cluster.discovery import Discovery, Resource
from kgit.cluster.errors import (
    AlreadyExistsError,
    ApiError,
    ApplyConflictError,
    Cause,
    ConflictError,
    ForbiddenError,
    ImmutableFieldError,
    InvalidError,
    KubeconfigError,
    NotFoundError,
    NotKubernetesError,
    UnknownKindError,
    UnreachableError,
)
from kgit.cluster.listing import ListResult, list_objects
from kgit.cluster.waiters import wait_established, wait_gone

__all__ = [
    "CONFIGMAP",
    "CRD",
    "LEASE",
    "NAMESPACE",
    "SECRET",
    "AlreadyExistsError",
    "ApiError",
    "ApplyConflictError",
    "Cause",
    "Cluster",
    "ConflictError",
    "Discovery",
    "ForbiddenError",
    "ImmutableFieldError",
    "InvalidError",
    "KubeconfigError",
    "ListResult",
    "NotFoundError",
    "NotKubernetesError",
    "Resource",
    "UnknownKindError",
    "UnreachableError",
    "connect",
    "list_objects",
    "wait_established",
    "wait_gone",
]
