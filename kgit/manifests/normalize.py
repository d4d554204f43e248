"""Normalisation: the declared table of what never causes a diff, and Secret masking.

Every object kgit compares (desired, recorded, live, dry-run result) goes through
:func:`normalize` first, so that server-populated fields never show as changes and Secret
values are replaced by keyed digests before anything else sees them.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgit.manifests.keys import group_of

if TYPE_CHECKING:
    from collections.abc import Mapping

STACK_LABEL = "kgit.dev/stack"
SOURCE_ANNOTATION = "kgit.dev/source"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
DIGEST_PREFIX = "hmac-sha256:"

# Server-populated metadata: present on every live object, never set by a manifest.
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
# Annotations written by others (or by kgit itself per apply) that are not desired state:
# the source annotation names the commit of the last change, so comparing it would turn
# every commit into an update of every object.
IGNORED_ANNOTATIONS = (
    SOURCE_ANNOTATION,
    LAST_APPLIED_ANNOTATION,
    "deployment.kubernetes.io/revision",
)


# The fields of a Secret shown as they are; data and stringData are masked by their rules.
_SECRET_CLEAR_FIELDS = frozenset(
    {"apiVersion", "kind", "metadata", "type", "immutable", "data", "stringData"}
)


def is_secret(obj: dict[str, Any]) -> bool:
    """True for core/v1 Secrets, whose values kgit never keeps or shows."""
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def secret_digest(value: bytes, key: bytes) -> str:
    """A keyed digest of a Secret value: comparable, but no dictionary attack on a plan."""
    return DIGEST_PREFIX + hmac.new(key, value, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SensitiveRule:
    """A ``kgit.yaml`` rule: values of matching objects masked like Secret data.

    The values under ``keys`` (shell globs) of the object's ``data`` and ``binaryData``
    maps (a ConfigMap's) are replaced by keyed digests wherever kgit keeps or shows
    them; the keys themselves stay visible, as a Secret's do. ``group``, ``kind``,
    ``namespace`` and ``name`` are shell globs; ``*`` matches all.
    """

    keys: tuple[str, ...] = ("*",)
    group: str = "*"
    kind: str = "*"
    namespace: str = "*"
    name: str = "*"
    reason: str = ""

    def matches(self, obj: dict[str, Any]) -> bool:
        """True when this rule applies to ``obj`` (namespace as resolved, "" if none)."""
        meta = obj.get("metadata") or {}
        return all(
            fnmatch.fnmatchcase(str(value), pattern)
            for value, pattern in (
                (group_of(str(obj.get("apiVersion") or "")), self.group),
                (obj.get("kind") or "", self.kind),
                (meta.get("namespace") or "", self.namespace),
                (meta.get("name") or "", self.name),
            )
        )


def _masked(value: Any, key: bytes, *, encoded: bool) -> Any:
    """A value's keyed digest (of its bytes, base64-decoded when ``encoded``)."""
    if isinstance(value, str) and value.startswith(DIGEST_PREFIX):
        return value  # masked already
    if not encoded:
        return secret_digest(str(value).encode(), key)
    try:
        raw = base64.b64decode(str(value), validate=True)
    except ValueError:
        # Not base64: the server will refuse it; digest the text so it still compares.
        raw = str(value).encode()
    return secret_digest(raw, key)


def _masked_tree(value: Any, key: bytes) -> Any:
    """Every leaf of ``value`` replaced by its keyed digest, the shape kept."""
    if isinstance(value, dict):
        return {k: _masked_tree(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_tree(v, key) for v in value]
    return _masked(value if isinstance(value, str) else canonical_json(value), key, encoded=False)


def mask_secret(obj: dict[str, Any], key: bytes) -> dict[str, Any]:
    """Fold ``stringData`` into ``data`` and replace every value by its keyed digest.

    The server does the same folding, so a Secret written with ``stringData`` compares
    equal to its live form. Values already masked are left as they are. Any field a
    Secret does not have (a misspelt ``stringdata``) is masked too: it may hold values.
    """
    out = {
        field: value if field in _SECRET_CLEAR_FIELDS else _masked_tree(value, key)
        for field, value in obj.items()
    }
    data: dict[str, Any] = {
        name: _masked(value, key, encoded=True) for name, value in (obj.get("data") or {}).items()
    }
    for name, value in (obj.get("stringData") or {}).items():
        data[name] = secret_digest(str(value).encode(), key)
    out.pop("stringData", None)
    if data or "data" in obj:
        out["data"] = data
    return out


def mask_sensitive(
    obj: dict[str, Any], key: bytes, rules: tuple[SensitiveRule, ...]
) -> dict[str, Any]:
    """Replace the values ``rules`` mark sensitive by their keyed digests (``obj`` if none)."""
    matching = [rule for rule in rules if rule.matches(obj)]
    if not matching:
        return obj
    out = dict(obj)
    for field in ("data", "binaryData"):
        values = obj.get(field)
        if not isinstance(values, dict):
            continue
        out[field] = {
            name: (
                _masked(value, key, encoded=field == "binaryData")
                if any(fnmatch.fnmatchcase(name, p) for rule in matching for p in rule.keys)
                else value
            )
            for name, value in values.items()
        }
    return out


def is_masked(obj: dict[str, Any], rules: tuple[SensitiveRule, ...] = ()) -> bool:
    """True for objects whose values kgit masks: Secrets, and those ``rules`` match."""
    return is_secret(obj) or any(rule.matches(obj) for rule in rules)


def strip_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without ``status``, server-set metadata and annotations nobody declares."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    for name in SERVER_METADATA:
        meta.pop(name, None)
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in IGNORED_ANNOTATIONS
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out


def drop_nulls(value: Any) -> Any:
    """Remove ``key: null`` entries: to server-side apply a null is the same as absence."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def normalize(
    obj: dict[str, Any], hmac_key: bytes, sensitive: tuple[SensitiveRule, ...] = ()
) -> dict[str, Any]:
    """What kgit compares of any object: server fields stripped, sensitive values masked.

    Secret values are always masked; ``sensitive`` (kgit.yaml's rules) mark others.
    """
    out = strip_server_fields(obj)
    if is_secret(out):
        return mask_secret(out, hmac_key)
    return mask_sensitive(out, hmac_key, sensitive)


def normalize_live(
    obj: dict[str, Any], hmac_key: bytes, sensitive: tuple[SensitiveRule, ...] = ()
) -> dict[str, Any]:
    """A live object for comparison: sensitive values masked, ``managedFields`` kept.

    ``managedFields`` name who last wrote a drifted field; the rest of the server
    metadata stays too (``resourceVersion`` and ``uid`` are needed for staleness and
    prune preconditions). The last-applied annotation of a masked object holds its
    values in clear, so it goes.
    """
    if is_secret(obj):
        out = mask_secret(obj, hmac_key)
    else:
        out = dict(mask_sensitive(obj, hmac_key, sensitive))
    meta = out.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if LAST_APPLIED_ANNOTATION in annotations and is_masked(obj, sensitive):
        meta = dict(meta)
        meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED_ANNOTATION}
        out["metadata"] = meta
    return out


def prepare_desired(obj: dict[str, Any], stack: str) -> dict[str, Any]:
    """A manifest as kgit applies it: nulls dropped, the stack label set (not masked).

    A new object: :func:`drop_nulls` rebuilds every mapping and list, so ``obj`` is
    never changed (and no deep copy is needed on top).
    """
    out = drop_nulls(obj)
    meta = out.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    labels[STACK_LABEL] = stack
    meta["labels"] = labels
    return dict(out)


def with_source_annotation(obj: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy carrying ``kgit.dev/source=<path>@<commit>``, added only when applying."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), SOURCE_ANNOTATION: source}
    out["metadata"] = meta
    return out


def canonical_json(obj: Any) -> str:
    """Sorted, compact JSON: the form digests are taken of."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def object_digest(obj: dict[str, Any]) -> str:
    """sha256 of an object's canonical JSON (of its masked form, for Secrets)."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


# What the server rewrites without anyone changing the object: its controllers' status and
# the bookkeeping of every write.
_VOLATILE_METADATA = frozenset({"resourceVersion", "managedFields", "generation"})


def live_content_digest(obj: Mapping[str, Any]) -> str:
    """sha256 of a live object without its status and the metadata every write moves.

    A stored plan is stale when this changes; a controller writing the status (a
    Deployment's replicas coming up) does not make it stale.
    """
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE_METADATA}
    rest = {k: v for k, v in obj.items() if k not in ("status", "metadata")}
    return hashlib.sha256(canonical_json({**rest, "metadata": meta}).encode()).hexdigest()


def stack_of(obj: dict[str, Any]) -> str | None:
    """The stack label an object carries, if any."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    value = labels.get(STACK_LABEL)
    return str(value) if value is not None else None
