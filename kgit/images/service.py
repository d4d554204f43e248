"""Image automation as services: list what could update, run an update round, edit policies.

Every service reads the manifests from a commit (never a dirty work tree), decides with
the pure functions of :mod:`kgit.images.decisions`, rewrites only the changed scalars
(:mod:`kgit.images.edit`) and commits and pushes through :mod:`kgit.source.commit`.
The update is an ordinary commit: ``kgit plan`` shows it and ``kgit apply`` applies it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kgit.images.decisions import (
    compute_annotation_change,
    compute_statuses,
    error_lines,
    images_to_poll,
    parse_workload_id,
)
from kgit.images.edit import apply_edits, edit_annotations, replace_scalar
from kgit.images.errors import ImageError
from kgit.images.registry import (
    DEFAULT_TIMEOUT,
    RegistryClient,
    TagCache,
    default_cache_dir,
    fetch_all_tags,
)
from kgit.images.workloads import decode, find_workloads
from kgit.sops.detect import read_encrypted
from kgit.source.commit import CommitResult, commit_and_push
from kgit.source.read import SourceSpec, read_source

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from kgit.images.credentials import Credentials
    from kgit.images.decisions import ContainerStatus

    # Re-exported: kgit/cli names the verbs of edit_workload from here.
    from kgit.images.decisions import EditVerb as EditVerb  # noqa: PLC0414
    from kgit.images.edit import Edit
    from kgit.images.errors import RegistryError
    from kgit.images.registry import Tags
    from kgit.images.workloads import Workload
    from kgit.source.read import Source

# Flux v1 polled each registry every five minutes; kgit asks no more often by default.
DEFAULT_CACHE_MAX_AGE = 300.0


@dataclass(frozen=True, slots=True)
class ImageSourceOptions:
    """Where the workloads are: a repository, the ref to read and paths inside it."""

    repo: Path
    ref: str = "HEAD"
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegistryOptions:
    """How registries are asked: credentials by registry, timeout, the tag cache."""

    credentials: Mapping[str, Credentials] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    cache_dir: Path | None = None
    cache_max_age: float = DEFAULT_CACHE_MAX_AGE
    refresh: bool = False
    page_size: int | None = None


@dataclass(frozen=True, slots=True)
class ImageRoundResult:
    """What an image round saw and did.

    ``source_commit`` is the commit read; ``commit`` the one made (None for a dry run or
    when nothing changed); ``errors`` one line per failed image or policy.
    """

    source_commit: str
    containers: tuple[ContainerStatus, ...]
    errors: tuple[str, ...]
    commit: CommitResult | None = None
    dry_run: bool = False

    @property
    def updates(self) -> tuple[ContainerStatus, ...]:
        """The containers whose image changes (or would, in a dry run)."""
        return tuple(c for c in self.containers if c.action == "update")

    @property
    def ok(self) -> bool:
        """True when every image and policy could be read."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class PolicyEditResult:
    """An annotation edit: the workload, what was done, and the commit (None: no change)."""

    workload: str
    path: str
    summary: str
    changed: bool
    commit: CommitResult | None


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    source: Source
    texts: dict[str, str]
    workloads: list[Workload]

    @property
    def default_namespace(self) -> str:
        return self.source.config.default_namespace


def _read(options: ImageSourceOptions) -> _Found:
    source = read_source(SourceSpec(repo=options.repo, ref=options.ref, paths=options.paths))
    texts: dict[str, str] = {}
    workloads: list[Workload] = []
    for file in source.files:
        if not file.path.endswith((".yaml", ".yml", ".json")):
            continue
        text = decode(file)
        found = find_workloads(file.path, text)
        if read_encrypted(file.path, file.data) is not None:
            found = [dataclasses.replace(w, encrypted=True) for w in found]
        if found:
            texts[file.path] = text
            workloads.extend(found)
    return _Found(source, texts, workloads)


# --- services --------------------------------------------------------------------------


def _fetch(
    workloads: Iterable[Workload], registry: RegistryOptions, *, include_all: bool, updating: bool
) -> dict[str, Tags | RegistryError]:
    client = RegistryClient(
        registry.credentials, timeout=registry.timeout, page_size=registry.page_size
    )
    cache = TagCache(
        registry.cache_dir or default_cache_dir(),
        0.0 if registry.refresh else registry.cache_max_age,
    )
    images = images_to_poll(workloads, include_all=include_all, updating=updating)
    return fetch_all_tags(images, client, cache)


def list_images(
    options: ImageSourceOptions, registry: RegistryOptions, *, include_all: bool = False
) -> ImageRoundResult:
    """Every container of automated workloads (of all with ``include_all``), with the
    newest tag its policy allows. Reads Git and the registries; changes nothing but the
    tag cache.
    """
    found = _read(options)
    tags = _fetch(found.workloads, registry, include_all=include_all, updating=False)
    statuses = compute_statuses(
        found.workloads, tags, found.default_namespace, include_all=include_all
    )
    return ImageRoundResult(
        found.source.commit, tuple(statuses), error_lines(statuses), dry_run=True
    )


