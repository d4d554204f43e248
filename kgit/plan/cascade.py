"""What deleting a Namespace deletes with it, and when that refuses the plan.

The namespace controller deletes everything inside a deleted Namespace, whoever made it.
So a plan that deletes a Namespace is refused while anything inside it is still in Git,
and while it holds objects the stack does not own (unless ``--allow-cascade``: then the
plan lists them). What the stack owns and deletes anyway is the plan's own business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.plan.model import Action, CascadeDelete

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kgit.plan.inputs import ContainedObject, PlanInputs, PlanOptions
    from kgit.plan.model import ObjectChange

NAMESPACE_KIND = ("", "Namespace")
# Made in every Namespace by the control plane, and gone with it: nobody's loss.
_SYSTEM_OBJECTS = frozenset(
    {("", "ServiceAccount", "default"), ("", "ConfigMap", "kube-root-ca.crt")}
)
# Records of what happens to other objects (events; a Service's endpoints), not objects
# anyone declares.
_DERIVED_KINDS = frozenset({("", "Event"), ("events.k8s.io", "Event"), ("", "Endpoints")})
# Names listed in a refusal before "and N more".
_NAMED = 5


@dataclass(frozen=True, slots=True)
class Cascade:
    """The objects the stack does not own that its Namespace deletes take along, and why
    the plan is refused (if it is)."""

    deletes: tuple[CascadeDelete, ...] = ()
    errors: tuple[str, ...] = ()


def is_derived(item: ContainedObject) -> bool:
    """True for what lives and dies with something else: owned objects, events, the
    control plane's own objects of every Namespace."""
    key = item.key
    return (
        item.owned
        or (key.group, key.kind) in _DERIVED_KINDS
        or (key.group, key.kind, key.name) in _SYSTEM_OBJECTS
    )


def deleted_namespaces(changes: Sequence[ObjectChange]) -> list[str]:
    """The Namespaces ``changes`` delete."""
    return sorted(
        c.key.name
        for c in changes
        if c.action is Action.DELETE and (c.key.group, c.key.kind) == NAMESPACE_KIND
    )


def compute_cascade(
    inputs: PlanInputs, changes: Sequence[ObjectChange], options: PlanOptions
) -> Cascade:
    """The cascade of every Namespace ``changes`` delete, from ``inputs.namespace_contents``.

    Refused: a Namespace whose contents could not all be listed (absent from an answer is
    not absent from the cluster), one holding objects still in Git, and one holding objects
    the stack does not own unless ``options.allow_cascade``.
    """
    in_git = {d.key for d in inputs.desired}
    deleted = {c.key for c in changes if c.action is Action.DELETE}
    cascade: list[CascadeDelete] = []
    errors: list[str] = []
    for name in deleted_namespaces(changes):
        subject = f"Namespace/{name}"
        errors += [
            f"{subject} is removed from Git but {key.subject} is still in Git"
            for key in sorted(in_git)
            if key.namespace == name
        ]
        why = inputs.namespace_unlisted.get(name)
        contents = inputs.namespace_contents.get(name)
        if why or contents is None:
            errors.append(
                f"{subject}: not everything inside it could be listed "
                f"({why or 'not listed'}); refusing to delete it (absent from an answer is "
                "not absent from the cluster)"
            )
            continue
        unowned = [
            CascadeDelete(item.key, item.stack)
            for item in sorted(contents, key=lambda i: i.key)
            if not is_derived(item) and item.key not in deleted and item.key not in in_git
        ]
        if unowned and not options.allow_cascade:
            names = ", ".join(c.key.subject for c in unowned[:_NAMED])
            more = f" and {len(unowned) - _NAMED} more" if len(unowned) > _NAMED else ""
            errors.append(
                f"{subject}: deleting it would also delete {len(unowned)} "
                f"{'object' if len(unowned) == 1 else 'objects'} not owned by this stack "
                f"({names}{more}); move or delete them first, or plan with --allow-cascade"
            )
        cascade += unowned
    return Cascade(tuple(cascade), tuple(errors))
