"""Discovery: which kinds the server serves, at which version, namespaced or not.

Read once per :class:`~kgit.cluster.client.Cluster` from the aggregated discovery
endpoints (``/api`` and ``/apis`` as ``APIGroupDiscoveryList``: two requests for the whole
server), falling back to the per-group documents of older servers; between runs it is
kept on disk (:mod:`kgit.cluster.discovery_cache`). Kinds are keyed by group and kind,
never version: each maps to the first version of its group's preference order that
serves it, the way kubectl's REST mapper chooses.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kgit.cluster.errors import UnknownKindError
from kgit.cluster.http import header
from kgit.errors import ClusterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kgit.cluster.http import Http

_AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)


@dataclass(frozen=True, slots=True)
class Resource:
    """One served kind: where to reach it and what it allows.

    ``verbs`` are the API verbs (``get``, ``list``, ``patch``, ``delete``, ...).
    """

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        """``apps/v1`` or, for the core group, ``v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The URL path of the collection, or of one object when ``name`` is given.

        ``namespace`` is ignored for cluster-scoped kinds; ``None`` on a namespaced kind
        means all namespaces (a cluster-wide LIST).
        """
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
        return base

    def subject(self, namespace: str | None, name: str) -> str:
        """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), for messages."""
        if self.namespaced and namespace:
            return f"{self.kind}/{namespace}/{name}"
        return f"{self.kind}/{name}"


@dataclass(frozen=True, slots=True)
class DiscoveryDocument:
    """What one discovery pass found: served kinds and the groups that failed.

    ``versions`` lists, per kind, every version serving it, preferred first.
    """

    resources: Mapping[tuple[str, str], Resource]
    failed_groups: Mapping[str, str]
    versions: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


class Discovery:
    """The kinds a server serves, keyed by ``(group, kind)``; refreshable in place.

    ``failed_groups`` maps an API group whose discovery failed (an aggregated API server
    that is down, a stale group) to the error: kinds of those groups may exist though
    :meth:`lookup` cannot see them, so callers must not prune them.

    ``unverified`` is a document read from the disk cache without asking the server: a
    kind missing from it makes :meth:`lookup` read discovery again before answering None.
    """

    def __init__(
        self,
        load: Callable[[], DiscoveryDocument],
        unverified: DiscoveryDocument | None = None,
    ) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._verified = unverified is None
        self._doc = load() if unverified is None else unverified

    def refresh(self) -> None:
        """Read discovery again (two requests), e.g. after CRDs were created."""
        doc = self._load()
        with self._lock:
            self._doc = doc
            self._verified = True

    def lookup(self, group: str, kind: str) -> Resource | None:
        """The served resource of a kind at its preferred version, or None if unknown.

        A kind missing from a cached document is looked up again in a fresh one.
        """
        found = self._doc.resources.get((group, kind))
        if found is None and not self._verified:
            self.refresh()
            found = self._doc.resources.get((group, kind))
        return found

    def resource_for(self, obj: Mapping[str, Any]) -> Resource:
        """The resource serving ``obj``'s kind at ``obj``'s own apiVersion.

        Raises :class:`UnknownKindError` when the server does not serve the kind.
        """
        api_version = str(obj.get("apiVersion") or "")
        kind = str(obj.get("kind") or "")
        group, _, version = api_version.rpartition("/")
        found = self.lookup(group, kind)
        if found is None:
            meta = obj.get("metadata") or {}
            namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
            subject = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
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

    def versions(self, group: str, kind: str) -> tuple[str, ...]:
        """Every version serving the kind, preferred first; () if it is not served.

        Read from a fresh document: a version missing from a cached one would refuse an
        object the server serves.
        """
        if not self._verified:
            self.refresh()
        return self._doc.versions.get((group, kind), ())

    def scope(self, group: str, kind: str) -> bool | None:
        """True if the kind is namespaced, False if cluster-scoped, None if unknown."""
        resource = self.lookup(group, kind)
        return None if resource is None else resource.namespaced

    @property
    def failed_groups(self) -> Mapping[str, str]:
        """Groups whose discovery failed, with the error text."""
        return self._doc.failed_groups

    def __iter__(self) -> Iterator[Resource]:
        return iter(list(self._doc.resources.values()))

    def __len__(self) -> int:
        return len(self._doc.resources)


class _Found(dict[tuple[str, str], Resource]):
    """Served kinds at their preferred version, and every version serving each."""

    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[tuple[str, str], tuple[str, ...]] = {}

    def document(self, failed: Mapping[str, str]) -> DiscoveryDocument:
        return DiscoveryDocument(dict(self), dict(failed), dict(self.versions))


def _add(found: dict[tuple[str, str], Resource], resource: Resource) -> None:
    # The first version in the group's preference order wins; later ones only add
    # kinds that the preferred versions do not serve.
    key = (resource.group, resource.kind)
    found.setdefault(key, resource)
    if isinstance(found, _Found) and resource.version not in found.versions.get(key, ()):
        found.versions[key] = (*found.versions.get(key, ()), resource.version)


def parse_aggregated(
    doc: Mapping[str, Any],
    found: dict[tuple[str, str], Resource],
    failed: dict[str, str],
) -> None:
    """Read an ``APIGroupDiscoveryList`` (apidiscovery.k8s.io/v2) into ``found``.

    Versions come sorted by preference. A version marked ``Stale`` (its aggregated API
    server did not answer) makes its group count as failed.
    """
    for group_doc in doc.get("items") or []:
        group = str((group_doc.get("metadata") or {}).get("name") or "")
        for version_doc in group_doc.get("versions") or []:
            version = str(version_doc.get("version") or "")
            if version_doc.get("freshness") == "Stale":
                failed[group] = f"discovery of {group or 'core'}/{version} is stale"
            for res in version_doc.get("resources") or []:
                response_kind = res.get("responseKind") or {}
                kind = str(response_kind.get("kind") or "")
                plural = str(res.get("resource") or "")
                if not kind or not plural:
                    continue
                _add(
                    found,
                    Resource(
                        group=group,
                        version=version,
                        kind=kind,
                        plural=plural,
                        namespaced=res.get("scope") == "Namespaced",
                        verbs=frozenset(res.get("verbs") or ()),
                    ),
                )


def parse_resource_list(
    group: str, version: str, doc: Mapping[str, Any], found: dict[tuple[str, str], Resource]
) -> None:
    """Read one legacy ``APIResourceList`` (``/api/v1``, ``/apis/<group>/<version>``)."""
    for res in doc.get("resources") or []:
        plural = str(res.get("name") or "")
        kind = str(res.get("kind") or "")
        # "deployments/scale" and the like are subresources, not kinds of their own.
        if not plural or not kind or "/" in plural:
            continue
        _add(
            found,
            Resource(
                group=group,
                version=version,
                kind=kind,
                plural=plural,
                namespaced=bool(res.get("namespaced")),
                verbs=frozenset(res.get("verbs") or ()),
            ),
        )


def fetch_discovery(http: Http, *, aggregated: bool = True) -> DiscoveryDocument:
    """Read discovery now: aggregated (two requests) unless the server lacks it.

    ``aggregated=False`` forces the per-group documents older servers serve.
    """
    return fetch_tagged_discovery(http, aggregated=aggregated)[0]


# The ETags of an aggregated discovery's two documents (/api, /apis); None for older
# servers' per-group documents, which have none.
ETags = tuple[str, str] | None


def fetch_tagged_discovery(
    http: Http, *, aggregated: bool = True, known: tuple[DiscoveryDocument, ETags] | None = None
) -> tuple[DiscoveryDocument, ETags]:
    """:func:`fetch_discovery` with the aggregated documents' ETags.

    With ``known`` (a document read earlier and its ETags) the requests are conditional,
    and ``known`` itself comes back when the server answers that neither document
    changed (304 Not Modified twice).
    """
    etags = known[1] if known else None
    accept = _AGGREGATED_ACCEPT if aggregated else "application/json"
    # Not on the Cluster's shared pool: discovery is first read lazily, possibly from a
    # pool thread (a dry-run), and waiting there on the same pool can deadlock it.
    answers = [
        http.request(
            "GET",
            path,
            accept=accept,
            subject=f"discovery {path}",
            if_none_match=etags[index] if etags else "",
        )
        for index, path in enumerate(("/api", "/apis"))
    ]
    if known and all(a.status == 304 for a in answers):
        return known
    if any(a.status == 304 for a in answers):
        # One changed: read both again, so the document is one moment's.
        return fetch_tagged_discovery(http, aggregated=aggregated)
    core, apis = (a.json() for a in answers)
    tags = tuple(header(a.headers, "ETag") for a in answers)
    found = _Found()
    failed: dict[str, str] = {}
    if (
        isinstance(core, Mapping)
        and isinstance(apis, Mapping)
        and core.get("kind") == "APIGroupDiscoveryList"
        and apis.get("kind") == "APIGroupDiscoveryList"
    ):
        # Core first: where a kind exists in two groups, keys keep them apart anyway.
        parse_aggregated(core, found, failed)
        parse_aggregated(apis, found, failed)
        return found.document(failed), (tags[0], tags[1]) if all(tags) else None
    return _fetch_legacy_discovery(http, core, apis), None


def _fetch_legacy_discovery(http: Http, core: Any, apis: Any) -> DiscoveryDocument:
    """Per-group discovery for servers without aggregated discovery (before 1.26)."""
    found = _Found()
    failed: dict[str, str] = {}
    targets: list[tuple[str, str, str]] = [
        ("", str(v), f"/api/{v}") for v in (core or {}).get("versions") or ["v1"]
    ]
    for group_doc in (apis or {}).get("groups") or []:
        name = str(group_doc.get("name") or "")
        preferred = str((group_doc.get("preferredVersion") or {}).get("version") or "")
        versions = [str(v.get("version")) for v in group_doc.get("versions") or []]
        ordered = [preferred] + [v for v in versions if v != preferred] if preferred else versions
        targets += [(name, v, f"/apis/{name}/{v}") for v in ordered]
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="kgit-discovery") as pool:
        futures = [
            (
                group,
                version,
                pool.submit(http.request_json, "GET", path, subject=f"discovery {path}"),
            )
            for group, version, path in targets
        ]
        for group, version, fut in futures:
            try:
                parse_resource_list(group, version, fut.result() or {}, found)
            except ClusterError as err:
                failed[group] = str(err)
    return found.document(failed)
