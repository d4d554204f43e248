"""Everything a plan reads before any dry-run: the source's objects, the state, the cluster.

All the reading of a plan happens here, before the pure steps of :mod:`kgit.plan.compute`:
discovery, the recorded state (created empty on a stack's first plan), and one LIST per
kind of the objects in Git or in the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgit.build.cache import render_cache_dir
from kgit.build.helm import Capabilities
from kgit.build.stage import BuildOptions, Built, build_manifests
from kgit.cluster.listing import list_objects
from kgit.errors import PlanError
from kgit.manifests.keys import ObjectKey, key_of
from kgit.manifests.normalize import (
    STACK_LABEL,
    normalize,
    normalize_live,
    object_digest,
    prepare_desired,
)
from kgit.manifests.resolve import crd_kinds, resolve_keys
from kgit.plan.inputs import DesiredObject, LiveObject, PlanInputs
from kgit.services.decryption import decrypted
from kgit.services.inventory import list_namespace_contents, scan_labelled
from kgit.state.store import load_state, save_state

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from kgit.cluster.client import Cluster
    from kgit.cluster.discovery import Discovery, Resource
    from kgit.manifests.load import Manifest
    from kgit.manifests.normalize import SensitiveRule
    from kgit.plan.rules import IgnoreRule
    from kgit.services.options import PlanningOptions
    from kgit.services.target import Target
    from kgit.source.read import Source
    from kgit.state.store import StateHandle

NAMESPACE_KEY = ("", "Namespace")


@dataclass(frozen=True, slots=True)
class Gathered:
    """Everything read for a plan, before any dry-run: the three sides and their context."""

    stack: str
    handle: StateHandle
    desired: dict[ObjectKey, dict[str, Any]]
    inputs: PlanInputs
    existing_namespaces: frozenset[str]
    source: Source
    rules: tuple[IgnoreRule, ...]
    sensitive: tuple[SensitiveRule, ...] = ()
    built: Built | None = None


def gather(
    cluster: Cluster,
    source: Source,
    target: Target,
    planning: PlanningOptions,
    *,
    progress: Callable[[str], None] | None = None,
) -> Gathered:
    """Read the state and the cluster for ``source``: discovery and one LIST per kind.

    SOPS-encrypted files are decrypted first, with the keys of ``planning.decryption``;
    the returned :attr:`Gathered.source` holds their plaintext (in memory only). Creates
    the stack's empty state on its first plan. Raises :class:`ManifestError` for bad
    input (:class:`DecryptionError` for a file that cannot be decrypted),
    :class:`ClusterError` and :class:`StateError` for I/O failures.
    """
    say = progress or (lambda _: None)
    # Decryption comes first: everything after it reads plain manifests (in memory only).
    source = decrypted(cluster, source, planning.decryption)
    config = source.config
    discovery = cluster.resources()
    default_namespace = planning.default_namespace or config.default_namespace
    built = build_manifests(
        source,
        BuildOptions(
            default_namespace=default_namespace,
            manifest_generation=planning.manifest_generation,
            capabilities=capabilities(cluster.server_version, discovery),
            cache=render_cache_dir(),
        ),
    )
    manifests = built.manifests
    sensitive = (*config.sensitive, *built.sensitive)
    keyed = resolve_keys(manifests, discovery.scope, default_namespace)
    handle = load_state(cluster, target.stack, target.state_namespace)
    if not handle.exists:
        # A stack without a state whose objects are out there lost its state: planning
        # it anew would never prune them. Checked before the new state is written.
        check_not_orphaned(cluster, target, {k.namespace for k, _ in keyed if k.namespace})
        # Like `terraform init`: the stack's (empty) state is created on its first plan,
        # so its lineage and Secret-digest key are fixed before anything is reviewed.
        handle = save_state(cluster, handle, handle.state)
    state = handle.state
    say(f"read {len(keyed)} objects from {source.commit[:12]}; state serial {handle.serial}")
    desired, desired_objects = build_desired(keyed, target.stack, state.hmac_key, sensitive)

    defined = crd_kinds(manifests)
    pending = frozenset(k for k in defined if discovery.lookup(*k) is None)
    kinds = {(k.group, k.kind) for k in (*desired, *state.objects)}
    resources, unlisted = _listable(discovery, kinds, pending)
    namespaces = sorted({k.namespace for k in (*desired, *state.objects) if k.namespace})
    listed = list_objects(
        cluster, [r for kind, r in resources.items() if kind not in unlisted], namespaces or None
    )
    unlisted |= set(listed.failed)
    say(f"listed {len(listed.objects)} kinds in {len(namespaces)} namespaces")
    existing = frozenset(
        str(item["metadata"]["name"]) for item in listed.objects.get(NAMESPACE_KEY, [])
    )

    doomed = {k.name for k in state.objects if (k.group, k.kind) == NAMESPACE_KEY} - {
        k.name for k in desired if (k.group, k.kind) == NAMESPACE_KEY
    }
    contents = list_namespace_contents(cluster, doomed)
    if doomed:
        say(f"listed what {len(doomed)} namespaces to delete hold")

    wanted = set(desired) | set(state.objects)
    live: dict[ObjectKey, LiveObject] = {}
    for kind, items in listed.objects.items():
        namespaced = resources[kind].namespaced
        for item in items:
            key = key_of(item, namespaced=namespaced)
            if key in wanted:
                live[key] = LiveObject(key, normalize_live(item, state.hmac_key, sensitive))
    return Gathered(
        stack=target.stack,
        handle=handle,
        desired=desired,
        inputs=PlanInputs(
            stack=target.stack,
            desired=tuple(desired_objects),
            recorded=state.objects,
            live=live,
            unlisted_kinds=frozenset(unlisted),
            unlisted_reasons=listed.failed,
            pending_kinds=pending,
            namespace_contents=contents.contents,
            namespace_unlisted=contents.unlisted,
            served_versions={
                kind: discovery.versions(*kind)
                for kind in {(k.group, k.kind) for k in desired}
                if kind not in defined
            },
            existing_namespaces=None if NAMESPACE_KEY in unlisted else existing,
        ),
        existing_namespaces=existing,
        source=source,
        rules=config.ignore,
        sensitive=sensitive,
        built=built,
    )


def capabilities(server_version: str, discovery: Discovery) -> Capabilities:
    """What the cluster serves, for Helm's ``Capabilities``: its version, and every
    group/version and group/version/Kind discovery lists."""
    versions: set[str] = set()
    for resource in discovery:
        versions |= {resource.api_version, f"{resource.api_version}/{resource.kind}"}
    return Capabilities(server_version, tuple(sorted(versions)))


def check_not_orphaned(cluster: Cluster, target: Target, namespaces: Iterable[str]) -> None:
    """Refuse to start a new state for a stack whose labelled objects are out there.

    Raises :class:`PlanError` naming how many objects carry the stack's label, and
    ``kgit state recover``. Kinds that cannot be listed (RBAC) are not looked at: kgit
    could not have made objects there either.
    """
    found = scan_labelled(cluster, f"{STACK_LABEL}={target.stack}", namespaces=namespaces)
    if not found.objects:
        return
    names = ", ".join(k.subject for k in sorted(found.objects)[:3])
    more = ", ..." if len(found.objects) > 3 else ""
    raise PlanError(
        f"stack {target.stack} has {len(found.objects)} labelled objects but no recorded "
        "state (lost or in another namespace?): run `kgit state recover` (found "
        f"{names}{more}; the state was looked for in namespace {target.state_namespace})"
    )


def _listable(
    discovery: Discovery, kinds: set[tuple[str, str]], pending: frozenset[tuple[str, str]]
) -> tuple[dict[tuple[str, str], Resource], set[tuple[str, str]]]:
    """The resources to LIST, and the kinds that cannot be (whose absence proves nothing)."""
    resources: dict[tuple[str, str], Resource] = {}
    unlisted: set[tuple[str, str]] = set()
    for kind in sorted(kinds | {NAMESPACE_KEY}):
        resource = discovery.lookup(*kind)
        if resource is not None:
            resources[kind] = resource
        elif kind not in pending:
            unlisted.add(kind)
    unlisted |= {
        kind for kind in kinds if kind[0] in discovery.failed_groups and kind not in pending
    }
    return resources, unlisted


def build_desired(
    keyed: list[tuple[ObjectKey, Manifest]],
    stack: str,
    hmac_key: bytes,
    sensitive: tuple[SensitiveRule, ...] = (),
) -> tuple[dict[ObjectKey, dict[str, Any]], list[DesiredObject]]:
    """The objects to apply (labelled, unmasked) and their masked, digested forms."""
    desired: dict[ObjectKey, dict[str, Any]] = {}
    objects: list[DesiredObject] = []
    for key, manifest in keyed:
        obj = prepare_desired(manifest.obj, stack)
        masked = normalize(obj, hmac_key, sensitive)
        desired[key] = obj
        objects.append(DesiredObject(key, masked, manifest.where, object_digest(masked)))
    return desired, objects
