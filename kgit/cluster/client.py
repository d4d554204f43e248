"""The Kubernetes boundary: one :class:`Cluster` per API server, raw JSON both ways.

:class:`Cluster` offers one method per kind of request (get, list, server-side apply,
create, update, merge patch, delete); only this package builds verbs and paths. What
takes many requests is a function over a Cluster: :mod:`kgit.cluster.listing` (many
kinds at once) and :mod:`kgit.cluster.waiters`. How the server is found is
:mod:`kgit.cluster.config`'s business, retries :mod:`kgit.cluster.http`'s. Bodies are
parsed with :func:`json.loads` and objects stay plain dicts, because building the
client's model objects is its slow path (kubernetes-client/python#1921).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from kgit.cluster.config import open_transport
from kgit.cluster.discovery import Discovery, DiscoveryDocument, Resource, fetch_discovery
from kgit.cluster.discovery_cache import open_discovery
from kgit.cluster.errors import ConflictError, GoneError, NotFoundError
from kgit.cluster.http import Http
from kgit.errors import ClusterError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 12
# Objects per LIST page: big kinds are read in pages so no answer grows unbounded.
PAGE_SIZE = 500

_METADATA_ACCEPT = (
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
)
_APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
_MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"
# A quick read: one attempt, answered within seconds, or skipped (polling).
_QUICK = {"attempts": 1, "timeout": (2.0, 5.0)}
# Lease renewals must answer well within a lease period, or not count.
_LEASE_TIMEOUT = (5.0, 10.0)


def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
    probe: bool = True,
) -> Cluster:
    """Open a :class:`Cluster` from a kubeconfig, like kubectl finds one.

    ``kubeconfig`` may list several files separated by ``:`` (merged); without it,
    ``$KUBECONFIG``, then ``~/.kube/config``, then the in-cluster service account are
    tried. ``context`` overrides the current context. With ``probe`` (the default) the
    server's ``/version`` is read so an unreachable server fails here, not midway.

    Raises :class:`KubeconfigError` for a missing or invalid kubeconfig or context,
    :class:`UnreachableError` when the server does not answer, and
    :class:`NotKubernetesError` when what answers is not a Kubernetes API server (all
    :class:`ClusterError`).
    """
    transport, source, namespace = open_transport(kubeconfig, context, maxsize=workers + 4)
    http = Http(transport)
    cluster = Cluster(http, source=source, namespace=namespace, workers=workers)
    if probe:
        try:
            version = http.request_json("GET", "/version", attempts=3, timeout=(5.0, 15.0))
            cluster.server_version = str((version or {}).get("gitVersion", ""))
        except BaseException:
            cluster.close()
            raise
    return cluster


class Cluster:
    """One API server: its client, a thread pool for concurrent reads, and discovery.

    Thread-safe: requests may be sent from any thread (the lock's renewal thread does).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        http: Http,
        *,
        source: str,
        namespace: str = "default",
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self._http = http
        self.host: str = http.host
        self.source = source
        self.namespace = namespace
        self.server_version = ""
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kgit-cluster")
        self._discovery: Discovery | None = None
        self._discovery_lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Stop the thread pool and close connections."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` on the cluster's thread pool (bounded concurrency toward the server).

        ``fn`` must not itself wait on this pool (:func:`~kgit.cluster.listing.list_objects`,
        state loads and saves do): a full pool would wait on itself.
        """
        return self._pool.submit(fn, *args, **kwargs)

    # --- discovery ---------------------------------------------------------------

    def resources(self) -> Discovery:
        """The server's kinds, read once per Cluster (``refresh()`` to read them again),
        revalidated against the disk cache of earlier runs (:mod:`kgit.cluster.discovery_cache`).
        """
        with self._discovery_lock:
            if self._discovery is None:
                self._discovery = open_discovery(self._http, self._http.identity)
            return self._discovery

    def fetch_discovery(self, *, aggregated: bool = True) -> DiscoveryDocument:
        """Read discovery now, bypassing :meth:`resources` (see :func:`fetch_discovery`)."""
        return fetch_discovery(self._http, aggregated=aggregated)

    def resource_for(self, obj: Mapping[str, Any]) -> Resource:
        """The resource serving ``obj``'s kind at ``obj``'s own apiVersion.

        Raises :class:`UnknownKindError` when the server does not serve the kind.
        """
        return self.resources().resource_for(obj)

    # --- reads -------------------------------------------------------------------

    def get(
        self, resource: Resource, namespace: str | None, name: str, *, quick: bool = False
    ) -> dict[str, Any] | None:
        """The object as the server holds it, or None if it does not exist.

        ``quick`` sends one attempt with a short timeout, for polling.
        """
        try:
            obj = self._http.request_json(
                "GET",
                resource.path(namespace, name),
                subject=resource.subject(namespace, name),
                **(_QUICK if quick else {}),
            )
        except NotFoundError:
            return None
        return _with_type(obj, resource)

    def list_kind(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        metadata_only: bool = False,
        page_size: int = PAGE_SIZE,
    ) -> list[dict[str, Any]]:
        """All objects of one kind (in one namespace, or everywhere), page by page.

        A continue token that expires midway (410 Gone) restarts the LIST, so the result
        is always one consistent snapshot. ``metadata_only`` asks the server for
        ``PartialObjectMetadata`` (no spec, no data: cheap for big Secrets).
        """
        accept = _METADATA_ACCEPT if metadata_only else "application/json"
        subject = f"{resource.kind}/{namespace}" if namespace else resource.kind
        path = resource.path(namespace)
        for _ in range(3):
            items: list[dict[str, Any]] = []
            token = ""
            try:
                while True:
                    query = [("limit", str(page_size))]
                    if label_selector:
                        query.append(("labelSelector", label_selector))
                    if token:
                        query.append(("continue", token))
                    page = self._http.request_json(
                        "GET", path, query=query, accept=accept, subject=f"LIST {subject}"
                    )
                    items.extend(_with_type(item, resource) for item in page.get("items") or [])
                    token = str((page.get("metadata") or {}).get("continue") or "")
                    if not token:
                        return items
            except GoneError:
                log.debug("LIST %s: continue token expired; listing again", subject)
        raise ClusterError(f"LIST {subject}: the list kept changing; continue tokens expired")

    # --- writes ------------------------------------------------------------------

    def server_side_apply(
        self,
        obj: Mapping[str, Any],
        *,
        field_manager: str = "kgit",
        force: bool = True,
        dry_run: bool = False,
        field_validation: str = "Strict",
    ) -> dict[str, Any]:
        """Server-side apply ``obj`` (PATCH ``application/apply-patch+yaml``, JSON body).

        Returns what the server stored (or would store, with ``dry_run``), including
        ``managedFields``. ``field_validation="Strict"`` makes unknown or duplicate fields
        an error instead of silently dropping them (a typo would otherwise be a lasting
        diff). Raises :class:`ImmutableFieldError` (with ``fields``),
        :class:`ApplyConflictError` (with ``managers``, only when ``force`` is False),
        :class:`NotFoundError` (e.g. the namespace is missing), :class:`InvalidError`,
        :class:`UnknownKindError`, each message starting with ``Kind/namespace/name:``.
        """
        resource = self.resource_for(obj)
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        namespace = str(meta.get("namespace") or "") if resource.namespaced else None
        subject = resource.subject(namespace, name)
        if not name:
            raise ClusterError(f"{subject}: metadata.name is missing")
        if resource.namespaced and not namespace:
            raise ClusterError(f"{subject}: metadata.namespace is missing for a namespaced kind")
        query = [("fieldManager", field_manager), ("fieldValidation", field_validation)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        answer = self._http.request_json(
            "PATCH",
            resource.path(namespace, name),
            query=query,
            # Serialised here: the planner's manifests may be read-only mappings, which
            # the client's own json.dumps would refuse. A str body is sent as it is.
            body=json.dumps(obj, separators=(",", ":"), default=_plain),
            content_type=_APPLY_CONTENT_TYPE,
            subject=subject,
        )
        return _with_type(answer, resource)

    def create(
        self,
        resource: Resource,
        obj: Mapping[str, Any],
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        """Create ``obj`` (POST); :class:`AlreadyExistsError` if the name is taken."""
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") or None
        query = [("dryRun", "All")] if dry_run else []
        if field_manager:
            query.append(("fieldManager", field_manager))
        answer = self._http.request_json(
            "POST",
            resource.path(namespace),
            query=query,
            body=dict(obj),
            subject=resource.subject(namespace, str(meta.get("name") or "")),
        )
        return _with_type(answer, resource)

    def update(self, resource: Resource, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``obj`` whole over the stored object (PUT, the API's update).

        With ``metadata.resourceVersion`` set, the write only succeeds if the object is
        unchanged since that version; otherwise :class:`ConflictError`.
        """
        return self._put(resource, obj)

    def replace_lease(self, lease: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`update` a Lease, giving up within seconds.

        A lock renewal must answer well within the lease period, or not count.
        """
        return self._put(LEASE, lease, timeout=_LEASE_TIMEOUT)

    def _put(self, resource: Resource, obj: Mapping[str, Any], **options: Any) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") or None
        name = str(meta.get("name") or "")
        answer = self._http.request_json(
            "PUT",
            resource.path(namespace, name),
            body=dict(obj),
            subject=resource.subject(namespace, name),
            **options,
        )
        return _with_type(answer, resource)

    def merge_patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        patch: Mapping[str, Any],
        *,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        """Change some fields of an object (a JSON merge patch: ``None`` removes a key).

        Unlike :meth:`server_side_apply`, fields the patch does not name keep their
        managers. Raises :class:`NotFoundError` if the object does not exist.
        """
        answer = self._http.request_json(
            "PATCH",
            resource.path(namespace, name),
            query=[("fieldManager", field_manager)] if field_manager else None,
            body=dict(patch),
            content_type=_MERGE_PATCH_CONTENT_TYPE,
            subject=resource.subject(namespace, name),
        )
        return _with_type(answer, resource)

    def delete(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        *,
        uid: str | None,
        propagation: str = "Background",
        resource_version: str | None = None,
    ) -> bool:
        """Delete one object, only if it still has ``uid`` (never a same-named replacement).

        Returns True if the server accepted the deletion (finalizers may still hold the
        object: see :func:`~kgit.cluster.waiters.wait_gone`), False if the object is already gone or was
        replaced by another with a different uid. ``resource_version`` adds a
        precondition whose failure raises :class:`ConflictError`.
        """
        preconditions: dict[str, str] = {}
        if uid:
            preconditions["uid"] = uid
        if resource_version:
            preconditions["resourceVersion"] = resource_version
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": propagation,
        }
        if preconditions:
            body["preconditions"] = preconditions
        try:
            self._http.request(
                "DELETE",
                resource.path(namespace, name),
                body=body,
                subject=resource.subject(namespace, name),
            )
        except NotFoundError:
            return False
        except ConflictError:
            # A failed precondition. If the uid is what failed, ours is gone and a
            # same-named replacement stands: leave it. Ask rather than parse the message.
            if uid:
                current = self.get(resource, namespace, name)
                if current is None or (current.get("metadata") or {}).get("uid") != uid:
                    return False
            raise
        return True


# Built-in kinds kgit itself reads and writes: stable for years, so no discovery needed.
NAMESPACE = Resource("", "v1", "Namespace", "namespaces", False)
SECRET = Resource("", "v1", "Secret", "secrets", True)
CONFIGMAP = Resource("", "v1", "ConfigMap", "configmaps", True)
LEASE = Resource("coordination.k8s.io", "v1", "Lease", "leases", True)
CRD = Resource(
    "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False
)


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot send a {type(value).__name__} to the API server")


def _with_type(obj: Any, resource: Resource) -> dict[str, Any]:
    # LIST items carry no apiVersion/kind; single objects do, but fill them regardless.
    if not isinstance(obj, dict):
        raise ClusterError(f"{resource.kind}: unexpected answer from the server: {obj!r:.200}")
    obj.setdefault("apiVersion", resource.api_version)
    obj.setdefault("kind", resource.kind)
    return obj
