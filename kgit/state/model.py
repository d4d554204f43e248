"""The recorded state of a stack as data: what kgit last applied, and a short history."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgit.errors import StateError
from kgit.manifests.normalize import DIGEST_PREFIX, LAST_APPLIED_ANNOTATION, secret_digest

if TYPE_CHECKING:
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.inputs import RecordedObject

FORMAT_VERSION = 1
HISTORY_LIMIT = 50
# Stack names become part of Secret and Lease names and a label value: a DNS label.
_STACK_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One write of the state by an apply (or a repair): what, by whom, with what result."""

    serial: int
    plan_digest: str
    commit: str
    who: str
    when: str
    added: int = 0
    changed: int = 0
    deleted: int = 0
    result: str = ""
    health: str = ""  # how the --wait for health ended ("current: 3 Current"); "" without


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """Where a stack was last applied from: the repository's root commits (its identity
    across clones), its URL as seen (credentials redacted) and the paths read.

    Empty in a state written before kgit recorded it.
    """

    url: str = ""
    roots: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(slots=True)
class State:
    """What kgit last applied for one stack.

    ``lineage`` names the stack's history (a stored plan for another lineage is stale);
    ``serial`` counts writes. ``hmac_key`` keys the digests of Secret values (created with
    the state, never shown). ``source`` says which repository ``commit`` is in. ``objects`` is what the planner reads as the recorded side.
    Mutable: an apply records each object as it goes, then saves.
    """

    format_version: int
    stack: str
    lineage: str
    serial: int
    commit: str
    hmac_key: bytes = field(repr=False)
    objects: dict[ObjectKey, RecordedObject] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    source: SourceRecord = field(default_factory=SourceRecord)

    def digest(self, value: bytes) -> str:
        """The keyed digest kgit stores and shows instead of a Secret value."""
        return secret_digest(value, self.hmac_key)


@dataclass(frozen=True, slots=True)
class StackInfo:
    """A line of ``kgit state list``: read from a state Secret's annotations alone."""

    stack: str
    serial: int
    lineage: str
    objects: int
    updated: str


def check_stack_name(stack: str) -> None:
    """Refuse a stack name that cannot be part of Secret and Lease names."""
    if not _STACK_NAME.match(stack):
        raise StateError(
            f"{stack!r}: not a valid stack name (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )


def new_state(stack: str) -> State:
    """A fresh, empty state (serial 0, new lineage and key); not yet written."""
    check_stack_name(stack)
    return State(
        format_version=FORMAT_VERSION,
        stack=stack,
        lineage=str(uuid.uuid4()),
        serial=0,
        commit="",
        hmac_key=os.urandom(32),
    )


def check_no_secret_values(state: State) -> None:
    """Refuse a state that would store a Secret value instead of its digest.

    The planner hands over manifests with Secret values already replaced by digests;
    this is the last line of defence before they would be written to the cluster.
    """
    for key, record in state.objects.items():
        if key.group != "" or key.kind != "Secret":
            continue
        obj = record.obj
        for section in ("data", "stringData"):
            values = obj.get(section) or {}
            if not isinstance(values, Mapping):
                raise StateError(
                    f"{key.subject}: {section} is not a mapping; refusing to record it"
                )
            for name, value in values.items():
                if not (isinstance(value, str) and value.startswith(DIGEST_PREFIX)):
                    raise StateError(
                        f"{key.subject}: refusing to record a Secret value in the state "
                        f"({section}.{name} is not a kgit digest)"
                    )
        annotations: Any = (obj.get("metadata") or {}).get("annotations") or {}
        if LAST_APPLIED_ANNOTATION in annotations:
            raise StateError(
                f"{key.subject}: refusing to record a Secret with the {LAST_APPLIED_ANNOTATION} "
                "annotation (it holds the values in clear)"
            )
