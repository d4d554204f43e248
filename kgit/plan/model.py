"""The plan as data: frozen dataclasses, no I/O, no client objects.

A :class:`Plan` is computed by :func:`kgit.plan.compute.compute_plan`, stored by
:mod:`kgit.plan.store` and drawn by :mod:`kgit.render`; none of them adds meaning the
others lack.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgit.plan.inputs import PlanOptions

if TYPE_CHECKING:
    from kgit.manifests.keys import ObjectKey

FORMAT_VERSION = 2


class Action(enum.Enum):
    """What a plan intends to do with one object."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    ADOPT = "adopt"
    FORGET = "forget"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        """The Terraform-like marker drawn before the object in a rendered plan."""
        return _SYMBOLS[self]


_SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.REPLACE: "-/+",
    Action.ADOPT: "~",
    Action.FORGET: ".",
    Action.NOOP: " ",
}


class Cause(enum.Enum):
    """Why a field changes: Git moved it, the cluster moved it, or both did."""

    GIT = "git"
    DRIFT = "drift"
    BOTH = "both"


class FieldOp(enum.Enum):
    """How a field changes: added, removed, or set to another value."""

    ADD = "add"
    REMOVE = "remove"
    CHANGE = "change"


class Reason(enum.Enum):
    """Why an object gets its action, beyond its field changes (Terraform's ActionReason).

    Words for each are chosen by :mod:`kgit.render`; the plan holds only the reason.
    """

    ADOPT = "adopt"  # exists in the cluster, not created by kgit
    CRD_PENDING = "crd-pending"  # a custom resource whose CRD this plan creates
    DRIFT_DELETED = "drift-deleted"  # kgit applied it, someone deleted it
    PENDING = "pending"  # recorded ahead by an apply that did not confirm it
    IMMUTABLE = "immutable"  # the server refused to change these fields: replaced
    GONE = "gone"  # forgotten: already gone from the cluster
    NOT_OWNED = "not-owned"  # forgotten: no longer labelled as the stack's
    OWNED = "owned"  # labelled as another stack's: refused unless taken over
    TAKE_OVER = "take-over"  # labelled as another stack's, taken over (--take-over-from)
    TAKEN_OVER = "taken-over"  # forgotten: another stack took it over

    @property
    def has_paths(self) -> bool:
        """True for the reason that names field paths (and only it)."""
        return self is Reason.IMMUTABLE

    @property
    def has_stack(self) -> bool:
        """True for the reasons that name another stack."""
        return self in (Reason.OWNED, Reason.TAKE_OVER, Reason.TAKEN_OVER)


@dataclass(frozen=True, slots=True)
class ChangeReason:
    """One reason for an object's action, with its details.

    ``paths`` are the fields concerned, for a reason that :attr:`Reason.has_paths`;
    ``stack`` the other stack, for a reason that :attr:`Reason.has_stack`.
    """

    reason: Reason
    paths: tuple[str, ...] = ()
    stack: str = ""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one object, before (live) and after (what apply makes of it).

    ``before`` is meaningful for REMOVE and CHANGE, ``after`` for ADD and CHANGE. With
    ``sensitive`` the values are keyed digests, never the values themselves.
    """

    path: str
    op: FieldOp
    before: Any = None
    after: Any = None
    cause: Cause | None = None
    manager: str | None = None
    managed_at: str | None = None
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """The planned action for one object, with its field-level changes.

    ``live_resource_version`` is what the cluster held when planning ("" if absent).
    ``live_digest`` is the sha256 of the live object without its status and the metadata
    the server moves on every write ("" if absent, or in plans from before it): a stored
    plan is stale when it changed, or, without it, when the resourceVersion moved.
    ``desired_digest`` is the sha256 of the desired object as applied ("" when Git does
    not hold it): apply checks it against Git.
    """

    key: ObjectKey
    action: Action
    api_version: str
    fields: tuple[FieldChange, ...] = ()
    live_resource_version: str = ""
    desired_digest: str = ""
    source: str = ""
    reasons: tuple[ChangeReason, ...] = ()
    live_digest: str = ""

    def has_reason(self, reason: Reason) -> bool:
        """True when ``reason`` is one of the change's reasons."""
        return any(why.reason is reason for why in self.reasons)

    @property
    def drifted(self) -> bool:
        """True when the cluster moved away from what kgit last applied."""
        return any(f.cause in (Cause.DRIFT, Cause.BOTH) for f in self.fields) or self.has_reason(
            Reason.DRIFT_DELETED
        )


@dataclass(frozen=True, slots=True)
class PathRead:
    """What a path of the source was read as.

    ``kind`` is ``plain`` (manifest files), ``kustomize``, ``helm`` or ``generators``
    (Flux v1's ``.flux.yaml``); ``detail`` says more (``release shop``).
    """

    path: str
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        if self.kind == "plain":
            return self.path
        return f"{self.path} ({' '.join(w for w in (self.kind, self.detail) if w)})"


@dataclass(frozen=True, slots=True)
class PlanSource:
    """Where the desired objects came from: a commit is always named.

    ``recorded_paths`` are the paths of the stack's last apply when they differ from
    ``paths`` (else empty): a reviewer sees that the plan reads another set.
    ``reads`` says what each path was read as (empty in plans of older kgit versions);
    ``tools`` names the renderers that ran, with their versions (``kustomize v5.8.2``).
    """

    url: str
    commit: str
    paths: tuple[str, ...]
    ref: str = ""
    dirty: bool = False
    recorded_paths: tuple[str, ...] = ()
    reads: tuple[PathRead, ...] = ()
    tools: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CascadeDelete:
    """An object the stack does not own that deleting its Namespace deletes too.

    ``stack`` is the stack that owns it, "" when no kgit stack does.
    """

    key: ObjectKey
    stack: str = ""


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for the summary line, Terraform's way: a replace adds one and deletes one."""

    add: int
    change: int
    delete: int
    forget: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A complete plan for one stack, its changes sorted in apply order."""

    stack: str
    source: PlanSource
    state_serial: int
    state_lineage: str
    changes: tuple[ObjectChange, ...]
    unchanged: int = 0
    warnings: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    created_at: str = ""
    format_version: int = FORMAT_VERSION
    options: PlanOptions = field(default_factory=PlanOptions)
    cascade: tuple[CascadeDelete, ...] = ()

    @property
    def summary(self) -> Summary:
        """Counts of each kind of change."""
        count = {a: 0 for a in Action}
        for change in self.changes:
            count[change.action] += 1
        return Summary(
            add=count[Action.CREATE] + count[Action.REPLACE],
            change=count[Action.UPDATE] + count[Action.ADOPT],
            delete=count[Action.DELETE] + count[Action.REPLACE],
            forget=count[Action.FORGET],
            unchanged=self.unchanged + count[Action.NOOP],
        )

    @property
    def has_changes(self) -> bool:
        """True when applying would change the cluster or the recorded state."""
        return any(c.action is not Action.NOOP for c in self.changes)

    @property
    def has_destruction(self) -> bool:
        """True when the plan deletes or replaces anything (watch's ``safe`` mode waits)."""
        return any(c.action in (Action.DELETE, Action.REPLACE) for c in self.changes)