def run_image_round(
    repo: Path,
    *,
    ref: str = "HEAD",
    paths: tuple[str, ...] = (),
    registry: RegistryOptions | None = None,
    dry_run: bool = False,
    branch: str | None = None,
    push: bool = True,
    push_env: Mapping[str, str] | None = None,
) -> ImageRoundResult:
    """One image automation round: poll, rewrite the image strings, commit, push.

    Reads the workloads at ``ref`` of ``repo``; polls the registries of automated,
    unlocked workloads; rewrites each image whose policy allows a newer tag (only that
    scalar changes in its file) and commits all of them in one commit, on ``branch``
    (None: the checked-out branch) and pushes it (see
    :func:`kgit.source.commit.commit_and_push`; ``push_env`` goes to ``git push``).
    An image that fails is reported in ``errors`` and the others still update. Raises
    :class:`SourceError` when the commit or push fails, :class:`ManifestError` for YAML
    that cannot be read or rewritten.
    """
    registry = registry or RegistryOptions()
    found = _read(ImageSourceOptions(repo, ref, paths))
    tags = _fetch(found.workloads, registry, include_all=False, updating=True)
    statuses = compute_statuses(found.workloads, tags, found.default_namespace)
    updates = [s for s in statuses if s.action == "update"]
    result = ImageRoundResult(
        found.source.commit, tuple(statuses), error_lines(statuses), None, dry_run
    )
    if dry_run or not updates:
        return result
    changes = _rewrite_images(found, updates)
    commit = commit_and_push(
        repo,
        found.source.commit,
        changes,
        _update_message(updates),
        branch=branch,
        push=push,
        env=push_env,
    )
    return ImageRoundResult(found.source.commit, tuple(statuses), result.errors, commit, dry_run)


def _rewrite_images(found: _Found, updates: Sequence[ContainerStatus]) -> dict[str, bytes]:
    wanted = {(u.path, u.line, u.container): u for u in updates}
    edits: dict[str, list[Edit]] = {}
    for workload in found.workloads:
        for container in workload.containers:
            update = wanted.get((workload.path, container.line, container.name))
            if update is not None and update.new_image is not None:
                where = f"{workload.path}:{container.line}"
                edits.setdefault(workload.path, []).append(
                    replace_scalar(container.node, update.new_image, where)
                )
    return {
        path: apply_edits(found.texts[path], path_edits).encode("utf-8")
        for path, path_edits in edits.items()
    }


def _update_message(updates: Sequence[ContainerStatus]) -> str:
    if len(updates) == 1:
        subject = f"Update image {updates[0].new_image}"
    else:
        subject = f"Update {len(updates)} images"
    lines = [
        f"- {u.workload} ({u.container}): {u.image} -> {u.newest_tag} ({u.policy})" for u in updates
    ]
    return f"{subject}\n\n" + "\n".join(lines) + "\n\nMade by kgit images update.\n"


# --- annotation edits ------------------------------------------------------------------


def _find_workload(found: _Found, text: str) -> Workload:
    namespace, kind, name = parse_workload_id(text)
    default = found.default_namespace
    matches = [
        w
        for w in found.workloads
        if w.kind.lower() == kind.lower()
        and w.name == name
        and (w.namespace or default) == (namespace or default)
    ]
    if not matches:
        raise ImageError(f"{text}: no such workload in {', '.join(found.source.paths)}")
    if len(matches) > 1:
        places = ", ".join(w.where for w in matches)
        raise ImageError(f"{text}: defined more than once ({places})")
    return matches[0]


def edit_workload(
    options: ImageSourceOptions,
    workload_id: str,
    verb: EditVerb,
    *,
    tag_all: str | None = None,
    tags: Mapping[str, str] | None = None,
    dry_run: bool = False,
    push: bool = True,
) -> PolicyEditResult:
    """Set or remove a workload's automation annotations in Git, commit and push.

    Only the annotation lines change in the file. Nothing is committed when the
    annotations already say so, or with ``dry_run``. Raises :class:`ImageError` for an
    unknown or ambiguous workload or one in a SOPS-encrypted file, and what
    :func:`commit_and_push` raises.
    """
    found = _read(options)
    workload = _find_workload(found, workload_id)
    if workload.encrypted:
        raise ImageError(
            f"{workload.where}: {workload.subject(found.default_namespace)} is in a "
            "SOPS-encrypted file: kgit never rewrites one (its MAC would break)"
        )
    siblings = [w for w in found.workloads if w.path == workload.path]
    put, remove, summary = compute_annotation_change(
        workload, siblings, verb, tag_all=tag_all, tags=tags
    )
    text = found.texts[workload.path]
    edits = edit_annotations(text, workload, put, remove)
    subject = workload.subject(found.default_namespace)
    new_text = apply_edits(text, edits)
    if new_text == text:
        return PolicyEditResult(subject, workload.path, f"already {summary}", False, None)
    if dry_run:
        return PolicyEditResult(subject, workload.path, summary, True, None)
    message = f"{subject}: {summary}\n\nMade by kgit {verb}.\n"
    commit = commit_and_push(
        options.repo,
        found.source.commit,
        {workload.path: new_text.encode("utf-8")},
        message,
        push=push,
    )
    return PolicyEditResult(subject, workload.path, summary, True, commit)
