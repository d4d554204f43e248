"""Planning as a service: read Git, the state and the cluster, then compute the plan.

All the I/O of a plan happens here, before and around the pure steps of
:mod:`kgit.plan.compute`: the source's files at a commit, discovery, one LIST per kind,
the recorded state, and a server-side dry-run of each object that may change.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kgit.cluster.errors import ApiError, ImmutableFieldError
from kgit.config import Config, load_config
from kgit.errors import ConfigError, MissingPathError, SourceError
from kgit.manifests.keys import ObjectKey, key_of
from kgit.manifests.load import MAX_FILE_BYTES, load_manifests
from kgit.manifests.normalize import (
    normalize,
    normalize_live,
    object_digest,
    prepare_desired,
)
from kgit.manifests.resolve import crd_kinds, resolve_keys
from kgit.plan.compute import compute_candidates, compute_plan, ignored_fields
from kgit.plan.inputs import DesiredObject, DryRun, LiveObject, PlanInputs, PlanOptions
from kgit.plan.model import PlanSource
from kgit.source.git import (
    SourceFile,
    is_dirty,
    read_commit_files,
    read_worktree_files,
    remote_url,
    resolve_commit,
)
from kgit.state.store import load_state, save_state

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from kgit.cluster.client import Cluster
    from kgit.cluster.discovery import Resource
    from kgit.manifests.load import Manifest
    from kgit.manifests.normalize import SensitiveRule
    from kgit.plan.model import Plan
    from kgit.plan.rules import IgnoreRule
    from kgit.state.store import StateHandle

CONFIG_FILE = "kgit.yaml"
NAMESPACE_KEY = ("", "Namespace")


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Where the desired objects come from."""

    repo: Path
    ref: str = "HEAD"
    paths: tuple[str, ...] = ()
    dirty: bool = False


@dataclass(frozen=True, slots=True)
class PlanRequestOptions:
    """What ``kgit plan`` was asked for, beyond the source."""

    stack: str | None = None
    state_namespace: str | None = None
    default_namespace: str | None = None
    allow_empty: bool = False
    max_delete: int | None = None
    adopt: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """A source read at one commit: its manifests' files and its kgit.yaml."""

    url: str
    commit: str
    ref: str
    paths: tuple[str, ...]
    files: tuple[SourceFile, ...]
    config: Config
    dirty: bool


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A computed plan with what applying it needs: what was read to compute it."""

    plan: Plan
    gathered: Gathered


def default_stack_name(repo: Path) -> str:
    """The repository directory's name as a valid stack name (a DNS label)."""
    name = re.sub(r"[^a-z0-9-]+", "-", repo.resolve().name.lower()).strip("-")
    return name[:63].strip("-") or "default"


def stack_of_repo(repo: Path) -> str:
    """The stack a checkout plans by default: kgit.yaml's at HEAD, else the directory's name.

    For the verbs that take ``--stack`` but read no manifests (history, state, unlock).
    """
    try:
        commit = resolve_commit(repo, "HEAD")
        config = load_config(_config_text(repo, commit, dirty=False), CONFIG_FILE)
    except SourceError:
        return default_stack_name(repo)
    return config.stack or default_stack_name(repo)


def read_source(options: SourceOptions, *, commit: str | None = None) -> Source:
    """The source's files at ``commit`` (default: the ref's), or the work tree if dirty.

    ``kgit.yaml`` at the repository root is read from the same commit; its ``paths``
    apply when none are given. Raises :class:`SourceError` or :class:`ConfigError`.
    """
    repo = options.repo
    sha = commit or resolve_commit(repo, options.ref)
    config = load_config(_config_text(repo, sha, dirty=options.dirty), CONFIG_FILE)
    paths = options.paths or config.paths or (".",)
    if options.dirty:
        files = read_worktree_files(repo, list(paths), max_bytes=MAX_FILE_BYTES)
    else:
        files = read_commit_files(repo, sha, list(paths), max_bytes=MAX_FILE_BYTES)
    # kgit.yaml is kgit's own configuration, never a manifest.
    files = [f for f in files if f.path != CONFIG_FILE]
    return Source(
        url=remote_url(repo),
        commit=sha,
        ref=options.ref,
        paths=tuple(paths),
        files=tuple(files),
        config=config,
        dirty=options.dirty and is_dirty(repo),
    )


def _config_text(repo: Path, commit: str, *, dirty: bool) -> str | None:
    """kgit.yaml at the repository root, from the commit (or the work tree), if any."""
    try:
        if dirty:
            files = read_worktree_files(repo, [CONFIG_FILE], max_bytes=MAX_FILE_BYTES)
        else:
            files = read_commit_files(repo, commit, [CONFIG_FILE], max_bytes=MAX_FILE_BYTES)
    except MissingPathError:
        return None
    try:
        return files[0].data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text") from err


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


