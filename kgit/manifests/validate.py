"""What every manifest must hold before kgit plans it, checked where Git wrote it.

The API server would refuse most of these later, far from the file; kgit names the file
and line instead. Secret and ConfigMap value maps are checked here too: their values are
masked before anything else sees them, which needs them to be what the API requires.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kgit.errors import ManifestError
from kgit.manifests.keys import group_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    # The line of a key path in the object being validated (``()`` is the object).
    Locate: TypeAlias = Callable[[tuple[str, ...]], int]
    _Fail: TypeAlias = Callable[[tuple[str, ...], str], ManifestError]

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# RBAC objects may be named like path segments ("system:metrics-server"), and commonly are.
_PATH_SEGMENT_GROUPS = frozenset({"rbac.authorization.k8s.io"})
# Core kinds whose top-level maps hold string values only.
_STRING_MAPS = {"Secret": ("data", "stringData"), "ConfigMap": ("data", "binaryData")}
# Every such map: the YAML loader notes the lines of their keys for the messages here.
VALUE_MAPS = frozenset(field for fields in _STRING_MAPS.values() for field in fields)


# A YAML file without apiVersion and kind is often no manifest at all (a CI or tool
# configuration): it stays an error, since a typo must never make an object disappear.
NOT_A_MANIFEST_HINT = (
    " (if this file is not a Kubernetes manifest, exclude it: list it under exclude: in "
    "kgit.yaml or in .kgitignore)"
)


def validate(obj: dict[str, Any], path: str, locate: Locate) -> None:
    """Check one object of ``path``: apiVersion, kind, metadata, and v1 value maps.

    Raises :class:`ManifestError` starting with ``path:line:`` for the first problem,
    the line being ``locate``'s for the key at fault.
    """

    def fail(keys: tuple[str, ...], message: str) -> ManifestError:
        return ManifestError(f"{path}:{locate(keys)}: {message}")

    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is None or value == "":
            raise fail((), f"{field} is missing{NOT_A_MANIFEST_HINT}")
        if not isinstance(value, str):
            raise fail((field,), f"{field} must be a string, not {type_name(value)}")
    meta = obj.get("metadata")
    if meta is None:
        raise fail((), "metadata.name is missing")
    if not isinstance(meta, dict):
        raise fail(("metadata",), f"metadata must be a mapping, not {type_name(meta)}")
    _validate_name(meta, group_of(obj["apiVersion"]), fail)
    _validate_namespace(meta, fail)
    _validate_labels(meta, fail)
    if obj["apiVersion"] == "v1":
        _validate_string_maps(obj, fail)


def type_name(value: Any) -> str:
    """How messages name the type of a decoded value: ``a mapping``, ``null``, ..."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, bool | dict | list | str):
        return names[type(value)]
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _validate_name(meta: dict[str, Any], group: str, fail: _Fail) -> None:
    name = meta.get("name")
    if name is None or name == "":
        raise fail(("metadata",), "metadata.name is missing")
    if not isinstance(name, str):
        raise fail(("metadata", "name"), f"metadata.name must be a string, not {type_name(name)}")
    if not _valid_name(name, group):
        raise fail(
            ("metadata", "name"),
            f"metadata.name {name!r} is not a valid name "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)",
        )


def _validate_namespace(meta: dict[str, Any], fail: _Fail) -> None:
    namespace = meta.get("namespace")
    if namespace is None or namespace == "":
        return
    if not isinstance(namespace, str):
        raise fail(
            ("metadata", "namespace"),
            f"metadata.namespace must be a string, not {type_name(namespace)}",
        )
    if len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
        raise fail(
            ("metadata", "namespace"),
            f"metadata.namespace {namespace!r} is not a valid namespace name "
            "(lowercase letters, digits and '-', at most 63 characters)",
        )


def _validate_labels(meta: dict[str, Any], fail: _Fail) -> None:
    """Labels and annotations: mappings of strings (an unquoted ``true`` is not one)."""
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise fail(
                ("metadata", field), f"metadata.{field} must be a mapping, not {type_name(values)}"
            )
        for key, value in values.items():
            if not isinstance(value, str):
                raise fail(
                    ("metadata", field, key),
                    f"metadata.{field}.{key} must be a string, not {type_name(value)} (quote it)",
                )


def _validate_string_maps(obj: dict[str, Any], fail: _Fail) -> None:
    """A Secret's or ConfigMap's value maps: mappings of strings (values never quoted)."""
    for field in _STRING_MAPS.get(obj["kind"], ()):
        values = obj.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise fail((field,), f"{field} must be a mapping, not {type_name(values)}")
        for key, value in values.items():
            # null is absence to server-side apply (and dropped before applying).
            if value is not None and not isinstance(value, str):
                raise fail(
                    (field, key),
                    f"{field}.{key} must be a string, not {type_name(value)} (quote it)",
                )


def _valid_name(name: str, group: str) -> bool:
    if group in _PATH_SEGMENT_GROUPS:
        return name not in (".", "..") and "/" not in name and "%" not in name
    return len(name) <= 253 and _DNS_SUBDOMAIN.fullmatch(name) is not None
