"""Image automation as services: list what could update, run an update round, edit policies.

Every service reads the manifests from a commit (never a dirty work tree), decides per
container with :func:`compute_statuses` (pure), rewrites only the changed scalars
(:mod:`kgit.images.edit`) and commits and pushes through :mod:`kgit.source.commit`.
The update is an ordinary commit: ``kgit plan`` shows it and ``kgit apply`` applies it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kgit.images.edit import apply_edits, edit_annotations, replace_scalar
from kgit.images.errors import ImageError, RegistryError
from kgit.images.policy import (
    AUTOMATED,
    KGIT_PREFIX,
    LOCKED,
    PREFIXES,
    TAG,
    PolicyError,
    parse_policy,
    prefix_in_use,
    prefix_of,
    read_automation,
    tag_order,
)
from kgit.images.refs import ImageRefError, parse_image
from kgit.images.registry import (
    DEFAULT_TIMEOUT,
    RegistryClient,
    TagCache,
    Tags,
    default_cache_dir,
    fetch_all_tags,
)
from kgit.images.workloads import decode, find_workloads
from kgit.source.commit import CommitResult, commit_and_push
from kgit.source.read import SourceSpec, read_source

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from kgit.images.credentials import Credentials
    from kgit.images.edit import Edit
    from kgit.images.policy import Automation
    from kgit.images.refs import ImageRef
    from kgit.images.workloads import Container, Workload
    from kgit.source.read import Source

# Flux v1 polled each registry every five minutes; kgit asks no more often by default.
DEFAULT_CACHE_MAX_AGE = 300.0

Action = Literal[
    "update", "up to date", "locked", "not automated", "no allowed tag", "pinned", "error"
]
EditVerb = Literal["automate", "deautomate", "lock", "unlock", "policy"]


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
class ContainerStatus:
    """One container of a workload: its image now, the newest allowed tag, what to do.

    ``workload`` reads ``Kind/namespace/name``; ``new_image`` is set when ``action`` is
    ``update``; ``error`` says why when it is ``error``.
    """

    workload: str
    container: str
    init: bool
    path: str
    line: int
    image: str
    current_tag: str | None
    newest_tag: str | None
    policy: str
    automated: bool
    locked: bool
    action: Action
    new_image: str | None = None
    error: str | None = None


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
        if found:
            texts[file.path] = text
            workloads.extend(found)
    return _Found(source, texts, workloads)


# --- deciding (pure) -------------------------------------------------------------------


def compute_statuses(
    workloads: Iterable[Workload],
    tags: Mapping[str, Tags | RegistryError],
    default_namespace: str,
    *,
    include_all: bool = False,
) -> list[ContainerStatus]:
    """What each container's image is, may become, and whether it changes now.

    ``tags`` maps canonical image names to their tags (or why they could not be had);
    an image absent from it is reported without a newest tag. Only workloads that are
    automated are reported unless ``include_all``.
    """
    statuses = []
    for workload in workloads:
        automation = read_automation(workload.annotations)
        if not (automation.automated or include_all):
            continue
        for container in workload.containers:
            statuses.append(
                _status(workload, container, automation, tags, workload.subject(default_namespace))
            )
    return statuses


def _status(
    workload: Workload,
    container: Container,
    automation: Automation,
    tags: Mapping[str, Tags | RegistryError],
    subject: str,
) -> ContainerStatus:
    policy = automation.policy_for(container.name)
    status = ContainerStatus(
        workload=subject,
        container=container.name,
        init=container.init,
        path=workload.path,
        line=container.line,
        image=container.image,
        current_tag=None,
        newest_tag=None,
        policy=policy.text,
        automated=automation.automated,
        locked=automation.locked,
        action="error",
    )
    try:
        ref = parse_image(container.image)
    except ImageRefError as err:
        return dataclasses.replace(status, error=str(err))
    status = dataclasses.replace(status, current_tag=ref.tag)
    policy_error = automation.errors.get(container.name)
    if policy_error is not None:
        return dataclasses.replace(status, policy="?", error=policy_error)
    if ref.digest is not None:
        return dataclasses.replace(status, action="pinned")
    found = tags.get(ref.canonical)
    if isinstance(found, RegistryError):
        return dataclasses.replace(status, error=str(found))
    newest = policy.newest(found.tags) if found is not None else None
    action: Action
    if not automation.automated:
        action = "not automated"
    elif automation.locked:
        action = "locked"
    elif newest is None:
        action = "no allowed tag"
    elif ref.tag is not None and (
        ref.tag == newest or (policy.allows(ref.tag) and tag_order(ref.tag) >= tag_order(newest))
    ):
        # A current tag the policy allows is never replaced by a lower one (a tag that
        # vanished from the registry must not roll the workload back).
        action = "up to date"
    else:
        action = "update"
    new_image = ref.with_tag(newest) if action == "update" and newest else None
    return dataclasses.replace(status, newest_tag=newest, action=action, new_image=new_image)


def _images_to_poll(
    workloads: Iterable[Workload], *, include_all: bool, updating: bool
) -> list[ImageRef]:
    images = []
    for workload in workloads:
        automation = read_automation(workload.annotations)
        if not (automation.automated or include_all):
            continue
        if updating and (automation.locked or not automation.automated):
            continue
        for container in workload.containers:
            try:
                ref = parse_image(container.image)
            except ImageRefError:
                continue
            if ref.digest is None and container.name not in automation.errors:
                images.append(ref)
    return images


def _errors(statuses: Sequence[ContainerStatus]) -> tuple[str, ...]:
    """One line per failed image (naming its users) and per bad policy or image text."""
    by_message: dict[str, list[str]] = {}
    for status in statuses:
        if status.error is not None:
            by_message.setdefault(status.error, []).append(
                f"{status.workload} ({status.container})"
            )
    return tuple(f"{message} [used by {', '.join(users)}]" for message, users in by_message.items())


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
    images = _images_to_poll(workloads, include_all=include_all, updating=updating)
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
    return ImageRoundResult(found.source.commit, tuple(statuses), _errors(statuses), dry_run=True)


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
        found.source.commit, tuple(statuses), _errors(statuses), None, dry_run
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

_DONE = {
    "automate": "automated",
    "deautomate": "deautomated",
    "lock": "locked",
    "unlock": "unlocked",
}
_FLUX_ID = re.compile(r"(?P<ns>[^:/]+):(?P<kind>[A-Za-z]+)/(?P<name>[^/]+)")
_KGIT_ID = re.compile(r"(?P<kind>[A-Za-z]+)/(?:(?P<ns>[^/]+)/)?(?P<name>[^/]+)")


def parse_workload_id(text: str) -> tuple[str | None, str, str]:
    """``(namespace, kind, name)`` from ``ns:kind/name`` (fluxctl), ``Kind/ns/name`` or
    ``Kind/name`` (namespace None: the default). Raises :class:`ImageError`.
    """
    match = _FLUX_ID.fullmatch(text) or _KGIT_ID.fullmatch(text)
    if match is None:
        raise ImageError(
            f"{text}: not a workload (write namespace:kind/name, as fluxctl does, "
            f"or Kind/namespace/name)"
        )
    return match["ns"], match["kind"], match["name"]


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


def _prefix(workload: Workload, siblings: Iterable[Workload], name: str) -> str:
    """The prefix to write ``name`` under: where it is set, else the workload's, the
    file's, else kgit's own."""
    keys = list(workload.annotations)
    file_keys = [key for w in siblings for key in w.annotations]
    return prefix_in_use(keys, name) or prefix_of(keys) or prefix_of(file_keys) or KGIT_PREFIX


def compute_annotation_change(
    workload: Workload,
    siblings: Iterable[Workload],
    verb: EditVerb,
    *,
    tag_all: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], set[str], str]:
    """``(put, remove, summary)``: the annotations a verb sets and removes on a workload.

    ``automate``/``lock`` set ``<prefix>automated``/``locked`` to "true" under the prefix
    already in use; ``deautomate``/``unlock`` remove it under every prefix; ``policy``
    sets ``<prefix>tag.<container>`` for ``tag_all`` (every container) and ``tags``
    (container -> policy). Raises :class:`ImageError` for an unknown container or a
    policy that cannot be read.
    """
    sibling_list = list(siblings)
    if verb in ("automate", "lock"):
        name = AUTOMATED if verb == "automate" else LOCKED
        return {_prefix(workload, sibling_list, name) + name: "true"}, set(), _DONE[verb]
    if verb in ("deautomate", "unlock"):
        name = AUTOMATED if verb == "deautomate" else LOCKED
        return {}, {prefix + name for prefix in PREFIXES}, _DONE[verb]
    wanted: dict[str, str] = {}
    names = [c.name for c in workload.containers]
    if tag_all is not None:
        wanted.update(dict.fromkeys(names, tag_all))
    for container, text in (tags or {}).items():
        if container not in names:
            raise ImageError(
                f"{workload.where}: {workload.kind}/{workload.name} has no container "
                f"{container!r} (it has {', '.join(names) or 'none'})"
            )
        wanted[container] = text
    if not wanted:
        raise ImageError("policy: give --tag-all POLICY or --tag CONTAINER=POLICY")
    put = {}
    written = {}
    for container, text in sorted(wanted.items()):
        try:
            written[container] = parse_policy(text).text
        except PolicyError as err:
            raise ImageError(f"{container}: {err}") from err
        name = TAG + container
        put[_prefix(workload, sibling_list, name) + name] = written[container]
    summary = ", ".join(f"{c}={p}" for c, p in written.items())
    return put, set(), f"tag policy {summary}"


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
    unknown or ambiguous workload, and what :func:`commit_and_push` raises.
    """
    found = _read(options)
    workload = _find_workload(found, workload_id)
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