def gather(
    cluster: Cluster,
    source: Source,
    options: PlanRequestOptions,
    *,
    repo: Path,
    progress: Callable[[str], None] | None = None,
) -> Gathered:
    """Read the state and the cluster for ``source``: discovery and one LIST per kind.

    Raises :class:`ManifestError` for bad input, :class:`ClusterError` and
    :class:`StateError` for I/O failures.
    """
    say = progress or (lambda _: None)
    config = source.config
    stack = options.stack or config.stack or default_stack_name(repo)
    namespace = options.state_namespace or config.state_namespace
    manifests = load_manifests(source.files)
    discovery = cluster.resources()
    keyed = resolve_keys(
        manifests, discovery.scope, options.default_namespace or config.default_namespace
    )
    handle = load_state(cluster, stack, namespace)
    if not handle.exists:
        # Like `terraform init`: the stack's (empty) state is created on its first plan,
        # so its lineage and Secret-digest key are fixed before anything is reviewed.
        handle = save_state(cluster, handle, handle.state)
    state = handle.state
    say(f"read {len(keyed)} objects from {source.commit[:12]}; state serial {handle.serial}")
    desired, desired_objects = build_desired(keyed, stack, state.hmac_key, config.sensitive)

    pending = frozenset(k for k in crd_kinds(manifests) if discovery.lookup(*k) is None)
    kinds = {(k.group, k.kind) for k in (*desired, *state.objects)}
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
    namespaces = sorted({k.namespace for k in (*desired, *state.objects) if k.namespace})
    listed = cluster.list_objects(
        [r for kind, r in resources.items() if kind not in unlisted], namespaces or None
    )
    unlisted |= set(listed.failed)
    say(f"listed {len(listed.objects)} kinds in {len(namespaces)} namespaces")

    wanted = set(desired) | set(state.objects)
    live: dict[ObjectKey, LiveObject] = {}
    for kind, items in listed.objects.items():
        namespaced = resources[kind].namespaced
        for item in items:
            key = key_of(item, namespaced=namespaced)
            if key in wanted:
                live[key] = LiveObject(key, normalize_live(item, state.hmac_key, config.sensitive))
    return Gathered(
        stack=stack,
        handle=handle,
        desired=desired,
        inputs=PlanInputs(
            stack=stack,
            desired=tuple(desired_objects),
            recorded=state.objects,
            live=live,
            unlisted_kinds=frozenset(unlisted),
            unlisted_reasons=listed.failed,
            pending_kinds=pending,
        ),
        existing_namespaces=frozenset(
            str(item["metadata"]["name"]) for item in listed.objects.get(NAMESPACE_KEY, [])
        ),
        source=source,
        rules=config.ignore,
        sensitive=config.sensitive,
    )


def make_plan(
    cluster: Cluster,
    source: Source,
    options: PlanRequestOptions,
    *,
    repo: Path,
    progress: Callable[[str], None] | None = None,
) -> PlanRun:
    """Compute the plan for ``source`` against the cluster and the recorded state.

    Gathers the three sides, then dry-runs the objects that may change (and the new
    ones whose namespace exists, so the server validates them now rather than at apply
    time). Raises what :func:`gather` raises, and :class:`PlanError` when the plan
    cannot be trusted.
    """
    say = progress or (lambda _: None)
    seen = gather(cluster, source, options, repo=repo, progress=progress)
    inputs, desired, rules = seen.inputs, seen.desired, seen.rules
    to_check = compute_candidates(inputs, rules) | {
        key
        for key in desired
        if key not in inputs.live
        and (key.group, key.kind) not in inputs.pending_kinds
        and (key.group, key.kind) not in inputs.unlisted_kinds
        and (not key.namespace or key.namespace in seen.existing_namespaces)
    }
    say(f"dry-running {len(to_check)} objects")
    dry_runs = dry_run_all(
        cluster,
        {
            key: applied_form(desired[key], ignored_fields(key, rules), key in inputs.live)
            for key in to_check
        },
        seen.handle.state.hmac_key,
        seen.sensitive,
    )
    plan = compute_plan(
        dataclasses.replace(inputs, dry_runs=dry_runs),
        source=PlanSource(
            url=source.url,
            commit=source.commit,
            paths=source.paths,
            ref=source.ref,
            dirty=source.dirty,
        ),
        serial=seen.handle.serial,
        lineage=seen.handle.lineage,
        options=PlanOptions(
            allow_empty=options.allow_empty,
            max_delete=(
                options.max_delete if options.max_delete is not None else source.config.max_delete
            ),
            adopt=options.adopt,
        ),
        rules=rules,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return PlanRun(plan=plan, gathered=seen)


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


def applied_form(obj: dict[str, Any], ignored: tuple[str, ...], exists: bool) -> dict[str, Any]:
    """The object as kgit sends it: ignored fields left out of updates.

    An ignored field (``spec.replicas`` under an HPA) is still set when the object is
    created, but never sent again, so kgit does not take it back from its owner.
    """
    if not exists or not ignored:
        return obj
    out = _without(obj, [p.split(".") for p in ignored if "[" not in p])
    return out


def _without(obj: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    out = dict(obj)
    for path in paths:
        if len(path) == 1:
            out.pop(path[0], None)
        elif isinstance(out.get(path[0]), dict):
            out[path[0]] = _without(out[path[0]], [path[1:]])
    return out


def dry_run_all(
    cluster: Cluster,
    objects: Mapping[ObjectKey, dict[str, Any]],
    hmac_key: bytes,
    sensitive: tuple[SensitiveRule, ...] = (),
) -> dict[ObjectKey, DryRun]:
    """Server-side dry-run apply of each object, concurrently; refusals become data."""

    def one(key: ObjectKey, obj: dict[str, Any]) -> DryRun:
        try:
            result = cluster.server_side_apply(obj, dry_run=True)
        except ImmutableFieldError as err:
            return DryRun(key, immutable=err.fields)
        except ApiError as err:
            return DryRun(
                key,
                error=f"{key.subject}: dry-run failed ({err.reason or err.code}): {err.server_message}",
            )
        return DryRun(key, normalize(result, hmac_key, sensitive))

    futures = {key: cluster.submit(one, key, obj) for key, obj in objects.items()}
    return {key: future.result() for key, future in futures.items()}
