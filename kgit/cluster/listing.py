"""Reading many kinds at once: one LIST per kind, or per kind and namespace, concurrently.

Each LIST is :meth:`Cluster.list_kind` (paged), run on the Cluster's thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgit.cluster.errors import ApiError
from kgit.errors import ClusterError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from concurrent.futures import Future

    from kgit.cluster.client import Cluster
    from kgit.cluster.discovery import Resource

# Up to this many namespaces, a namespaced kind is listed once per namespace (works with
# namespace-scoped RBAC, reads only what is needed); above it, once cluster-wide and
# filtered here, so a stack spread over many namespaces costs one request per kind.
MAX_NAMESPACED_LISTS = 16


@dataclass(slots=True)
class ListResult:
    """What :func:`list_objects` read.

    ``objects`` holds, per ``(group, kind)`` that was listed completely, its objects as
    dicts with ``apiVersion`` and ``kind`` filled in. ``failed`` maps each ``(group, kind)``
    whose LIST failed (in any namespace) to the error text; such a kind has no entry in
    ``objects``: absent from the answer is not absent from the cluster.
    """

    objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)


def list_objects(
    cluster: Cluster,
    resources: Iterable[Resource],
    namespaces: Iterable[str] | None = None,
    *,
    label_selector: str | None = None,
    metadata_only: bool = False,
) -> ListResult:
    """LIST several kinds concurrently: one LIST per kind, or per kind and namespace.

    With ``namespaces`` None, or for cluster-scoped kinds, each kind is listed
    cluster-wide. Otherwise a namespaced kind is listed once per namespace when there
    are at most ``MAX_NAMESPACED_LISTS`` of them, else cluster-wide and filtered here;
    a cluster-wide LIST refused with 403 falls back to one LIST per namespace.
    A kind without the ``list`` verb counts as failed. ``metadata_only`` reads only
    each object's metadata (see :meth:`Cluster.list_kind`).
    """
    wanted = None if namespaces is None else sorted(set(namespaces))
    options: dict[str, Any] = {"label_selector": label_selector, "metadata_only": metadata_only}
    result = ListResult()
    jobs: list[tuple[Resource, Future[list[dict[str, Any]]]]] = []
    for resource in dict.fromkeys(resources):
        key = (resource.group, resource.kind)
        if resource.verbs and "list" not in resource.verbs:
            result.failed[key] = f"{resource.kind}: the server does not allow LIST"
            continue
        if wanted is None or not resource.namespaced:
            futures = [cluster.submit(cluster.list_kind, resource, None, **options)]
        elif len(wanted) > MAX_NAMESPACED_LISTS:
            futures = [cluster.submit(_list_filtered, cluster, resource, wanted, options)]
        else:
            futures = [cluster.submit(cluster.list_kind, resource, ns, **options) for ns in wanted]
        jobs += [(resource, fut) for fut in futures]
    for resource, fut in jobs:
        key = (resource.group, resource.kind)
        try:
            items = fut.result()
        except ClusterError as err:
            # The first error of a kind is kept; one is enough to distrust the kind.
            result.failed.setdefault(key, str(err))
            continue
        result.objects.setdefault(key, []).extend(items)
    for key in result.failed:
        result.objects.pop(key, None)
    return result


def _list_filtered(
    cluster: Cluster, resource: Resource, namespaces: list[str], options: dict[str, Any]
) -> list[dict[str, Any]]:
    """One cluster-wide LIST kept to ``namespaces``; per namespace if that is forbidden."""
    wanted = set(namespaces)
    try:
        return [
            obj
            for obj in cluster.list_kind(resource, None, **options)
            if (obj.get("metadata") or {}).get("namespace") in wanted
        ]
    except ApiError as err:
        if err.code != 403:
            raise
    # Namespace-scoped RBAC: read each namespace in turn, here in this pool thread
    # (waiting on the same pool from inside it could deadlock when it is full).
    items: list[dict[str, Any]] = []
    for ns in namespaces:
        items.extend(cluster.list_kind(resource, ns, **options))
    return items
