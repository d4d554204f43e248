"""Apply order: what must exist before what, and deletions in reverse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.plan.model import Action

if TYPE_CHECKING:
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.model import ObjectChange

# (group, kind) -> rank; lower ranks are applied first. Namespaces and CRDs first, then
# cluster-scoped RBAC (roles before their bindings), identities and configuration before
# workloads; admission webhooks last, so they cannot reject the objects of the same plan.
_RANKS: dict[tuple[str, str], int] = {
    ("", "Namespace"): 0,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): 1,
    ("rbac.authorization.k8s.io", "ClusterRole"): 2,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): 3,
    ("", "ServiceAccount"): 4,
    ("rbac.authorization.k8s.io", "Role"): 4,
    ("rbac.authorization.k8s.io", "RoleBinding"): 5,
    ("", "ConfigMap"): 5,
    ("", "Secret"): 5,
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): 9,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): 9,
}
_DEFAULT_RANK = 7
STEPS = 10


def rank(key: ObjectKey) -> int:
    """The step of ``key`` in apply order (0 first)."""
    return _RANKS.get((key.group, key.kind), _DEFAULT_RANK)


def is_removal(change: ObjectChange) -> bool:
    """Deletions and forgets run after every create and update."""
    return change.action in (Action.DELETE, Action.FORGET)


def sort_changes(changes: list[ObjectChange]) -> tuple[ObjectChange, ...]:
    """Creates/updates by rank then key; then deletions by reverse rank.

    Custom resources are deleted before their CRD and everything before its Namespace.
    """

    def order(change: ObjectChange) -> tuple[int, int, ObjectKey]:
        if is_removal(change):
            return (1, STEPS - rank(change.key), change.key)
        return (0, rank(change.key), change.key)

    return tuple(sorted(changes, key=order))
