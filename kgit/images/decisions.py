"""The pure decisions of image automation: what each container does, which annotations change.

Nothing here reads Git or a registry: :mod:`kgit.images.service` gathers the workloads and
their tags, then commits what these functions decide.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

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

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from kgit.images.policy import Automation
    from kgit.images.refs import ImageRef
    from kgit.images.registry import Tags
    from kgit.images.workloads import Container, Workload

Action = Literal[
    "update",
    "up to date",
    "locked",
    "not automated",
    "no allowed tag",
    "pinned",
    "error",
    "encrypted",
]
EditVerb = Literal["automate", "deautomate", "lock", "unlock", "policy"]


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


# --- image updates ---------------------------------------------------------------------


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
    elif workload.encrypted:
        # Rewriting a SOPS file breaks its MAC: never updated, only reported.
        action = "encrypted"
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


def images_to_poll(
    workloads: Iterable[Workload], *, include_all: bool, updating: bool
) -> list[ImageRef]:
    """The images whose tags a round needs: of automated workloads (of all with
    ``include_all``; only unlocked ones when ``updating``), tagged, with a readable policy.
    """
    images = []
    for workload in workloads:
        automation = read_automation(workload.annotations)
        if not (automation.automated or include_all):
            continue
        if updating and (automation.locked or not automation.automated or workload.encrypted):
            continue
        for container in workload.containers:
            try:
                ref = parse_image(container.image)
            except ImageRefError:
                continue
            if ref.digest is None and container.name not in automation.errors:
                images.append(ref)
    return images


def error_lines(statuses: Sequence[ContainerStatus]) -> tuple[str, ...]:
    """One line per failed image (naming its users) and per bad policy or image text."""
    by_message: dict[str, list[str]] = {}
    for status in statuses:
        if status.error is not None:
            by_message.setdefault(status.error, []).append(
                f"{status.workload} ({status.container})"
            )
    return tuple(f"{message} [used by {', '.join(users)}]" for message, users in by_message.items())


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
