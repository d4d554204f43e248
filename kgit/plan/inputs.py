"""What a plan is computed from: plain data gathered by the I/O layers beforehand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kgit.manifests.keys import ObjectKey


@dataclass(frozen=True, slots=True)
class DesiredObject:
    """An object as Git wants it: normalised, stack label set, Secret values as digests."""

    key: ObjectKey
    obj: Mapping[str, Any]
    source: str
    digest: str


@dataclass(frozen=True, slots=True)
class RecordedObject:
    """An object as kgit last applied it (from the state), Secret values as digests.

    ``pending`` marks an entry written ahead of an apply that did not confirm it.
    """

    key: ObjectKey
    obj: Mapping[str, Any]
    uid: str = ""
    applied_at: str = ""
    pending: bool = False


@dataclass(frozen=True, slots=True)
class LiveObject:
    """An object as the cluster holds it (Secret values as digests, managedFields kept)."""

    key: ObjectKey
    obj: Mapping[str, Any]

    @property
    def resource_version(self) -> str:
        """The object's ``metadata.resourceVersion``."""
        return str((self.obj.get("metadata") or {}).get("resourceVersion") or "")


@dataclass(frozen=True, slots=True)
class DryRun:
    """The answer of a server-side dry-run apply of one desired object.

    ``obj`` is what the server would store; ``immutable`` lists the fields the server
    refused to change (the object must be replaced); ``error`` is any other refusal.
    """

    key: ObjectKey
    obj: Mapping[str, Any] | None = None
    immutable: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class ContainedObject:
    """An object found inside a Namespace the plan may delete (from its metadata only).

    ``stack`` is its ``kgit.dev/stack`` label ("" if none); ``owned`` says another object
    owns it (``ownerReferences``), so it lives and dies with that owner.
    """

    key: ObjectKey
    stack: str = ""
    owned: bool = False


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The user's choices that change what is planned, recorded in the plan they made.

    ``max_delete`` is ``None`` for the default limit; a :class:`~kgit.plan.model.Plan`
    holds the limit it was computed under. ``default_namespace`` and ``state_namespace``
    are the namespaces planning used (flag, else kgit.yaml's, else kgit's default), so
    that applying a stored plan reads Git and the state as planning did; ``None`` when
    not known (then kgit.yaml's at the plan's commit applies). ``take_over_from`` names
    the stack whose objects this plan may take over. ``manifest_generation``: Flux v1
    ``.flux.yaml`` generators were run (``--manifest-generation``). ``allow_cascade`` lets
    a Namespace delete take objects the stack does not own with it; ``destroy`` marks the
    plan of ``kgit destroy`` (every object of the stack deleted).
    """

    allow_empty: bool = False
    max_delete: int | None = None
    adopt: bool = False
    default_namespace: str | None = None
    state_namespace: str | None = None
    take_over_from: str | None = None
    allow_source_change: bool = False
    manifest_generation: bool = False
    allow_cascade: bool = False
    destroy: bool = False


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything :func:`kgit.plan.compute.compute_plan` needs, already read.

    ``unlisted_kinds`` are ``(group, kind)`` pairs whose discovery or LIST failed: what is
    absent from the answer is not absent from the cluster, so nothing of them is pruned;
    ``unlisted_reasons`` says why, when known (the server's refusal, naming verb and
    resource when RBAC forbids it).
    ``pending_kinds`` are custom kinds whose CRD the same plan creates.
    ``namespace_contents`` holds what each Namespace the plan may delete contains;
    ``namespace_unlisted`` says, per such Namespace, why its contents are not all known.
    ``served_versions`` lists the versions the cluster serves of each desired kind it
    knows; ``existing_namespaces`` the Namespaces that exist (None: they could not be listed).
    """

    stack: str
    desired: tuple[DesiredObject, ...]
    recorded: Mapping[ObjectKey, RecordedObject]
    live: Mapping[ObjectKey, LiveObject]
    dry_runs: Mapping[ObjectKey, DryRun] = field(default_factory=dict)
    unlisted_kinds: frozenset[tuple[str, str]] = frozenset()
    unlisted_reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)
    pending_kinds: frozenset[tuple[str, str]] = frozenset()
    namespace_contents: Mapping[str, tuple[ContainedObject, ...]] = field(default_factory=dict)
    namespace_unlisted: Mapping[str, str] = field(default_factory=dict)
    served_versions: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    existing_namespaces: frozenset[str] | None = None
