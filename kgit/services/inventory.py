"""What the cluster holds beyond the kinds a plan names: Namespace contents, labelled objects.

Two reads, each one LIST per listable kind that discovery knows: what is inside the
Namespaces a plan may delete (their cascade), and the objects carrying a stack's label
wherever they are (a lost state, ``kgit state recover``, ``kgit destroy``,
``kgit state list --orphans``). Both run before the pure steps that judge them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgit.cluster.listing import list_objects
from kgit.manifests.keys import ObjectKey
from kgit.manifests.normalize import STACK_LABEL
from kgit.plan.inputs import ContainedObject

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kgit.cluster.client import Cluster
    from kgit.cluster.discovery import Discovery, Resource


@dataclass(frozen=True, slots=True)
class NamespaceContents:
    """What a set of Namespaces holds, and why some could not be read whole."""

    contents: dict[str, tuple[ContainedObject, ...]] = field(default_factory=dict)
    unlisted: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Labelled:
    """Objects carrying a stack label (none owned by another object), by key.

    ``unlisted`` maps each kind whose LIST failed to the error: its objects, if any,
    are missing here.
    """

    objects: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    unlisted: dict[tuple[str, str], str] = field(default_factory=dict)

    def stacks(self) -> dict[str, list[ObjectKey]]:
        """The objects found, by the stack their label names."""
        found: dict[str, list[ObjectKey]] = {}
        for key, obj in sorted(self.objects.items()):
            found.setdefault(_label(obj), []).append(key)
        return found


def listable(discovery: Discovery) -> list[Resource]:
    """Every kind the server lets one LIST."""
    return [r for r in discovery if "list" in r.verbs]


def _label(obj: dict[str, Any]) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(STACK_LABEL) or "")


def _key(resource: Resource, obj: dict[str, Any]) -> ObjectKey:
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "") if resource.namespaced else ""
    return ObjectKey(resource.group, resource.kind, namespace, str(meta.get("name") or ""))


def _typed(resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    # A metadata-only answer names its items PartialObjectMetadata: name the real kind.
    return {**obj, "apiVersion": resource.api_version, "kind": resource.kind}


def _owned(obj: dict[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("ownerReferences"))


def list_namespace_contents(cluster: Cluster, namespaces: Iterable[str]) -> NamespaceContents:
    """Everything inside ``namespaces``: one metadata-only LIST per namespaced kind.

    A kind that cannot be listed, or an API group whose discovery failed, leaves every
    one of the namespaces with an entry in ``unlisted``: what is inside them is not known.
    """
    wanted = sorted(set(namespaces))
    if not wanted:
        return NamespaceContents()
    discovery = cluster.resources()
    resources = {(r.group, r.kind): r for r in listable(discovery) if r.namespaced}
    listed = list_objects(cluster, resources.values(), wanted, metadata_only=True)
    problems = [f"{kind}: {why}" for (_, kind), why in sorted(listed.failed.items())]
    problems += [
        f"discovery of {group or 'core'} failed: {why}"
        for group, why in sorted(discovery.failed_groups.items())
    ]
    found: dict[str, list[ContainedObject]] = {ns: [] for ns in wanted}
    for kind, items in listed.objects.items():
        for item in items:
            key = _key(resources[kind], item)
            if key.namespace in found:
                found[key.namespace].append(ContainedObject(key, _label(item), _owned(item)))
    return NamespaceContents(
        contents={ns: tuple(items) for ns, items in found.items()},
        unlisted=dict.fromkeys(wanted, problems[0]) if problems else {},
    )


def scan_labelled(
    cluster: Cluster,
    selector: str,
    *,
    namespaces: Iterable[str] = (),
    metadata_only: bool = True,
) -> Labelled:
    """Every object matching the label ``selector``, of every listable kind.

    One cluster-wide LIST per kind; a namespaced kind whose cluster-wide LIST fails
    (kgit confined to some namespaces by RBAC) is listed again in ``namespaces``.
    Objects owned by another (``ownerReferences``) are left out: they follow their owner.
    """
    resources = {(r.group, r.kind): r for r in listable(cluster.resources())}
    listed = list_objects(
        cluster, resources.values(), None, label_selector=selector, metadata_only=metadata_only
    )
    retry = [resources[k] for k in listed.failed if resources[k].namespaced]
    wanted = sorted(set(namespaces))
    if retry and wanted:
        again = list_objects(
            cluster, retry, wanted, label_selector=selector, metadata_only=metadata_only
        )
        for kind in again.objects:
            listed.failed.pop(kind, None)
        listed.objects.update(again.objects)
    objects = {
        _key(resources[kind], item): _typed(resources[kind], item)
        for kind, items in listed.objects.items()
        for item in items
        if not _owned(item)
    }
    return Labelled(objects, dict(listed.failed))
