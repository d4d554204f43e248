"""The Kubernetes boundary: one :class:`Cluster` per API server, raw JSON both ways.

Requests go straight to urllib3 for plain kubeconfigs (certificates, tokens), and
through the ``kubernetes`` package's REST client, imported only then, for everything
else its kubeconfig and authentication handling covers (see :mod:`kgit.cluster.transport`).
Bodies are parsed with :func:`json.loads` and objects stay plain dicts, because building
the client's model objects is its slow path (kubernetes-client/python#1921).

Retries: reads, server-side applies and deletes are idempotent and are retried with a
bounded exponential backoff on connection errors, 429 (honouring ``Retry-After``) and
500/502/503/504. Creates and updates are retried only when the server surely did not act
on them (429, or the connection was never opened). Other 4xx answers are never retried.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from kgit.cluster.discovery import (
    Discovery,
    DiscoveryDocument,
    Resource,
    parse_aggregated,
    parse_resource_list,
)
from kgit.cluster.errors import (
    ApiError,
    ConflictError,
    GoneError,
    KubeconfigError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    UnknownKindError,
    UnreachableError,
    error_from_response,
)
from kgit.cluster.transport import (
    KubernetesTransport,
    NativeTransport,
    Transport,
    TransportError,
    read_plain_kubeconfig,
)
from kgit.errors import ClusterError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 12
# Objects per LIST page: big kinds are read in pages so no answer grows unbounded.
PAGE_SIZE = 500
# Up to this many namespaces, a namespaced kind is listed once per namespace (works with
# namespace-scoped RBAC, reads only what is needed); above it, once cluster-wide and
# filtered here, so a stack spread over many namespaces costs one request per kind.
MAX_NAMESPACED_LISTS = 16

_AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)
_METADATA_ACCEPT = (
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
)
_APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
_RETRY_STATUS = frozenset({500, 502, 503, 504})
_MAX_ATTEMPTS = 6
_BACKOFF_BASE = 0.25
_BACKOFF_CAP = 4.0
_RETRY_AFTER_CAP = 10.0
_TIMEOUT = (10.0, 60.0)
_POLL_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class Response:
    """A raw answer: HTTP status, headers and the unparsed body."""

    status: int
    headers: Mapping[str, str]
    data: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.data) if self.data else None


@dataclass(slots=True)
class ListResult:
    """What :meth:`Cluster.list_objects` read.

    ``objects`` holds, per ``(group, kind)`` that was listed completely, its objects as
    dicts with ``apiVersion`` and ``kind`` filled in. ``failed`` maps each ``(group, kind)``
    whose LIST failed (in any namespace) to the error text; such a kind has no entry in
    ``objects``: absent from the answer is not absent from the cluster.
    """

    objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)


def _kubeconfig_paths(kubeconfig: str | None) -> str | None:
    """The kubeconfig search string (``a:b`` merges, like kubectl), or None if none exists."""
    if kubeconfig:
        return kubeconfig
    env = os.environ.get("KUBECONFIG", "")
    if env:
        paths = [p for p in env.split(os.pathsep) if p]
        if any(os.path.exists(os.path.expanduser(p)) for p in paths):
            return env
        return None
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.exists(default) else None


def _load_configuration(kubeconfig: str | None, context: str | None) -> tuple[Any, str, str]:
    """(client Configuration, where it came from, the context's default namespace)."""
    # Imported here: the kubernetes package costs half a second to import, and plain
    # kubeconfigs never need it.
    from kubernetes import client as k8s_client  # noqa: PLC0415
    from kubernetes import config as k8s_config  # noqa: PLC0415
    from kubernetes.config import kube_config  # noqa: PLC0415
    from kubernetes.config.config_exception import ConfigException  # noqa: PLC0415

    # The client's config loaders are untyped; reach them through Any.
    _config_api: Any = k8s_config
    _kube_config_api: Any = kube_config
    configuration = k8s_client.Configuration()
    paths = _kubeconfig_paths(kubeconfig)
    if paths is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            try:
                _config_api.load_incluster_config(client_configuration=configuration)
            except ConfigException as err:
                raise KubeconfigError(f"in-cluster configuration: {err}") from err
            namespace = "default"
            ns_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
            if os.path.exists(ns_file):
                with open(ns_file, encoding="utf-8") as f:
                    namespace = f.read().strip() or "default"
            return configuration, "in-cluster configuration", namespace
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise KubeconfigError(
            f"{where}: no kubeconfig found, and not running inside a cluster "
            "(set KUBECONFIG or pass --kubeconfig)"
        )
    if kubeconfig:
        missing = [
            p
            for p in kubeconfig.split(os.pathsep)
            if p and not os.path.exists(os.path.expanduser(p))
        ]
        if missing:
            raise KubeconfigError(f"{missing[0]}: kubeconfig file not found")
    try:
        merged = _kube_config_api.KubeConfigMerger(paths).config
        if merged is None:
            raise ConfigException("no configuration found")
        loader = _kube_config_api.KubeConfigLoader(config_dict=merged, active_context=context)
        loader.load_and_set(configuration)
        namespace = str((loader.current_context.get("context") or {}).get("namespace") or "")
    except (ConfigException, KeyError, ValueError, TypeError, OSError) as err:
        what = f"context {context!r}" if context else "current context"
        raise KubeconfigError(f"{paths}: {what}: {err}") from err
    return configuration, paths, namespace or "default"


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

    Raises :class:`KubeconfigError` for a missing or invalid kubeconfig or context, and
    :class:`UnreachableError` (or another :class:`ClusterError`) when the server does not
    answer.
    """
    paths = _kubeconfig_paths(kubeconfig)
    plain = read_plain_kubeconfig(paths, context) if paths else None
    transport: Transport
    if plain is not None and paths is not None:
        transport = NativeTransport(plain, maxsize=workers + 4)
        source, namespace = paths, plain.namespace
    else:
        from kubernetes import client as k8s_client  # noqa: PLC0415

        configuration, source, namespace = _load_configuration(kubeconfig, context)
        # One retry policy, ours: urllib3 and the client's own retries would multiply it.
        configuration.retries = False
        configuration.client_go_retries = False
        configuration.connection_pool_maxsize = workers + 4
        transport = KubernetesTransport(k8s_client.ApiClient(configuration))
    cluster = Cluster(transport, source=source, namespace=namespace, workers=workers)
    if probe:
        try:
            cluster.server_version = str(
                (
                    cluster.request_json("GET", "/version", attempts=3, timeout=(5.0, 15.0)) or {}
                ).get("gitVersion", "")
            )
        except BaseException:
            cluster.close()
            raise
    return cluster


def _backoff(attempt: int) -> float:
    delay: float = min(_BACKOFF_CAP, _BACKOFF_BASE * (2**attempt))
    return delay * (0.5 + random.random() / 2)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return min(_RETRY_AFTER_CAP, max(0.0, float(value)))
    except ValueError:
        return None


class Cluster:
    """One API server: its client, a thread pool for concurrent reads, and discovery.

    Thread-safe: requests may be sent from any thread (the lock's renewal thread does).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        source: str,
        namespace: str = "default",
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self._transport = transport
        self.host: str = transport.host
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
        self._transport.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` on the cluster's thread pool (bounded concurrency toward the server).

        ``fn`` must not itself wait on this pool (:meth:`list_objects`, state loads and
        saves do): a full pool would wait on itself.
        """
        return self._pool.submit(fn, *args, **kwargs)

    # --- transport ---------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        subject: str | None = None,
        idempotent: bool | None = None,
        attempts: int = _MAX_ATTEMPTS,
        timeout: tuple[float, float] = _TIMEOUT,
    ) -> Response:
        """Send one request; raise the typed :class:`ApiError` for an error status.

        ``idempotent`` defaults to True for GET, PATCH (kgit only sends apply patches)
        and DELETE; such requests are retried on connection errors and 429/5xx. Others
        are retried only when the server surely did not act on them.
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PATCH", "DELETE")
        url = self.host + path
        if query:
            url += "?" + urlencode(query)
        subject = subject or f"{method} {path}"
        attempt = 0
        while True:
            headers = {"Accept": accept}
            if body is not None:
                headers["Content-Type"] = content_type
            delay: float | None = None
            try:
                status, resp_headers, data = self._transport.send(
                    method, url, headers, body, timeout
                )
            except TransportError as err:
                attempt += 1
                if attempt >= attempts or not (idempotent or err.not_sent):
                    raise UnreachableError(
                        f"{subject}: cannot reach the API server at {self.host}: {err.reason}"
                    ) from err
                delay = _backoff(attempt - 1)
                log.debug("%s: %s; retry %d in %.2fs", subject, err.reason, attempt, delay)
                time.sleep(delay)
                continue
            if 200 <= status < 300:
                return Response(status, resp_headers, data)
            retry_after = _retry_after(resp_headers)
            error = error_from_response(subject, status, data, retry_after)
            attempt += 1
            retryable = isinstance(error, TooManyRequestsError) or (
                idempotent and isinstance(error, ServerError) and status in _RETRY_STATUS
            )
            if not retryable or attempt >= attempts:
                raise error
            delay = retry_after if retry_after is not None else _backoff(attempt - 1)
            log.debug("%s: HTTP %d; retry %d in %.2fs", subject, status, attempt, delay)
            time.sleep(delay)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, with the answer's body parsed as JSON."""
        return self.request(method, path, **kwargs).json()

    # --- discovery ---------------------------------------------------------------

    def resources(self) -> Discovery:
        """The server's kinds, read once per Cluster (``refresh()`` to read them again)."""
        with self._discovery_lock:
            if self._discovery is None:
                self._discovery = Discovery(self.fetch_discovery)
            return self._discovery

    def fetch_discovery(self, *, aggregated: bool = True) -> DiscoveryDocument:
        """Read discovery now: aggregated (two requests) unless the server lacks it.

        ``aggregated=False`` forces the per-group documents older servers serve.
        """
        found: dict[tuple[str, str], Resource] = {}
        failed: dict[str, str] = {}
        accept = _AGGREGATED_ACCEPT if aggregated else "application/json"
        # Not on the shared pool: discovery is first read lazily, possibly from a pool
        # thread (a dry-run), and waiting there on the same pool can deadlock it.
        core = self.request_json("GET", "/api", accept=accept, subject="discovery /api")
        apis = self.request_json("GET", "/apis", accept=accept, subject="discovery /apis")
        if (
            isinstance(core, Mapping)
            and isinstance(apis, Mapping)
            and core.get("kind") == "APIGroupDiscoveryList"
            and apis.get("kind") == "APIGroupDiscoveryList"
        ):
            # Core first: where a kind exists in two groups, keys keep them apart anyway.
            parse_aggregated(core, found, failed)
            parse_aggregated(apis, found, failed)
            return DiscoveryDocument(found, failed)
        return self._load_legacy_discovery(core, apis)

    def _load_legacy_discovery(self, core: Any, apis: Any) -> DiscoveryDocument:
        """Per-group discovery for servers without aggregated discovery (before 1.26)."""
        found: dict[tuple[str, str], Resource] = {}
        failed: dict[str, str] = {}
        targets: list[tuple[str, str, str]] = [
            ("", str(v), f"/api/{v}") for v in (core or {}).get("versions") or ["v1"]
        ]
        for group_doc in (apis or {}).get("groups") or []:
            name = str(group_doc.get("name") or "")
            preferred = str((group_doc.get("preferredVersion") or {}).get("version") or "")
            versions = [str(v.get("version")) for v in group_doc.get("versions") or []]
            ordered = (
                [preferred] + [v for v in versions if v != preferred] if preferred else versions
            )
            targets += [(name, v, f"/apis/{name}/{v}") for v in ordered]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="kgit-discovery") as pool:
            futures = [
                (
                    group,
                    version,
                    pool.submit(self.request_json, "GET", path, subject=f"discovery {path}"),
                )
                for group, version, path in targets
            ]
            for group, version, fut in futures:
                try:
                    parse_resource_list(group, version, fut.result() or {}, found)
                except ClusterError as err:
                    failed[group] = str(err)
        return DiscoveryDocument(found, failed)

    def resource_for(self, obj: Mapping[str, Any]) -> Resource:
        """The resource serving ``obj``'s kind at ``obj``'s own apiVersion.

        Raises :class:`UnknownKindError` when the server does not serve the kind.
        """
        api_version = str(obj.get("apiVersion") or "")
        kind = str(obj.get("kind") or "")
        group, _, version = api_version.rpartition("/")
        found = self.resources().lookup(group, kind)
        meta = obj.get("metadata") or {}
        if found is None:
            subject = _subject(kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            raise UnknownKindError(
                f"{subject}: the server has no kind {kind} in group "
                f"{group or 'core'} (is its CRD installed?)",
                group=group,
                kind=kind,
            )
        if version and version != found.version:
            return Resource(
                found.group, version, found.kind, found.plural, found.namespaced, found.verbs
            )
        return found

    # --- reads -------------------------------------------------------------------

    def get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object as the server holds it, or None if it does not exist."""
        try:
            obj = self.request_json(
                "GET", resource.path(namespace, name), subject=resource.subject(namespace, name)
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
                    page = self.request_json(
                        "GET", path, query=query, accept=accept, subject=f"LIST {subject}"
                    )
                    items.extend(_with_type(item, resource) for item in page.get("items") or [])
                    token = str((page.get("metadata") or {}).get("continue") or "")
                    if not token:
                        return items
            except GoneError:
                log.debug("LIST %s: continue token expired; listing again", subject)
        raise ClusterError(f"LIST {subject}: the list kept changing; continue tokens expired")

    def list_objects(
        self,
        resources: Iterable[Resource],
        namespaces: Iterable[str] | None = None,
        *,
        label_selector: str | None = None,
    ) -> ListResult:
        """LIST several kinds concurrently: one LIST per kind, or per kind and namespace.

        With ``namespaces`` None, or for cluster-scoped kinds, each kind is listed
        cluster-wide. Otherwise a namespaced kind is listed once per namespace when there
        are at most ``MAX_NAMESPACED_LISTS`` of them, else cluster-wide and filtered here;
        a cluster-wide LIST refused with 403 falls back to one LIST per namespace.
        A kind without the ``list`` verb counts as failed.
        """
        wanted = None if namespaces is None else sorted(set(namespaces))
        result = ListResult()
        jobs: list[tuple[Resource, Future[list[dict[str, Any]]]]] = []
        for resource in dict.fromkeys(resources):
            key = (resource.group, resource.kind)
            if resource.verbs and "list" not in resource.verbs:
                result.failed[key] = f"{resource.kind}: the server does not allow LIST"
                continue
            if wanted is None or not resource.namespaced:
                jobs.append(
                    (resource, self.submit(self.list_kind, resource, label_selector=label_selector))
                )
            elif len(wanted) > MAX_NAMESPACED_LISTS:
                jobs.append(
                    (resource, self.submit(self._list_filtered, resource, wanted, label_selector))
                )
            else:
                jobs += [
                    (
                        resource,
                        self.submit(self.list_kind, resource, ns, label_selector=label_selector),
                    )
                    for ns in wanted
                ]
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
        self, resource: Resource, namespaces: list[str], label_selector: str | None
    ) -> list[dict[str, Any]]:
        """One cluster-wide LIST kept to ``namespaces``; per namespace if that is forbidden."""
        wanted = set(namespaces)
        try:
            return [
                obj
                for obj in self.list_kind(resource, label_selector=label_selector)
                if (obj.get("metadata") or {}).get("namespace") in wanted
            ]
        except ApiError as err:
            if err.code != 403:
                raise
        # Namespace-scoped RBAC: read each namespace in turn, here in this pool thread
        # (waiting on the same pool from inside it could deadlock when it is full).
        items: list[dict[str, Any]] = []
        for ns in namespaces:
            items.extend(self.list_kind(resource, ns, label_selector=label_selector))
        return items

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
        answer = self.request_json(
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
        self, resource: Resource, obj: Mapping[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Create ``obj`` (POST); :class:`AlreadyExistsError` if the name is taken."""
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") or None
        query = [("dryRun", "All")] if dry_run else None
        answer = self.request_json(
            "POST",
            resource.path(namespace),
            query=query,
            body=dict(obj),
            subject=resource.subject(namespace, str(meta.get("name") or "")),
        )
        return _with_type(answer, resource)

    def replace(self, resource: Resource, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Update ``obj`` whole (PUT).

        With ``metadata.resourceVersion`` set, the write only succeeds if the object is
        unchanged since that version; otherwise :class:`ConflictError`.
        """
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") or None
        name = str(meta.get("name") or "")
        answer = self.request_json(
            "PUT",
            resource.path(namespace, name),
            body=dict(obj),
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
        object: see :meth:`wait_gone`), False if the object is already gone or was
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
            self.request(
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

    # --- waits -------------------------------------------------------------------

    def wait_gone(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        timeout: float,
        *,
        uid: str | None = None,
    ) -> None:
        """Wait until the object is gone (or, given ``uid``, replaced by another).

        Raises :class:`ClusterError` on timeout, naming the finalizers still holding it.
        """
        deadline = time.monotonic() + timeout
        interval = 0.1
        while True:
            obj = self.get(resource, namespace, name)
            if obj is None or (uid and (obj.get("metadata") or {}).get("uid") != uid):
                return
            if time.monotonic() >= deadline:
                finalizers = (obj.get("metadata") or {}).get("finalizers") or []
                held = f" (finalizers: {', '.join(finalizers)})" if finalizers else ""
                raise ClusterError(
                    f"{resource.subject(namespace, name)}: still present after {timeout:g}s{held}"
                )
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(1.0, interval * 1.5)

    def wait_established(self, crd_name: str, timeout: float) -> Resource:
        """Wait until a CRD is Established and its kind is in discovery; return its resource.

        Refreshes this Cluster's discovery. Raises :class:`ClusterError` when its names
        are not accepted (a conflict with another CRD) or on timeout.
        """
        crd = CRD
        deadline = time.monotonic() + timeout
        while True:
            obj = self.get(crd, None, crd_name)
            state = "not found"
            if obj is not None:
                conditions = {
                    str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []
                }
                names = conditions.get("NamesAccepted") or {}
                if names.get("status") == "False":
                    raise ClusterError(
                        f"CustomResourceDefinition/{crd_name}: names not accepted: "
                        f"{names.get('message') or names.get('reason')}"
                    )
                established = conditions.get("Established") or {}
                state = "not established"
                if established.get("status") == "True":
                    spec = obj.get("spec") or {}
                    group, kind = str(spec.get("group")), str((spec.get("names") or {}).get("kind"))
                    discovery = self.resources()
                    discovery.refresh()
                    found = discovery.lookup(group, kind)
                    if found is not None:
                        return found
                    state = "established, not yet in discovery"
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"CustomResourceDefinition/{crd_name}: {state} after {timeout:g}s"
                )
            time.sleep(_POLL_INTERVAL)


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


def _subject(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _with_type(obj: Any, resource: Resource) -> dict[str, Any]:
    # LIST items carry no apiVersion/kind; single objects do, but fill them regardless.
    if not isinstance(obj, dict):
        raise ClusterError(f"{resource.kind}: unexpected answer from the server: {obj!r:.200}")
    obj.setdefault("apiVersion", resource.api_version)
    obj.setdefault("kind", resource.kind)
    return obj
