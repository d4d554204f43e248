"""Turn loaded manifests into keyed objects: scope, default namespace, duplicates."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kgit.errors import ManifestError
from kgit.manifests.keys import ObjectKey, group_of, key_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from kgit.manifests.load import Manifest

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"
_SCOPES = {"Namespaced": True, "Cluster": False}


def resolve_keys(
    manifests: Sequence[Manifest],
    scope: Callable[[str, str], bool | None],
    default_namespace: str,
) -> list[tuple[ObjectKey, Manifest]]:
    """Key every manifest, in order, and settle its namespace.

    ``scope(group, kind)`` answers True (namespaced), False (cluster-scoped) or None
    (unknown to the cluster); a kind the cluster does not know is accepted when a
    CustomResourceDefinition among ``manifests`` defines it. Namespaced objects without
    ``metadata.namespace`` get their source's namespace (a Helm release's), else
    ``default_namespace``; cluster-scoped objects lose any
    namespace. Changed manifests are copies: the input is never mutated.

    Raises :class:`ManifestError` (``path:line:``) for a kind nobody defines, a malformed
    CRD, or two manifests with one key (naming both places).
    """
    defined = crd_kinds(manifests)
    seen: dict[ObjectKey, Manifest] = {}
    keyed: list[tuple[ObjectKey, Manifest]] = []
    for manifest in manifests:
        group = group_of(manifest.obj["apiVersion"])
        kind = manifest.obj["kind"]
        namespaced = scope(group, kind)
        if namespaced is None:
            namespaced = defined.get((group, kind))
        if namespaced is None:
            raise ManifestError(
                f"{manifest.where}: Kind {group}/{kind} is not known to the cluster and no "
                "CustomResourceDefinition in the source defines it"
            )
        namespace = manifest.namespace or default_namespace
        settled = _with_namespace(manifest, namespace if namespaced else None)
        key = key_of(settled.obj, namespaced=namespaced)
        first = seen.get(key)
        if first is not None:
            raise ManifestError(f"{settled.where}: {key.subject} is also defined at {first.where}")
        seen[key] = settled
        keyed.append((key, settled))
    return keyed


def crd_kinds(manifests: Iterable[Manifest]) -> dict[tuple[str, str], bool]:
    """``(group, kind) -> namespaced`` for every CustomResourceDefinition in ``manifests``.

    Raises :class:`ManifestError` when a CRD lacks ``spec.group``, ``spec.names.kind`` or
    a valid ``spec.scope``, or when two CRDs give one kind different scopes.
    """
    kinds: dict[tuple[str, str], bool] = {}
    where: dict[tuple[str, str], str] = {}
    for manifest in manifests:
        obj = manifest.obj
        if obj["kind"] != CRD_KIND or group_of(obj["apiVersion"]) != CRD_GROUP:
            continue
        spec = obj.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        names = spec.get("names")
        names = names if isinstance(names, dict) else {}
        group, kind, scope = spec.get("group"), names.get("kind"), spec.get("scope")
        subject = f"{manifest.where}: {CRD_KIND}/{obj['metadata']['name']}"
        if not isinstance(group, str) or not group:
            raise ManifestError(f"{subject}: spec.group is missing")
        if not isinstance(kind, str) or not kind:
            raise ManifestError(f"{subject}: spec.names.kind is missing")
        if scope not in _SCOPES:
            raise ManifestError(f"{subject}: spec.scope must be Namespaced or Cluster")
        namespaced = _SCOPES[scope]
        if kinds.get((group, kind), namespaced) != namespaced:
            raise ManifestError(
                f"{subject}: defines {group}/{kind} with another scope than {where[group, kind]}"
            )
        kinds[group, kind] = namespaced
        where.setdefault((group, kind), manifest.where)
    return kinds


def _with_namespace(manifest: Manifest, namespace: str | None) -> Manifest:
    """``manifest`` with ``metadata.namespace`` set (or dropped when None), copied if changed."""
    meta: dict[str, Any] = manifest.obj["metadata"]
    current = meta.get("namespace")
    if namespace is None:
        if "namespace" not in meta:
            return manifest
        meta = {k: v for k, v in meta.items() if k != "namespace"}
    elif current:
        return manifest
    else:
        meta = {**meta, "namespace": namespace}
    return replace(manifest, obj={**manifest.obj, "metadata": meta})
