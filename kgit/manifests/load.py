"""Load and validate manifests: YAML or JSON bytes in, plain mappings with their line out.

YAML is built straight from parser events (libyaml's when available), so every document
keeps its starting line and what PyYAML would accept silently is refused: duplicate keys,
alias bombs, recursive aliases, absurd nesting and tags that have no JSON form. Values are
built as Kubernetes reads them (sigs.k8s.io/yaml, YAML 1.1): timestamps stay strings and
scalar mapping keys are their text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from kgit.errors import ManifestError
from kgit.manifests.keys import group_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from kgit.source.git import SourceFile

MAX_FILE_BYTES = 8 * 1024 * 1024
# Real manifests use a handful of anchors (shared labels, env blocks); a hundred alias
# uses per document is far beyond that and still cheap to check.
MAX_ALIASES = 100
# Nodes that aliases may add when expanded; bounds what a later deep walk (diff, digest,
# JSON dump) can be made to do by a few bytes of "billion laughs".
MAX_ALIAS_EXPANSION = 100_000

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_MAP = _TAG + "map"
_SEQ = _TAG + "seq"
_MERGE = _TAG + "merge"
_NULL = _TAG + "null"
_BOOL = _TAG + "bool"
_INT = _TAG + "int"
_FLOAT = _TAG + "float"
_TIMESTAMP = _TAG + "timestamp"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# RBAC objects may be named like path segments ("system:metrics-server"), and commonly are.
_PATH_SEGMENT_GROUPS = frozenset({"rbac.authorization.k8s.io"})
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
# Core kinds whose top-level maps hold string values only. Secret values are masked
# before anything else sees them, which needs these maps to be what the API requires.
_STRING_MAPS = {"Secret": ("data", "stringData"), "ConfigMap": ("data", "binaryData")}
_VALUE_MAPS = ("data", "stringData", "binaryData")


@dataclass(frozen=True, slots=True)
class Manifest:
    """One object from Git: the mapping, its file and the 1-based line where it starts.

    ``line`` is the first line of the document, or of the item for objects in a ``List``.
    """

    obj: dict[str, Any]
    path: str
    line: int

    @property
    def where(self) -> str:
        """``path:line``, the subject of messages about this object."""
        return f"{self.path}:{self.line}"


def load_manifests(files: Iterable[SourceFile]) -> list[Manifest]:
    """Parse and validate every object in ``files``, in file and document order.

    ``.json`` files hold one JSON value; any other file is multi-document YAML. Empty
    documents are skipped, and a ``List`` kind (``kind`` ending in ``List`` with
    ``items``) expands to its items. Raises :class:`ManifestError` starting with
    ``path:line:`` for the first invalid file or object (``path:`` alone when the file
    as a whole is refused: too large, or not UTF-8).
    """
    manifests: list[Manifest] = []
    for source in files:
        manifests.extend(_load_file(source.path, source.data))
    return manifests


def _load_file(path: str, data: bytes) -> Iterator[Manifest]:
    if len(data) > MAX_FILE_BYTES:
        raise ManifestError(f"{path}: file is larger than 8 MiB ({len(data)} bytes)")
    try:
        # utf-8-sig: a byte order mark is harmless, and editors on Windows write one.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ManifestError(f"{path}: not UTF-8 text") from err
    if path.endswith(".json"):
        return _load_json(path, text)
    return _load_yaml(path, text)


# --- YAML ----------------------------------------------------------------------------------
#
# Objects are built straight from parser events rather than through PyYAML's composer
# and constructor: libyaml's composer recurses on the C stack (a file of 100,000 "["
# crashes the interpreter), and one pass over the events can check everything at once
# (depth, duplicate keys, aliases, tags) while noting the lines messages need, at about
# the speed of PyYAML's own C-backed load.

_Parser: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = (
    yaml.SafeLoader.yaml_implicit_resolvers
)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# Far deeper than any manifest (a CRD schema embedding a pod template is ~60 levels), and
# shallow enough that recursive code downstream (json, diff) stays within Python's limit.
MAX_DEPTH = 200
_NO_KEY: Any = object()
_MERGE_KEY: Any = object()
_BUILDING: Any = object()


class _Frame:
    """A mapping or sequence being built."""

    __slots__ = ("anchor", "container", "is_map", "key", "merges", "path", "start")

    def __init__(self, container: Any, is_map: bool, anchor: str | None, start: int) -> None:
        self.container = container
        self.is_map = is_map
        self.key: Any = _NO_KEY
        self.anchor = anchor
        self.start = start
        self.merges: list[dict[str, Any]] | None = None
        self.path: tuple[str, ...] | None = None


def _tracked(path: tuple[str, ...]) -> bool:
    """Whether to note the line of the node at ``path`` (what validation may report)."""
    if len(path) >= 2 and path[0] == "items":
        path = path[2:]  # relative to the List item
    size = len(path)
    if size <= 1:
        return not path or path[0] in ("apiVersion", "kind", "metadata", "items", *_VALUE_MAPS)
    if size == 2:
        return path[0] == "metadata"
    return size == 3 and path[0] == "metadata" and path[1] in ("labels", "annotations")


def _scalar(path: str, event: Any) -> Any:
    """The value of a scalar event, resolved as YAML 1.1 (what kubectl reads)."""
    value: str = event.value
    tag = event.tag
    if tag is None:
        if not event.implicit[0]:
            return value  # quoted or block scalar
        resolvers = _RESOLVERS.get(value[:1])
        if resolvers is None:
            return value
        for candidate, pattern in resolvers:
            if pattern.match(value):
                tag = candidate
                break
        else:
            return value
    elif tag == "!":
        return value
    if tag in (_STR, _TIMESTAMP):
        # A bare 2024-01-01 is a string to Kubernetes (sigs.k8s.io/yaml), not a date.
        return value
    if tag == _NULL:
        return None
    try:
        if tag == _BOOL:
            return _CONSTRUCTOR.construct_yaml_bool(ScalarNode(tag, value))
        if tag == _INT:
            return _CONSTRUCTOR.construct_yaml_int(ScalarNode(tag, value))
        if tag == _FLOAT:
            return _CONSTRUCTOR.construct_yaml_float(ScalarNode(tag, value))
    except (ValueError, KeyError, IndexError, OverflowError) as err:
        # The value is not quoted: the document may be a Secret, which is not known yet.
        raise ManifestError(
            f"{path}:{event.start_mark.line + 1}: the value tagged !!{tag.rsplit(':')[-1]} "
            f"is not a valid {tag.rsplit(':')[-1]}"
        ) from err
    if event.tag is None:
        return value  # plain "=", "<<" in value position and the like: text to Kubernetes
    raise _unsupported_tag(path, event)


def _unsupported_tag(path: str, event: Any) -> ManifestError:
    return ManifestError(
        f"{path}:{event.start_mark.line + 1}: unsupported YAML tag {event.tag!r} "
        "(manifests hold only what JSON can)"
    )


def _load_yaml(path: str, text: str) -> Iterator[Manifest]:
    parser = _Parser(text)
    try:
        yield from _yaml_documents(path, text, parser)
    finally:
        parser.dispose()


def _yaml_documents(path: str, text: str, parser: Any) -> Iterator[Manifest]:
    get_event = parser.get_event
    frames: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    lines: dict[tuple[str, ...], int] = {}
    root: Any = None
    root_line = 1
    aliases = count = unique = 0

    def put(value: Any) -> None:
        nonlocal root
        if not frames:
            root = value
            return
        top = frames[-1]
        if not top.is_map:
            top.container.append(value)
            return
        key = top.key
        top.key = _NO_KEY
        if key is not _MERGE_KEY:
            top.container[key] = value
            return
        # "<<: *base" or "<<: [*a, *b]": merged keys never count as duplicates, and
        # explicit keys win over them (the first of a merged list wins over later ones).
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            raise ManifestError(
                f"{path}:{line}: a merge key (<<) needs a mapping or a list of them"
            )
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            merged.update(source)
        top.merges = [*(top.merges or []), merged]

    def child_path() -> tuple[str, ...] | None:
        parent = frames[-1]
        if parent.path is None:
            return None
        if parent.is_map:
            if parent.key is _MERGE_KEY:
                return None
            child = (*parent.path, parent.key)
        else:
            child = (*parent.path, str(len(parent.container)))
        return child if _tracked(child) else None

    line = 1
    while True:
        try:
            event = get_event()
        except yaml.MarkedYAMLError as err:
            if "maximum nesting depth" in _problem(err):
                # Newer libyaml parsers refuse deep nesting themselves (at 1,000 levels):
                # say it as kgit's own limit does, whichever libyaml is installed.
                raise ManifestError(
                    f"{path}:{_mark_line(err)}: nested more than {MAX_DEPTH} levels deep"
                ) from err
            raise ManifestError(f"{path}:{_mark_line(err)}: invalid YAML: {_problem(err)}") from err
        except yaml.reader.ReaderError as err:
            at = text.count("\n", 0, err.position) + 1
            raise ManifestError(f"{path}:{at}: invalid YAML: {err.reason}") from err
        except yaml.YAMLError as err:
            raise ManifestError(f"{path}:{line}: invalid YAML: {err}") from err
        if event is None:
            return
        cls = type(event)
        line = event.start_mark.line + 1 if event.start_mark is not None else line

        if cls is ScalarEvent:
            count += 1
            unique += 1
            top = frames[-1] if frames else None
            if top is not None and top.is_map and top.key is _NO_KEY:
                tag = event.tag
                if event.value == "<<" and (tag == _MERGE or (tag is None and event.implicit[0])):
                    top.key = _MERGE_KEY
                    continue
                if tag is not None and tag != "!" and tag not in _SCALAR_TAGS:
                    raise _unsupported_tag(path, event)
                # Any scalar key is its text: "8080:" is the key "8080" to Kubernetes.
                key = event.value
                if key in top.container:
                    raise ManifestError(f"{path}:{line}: duplicate key {key!r}")
                top.key = key
                if event.anchor is not None:
                    anchors[event.anchor] = (key, 1)
                continue
            value = _scalar(path, event)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
            if top is None:
                root_line = line
            elif top.path is not None:
                child = child_path()
                if child is not None:
                    lines[child] = line
            put(value)

        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            is_map = cls is MappingStartEvent
            top = frames[-1] if frames else None
            if top is not None and top.is_map and top.key is _NO_KEY:
                raise ManifestError(f"{path}:{line}: a mapping key must be a string")
            if event.tag not in (None, "!", _MAP if is_map else _SEQ):
                raise _unsupported_tag(path, event)
            if len(frames) >= MAX_DEPTH:
                raise ManifestError(f"{path}:{line}: nested more than {MAX_DEPTH} levels deep")
            frame = _Frame({} if is_map else [], is_map, event.anchor, count)
            count += 1
            unique += 1
            if top is None:
                root_line = line
                frame.path = ()
            elif top.path is not None:
                frame.path = child_path()
                if frame.path is not None:
                    lines[frame.path] = line
            if event.anchor is not None:
                anchors[event.anchor] = (_BUILDING, 0)
            frames.append(frame)

        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            frame = frames.pop()
            value = frame.container
            if frame.merges:
                merged = {}
                for source in frame.merges:
                    merged.update(source)
                merged.update(value)
                value = merged
            if frame.anchor is not None:
                anchors[frame.anchor] = (value, count - frame.start)
            put(value)

        elif cls is AliasEvent:
            target = anchors.get(event.anchor)
            if target is None:
                raise ManifestError(f"{path}:{line}: unknown alias *{event.anchor}")
            value, size = target
            if value is _BUILDING:
                raise ManifestError(f"{path}:{line}: recursive alias (a node contains itself)")
            aliases += 1
            if aliases > MAX_ALIASES:
                raise ManifestError(
                    f"{path}:{line}: too many aliases (more than {MAX_ALIASES} in one document)"
                )
            count += size
            if count - unique > MAX_ALIAS_EXPANSION:
                raise ManifestError(
                    f"{path}:{line}: too many aliases "
                    f"(expanding them adds more than {MAX_ALIAS_EXPANSION} nodes)"
                )
            top = frames[-1] if frames else None
            if top is not None and top.is_map and top.key is _NO_KEY:
                if not isinstance(value, str):
                    raise ManifestError(f"{path}:{line}: a mapping key must be a string")
                if value in top.container:
                    raise ManifestError(f"{path}:{line}: duplicate key {value!r}")
                top.key = value
                continue
            if top is None:
                root_line = line
            put(value)

        elif cls is DocumentStartEvent:
            anchors.clear()
            lines = {}
            root = None
            aliases = count = unique = 0

        elif cls is DocumentEndEvent:
            # Empty, comment-only and "null" documents hold no object.
            if root is not None:
                doc_lines = lines
                yield from _objects(root, path, root_line, _locator(doc_lines, root_line))
            root = None

        elif cls is StreamEndEvent:
            return


def _locator(lines: dict[tuple[str, ...], int], default: int) -> Callable[[tuple[str, ...]], int]:
    """Find the line of a key path, falling back to its closest noted parent."""

    def locate(keys: tuple[str, ...]) -> int:
        for end in range(len(keys), 0, -1):
            found = lines.get(keys[:end])
            if found is not None:
                return found
        return default

    return locate


def _mark_line(err: yaml.MarkedYAMLError) -> int:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else 1


def _problem(err: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (err.context, err.problem) if p]
    return ", ".join(parts) if parts else str(err)


# --- JSON ----------------------------------------------------------------------------------


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and the API server would refuse them.
    raise ValueError(f"{name} is not a JSON number")


def _load_json(path: str, text: str) -> Iterator[Manifest]:
    start = _JSON_SPACE.match(text)
    offset = start.end() if start else 0
    if offset == len(text):
        return iter([])  # an empty file, as an empty YAML file, holds no object
    line = text.count("\n", 0, offset) + 1
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from err
    except _DuplicateKeyError as err:
        raise ManifestError(f"{path}:{line}: duplicate key {err.key!r}") from err
    except ValueError as err:
        raise ManifestError(f"{path}:{line}: invalid JSON: {err}") from err
    except RecursionError as err:
        raise ManifestError(f"{path}:{line}: document is nested too deeply") from err
    if _depth_exceeds(obj, MAX_DEPTH):
        raise ManifestError(f"{path}:{line}: nested more than {MAX_DEPTH} levels deep")
    item_lines = _json_item_lines(text) if _is_list(obj) else None

    def locate(keys: tuple[str, ...]) -> int:
        if item_lines is not None and keys[:1] == ("items",) and len(keys) > 1:
            index = int(keys[1])
            if index < len(item_lines):
                return item_lines[index]
        return line

    return _objects(obj, path, line, locate)


def _depth_exceeds(obj: Any, limit: int) -> bool:
    if not isinstance(obj, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _json_item_lines(text: str) -> list[int] | None:
    """Lines where the elements of a top-level object's ``items`` array start.

    The json module keeps no positions, so this walks the top level by hand and lets
    ``raw_decode`` skip over each value; None if the text is not shaped as expected.
    """
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        match = _JSON_SPACE.match(text, i)
        return match.end() if match else i

    try:
        i = skip(0)
        if text[i] != "{":
            return None
        i = skip(i + 1)
        while text[i] == '"':
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = skip(i)
            if text[i] != ":":
                return None
            i = skip(i + 1)
            if key == "items" and text[i] == "[":
                lines: list[int] = []
                i = skip(i + 1)
                while text[i] != "]":
                    lines.append(text.count("\n", 0, i) + 1)
                    _, i = decoder.raw_decode(text, i)
                    i = skip(i)
                    if text[i] == ",":
                        i = skip(i + 1)
                return lines
            _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] != ",":
                return None
            i = skip(i + 1)
    except (ValueError, IndexError):
        return None
    return None


# --- validation ----------------------------------------------------------------------------


def _is_list(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("kind"), str)
        and obj["kind"].endswith("List")
        and "items" in obj
    )


def _objects(
    obj: Any, path: str, line: int, locate: Callable[[tuple[str, ...]], int]
) -> Iterator[Manifest]:
    """The validated objects of one document: itself, or the items of a ``List``."""
    if not isinstance(obj, dict):
        raise ManifestError(f"{path}:{line}: a manifest must be a mapping, not {_type(obj)}")
    if not _is_list(obj):
        _validate(obj, path, locate)
        return iter([Manifest(obj, path, line)])
    items = obj["items"]
    if items is None:
        return iter([])
    if not isinstance(items, list):
        raise ManifestError(f"{path}:{locate(('items',))}: items must be a list")
    manifests = []
    for index, item in enumerate(items):
        item_line = locate(("items", str(index)))

        def locate_item(keys: tuple[str, ...], index: int = index) -> int:
            return locate(("items", str(index), *keys))

        if not isinstance(item, dict):
            raise ManifestError(f"{path}:{item_line}: items[{index}] must be a mapping")
        _validate(item, path, locate_item)
        manifests.append(Manifest(item, path, item_line))
    return iter(manifests)


def _validate(obj: dict[str, Any], path: str, locate: Callable[[tuple[str, ...]], int]) -> None:
    def fail(keys: tuple[str, ...], message: str) -> ManifestError:
        return ManifestError(f"{path}:{locate(keys)}: {message}")

    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is None or value == "":
            raise fail((), f"{field} is missing")
        if not isinstance(value, str):
            raise fail((field,), f"{field} must be a string, not {_type(value)}")
    meta = obj.get("metadata")
    if meta is None:
        raise fail((), "metadata.name is missing")
    if not isinstance(meta, dict):
        raise fail(("metadata",), f"metadata must be a mapping, not {_type(meta)}")
    name = meta.get("name")
    if name is None or name == "":
        raise fail(("metadata",), "metadata.name is missing")
    if not isinstance(name, str):
        raise fail(("metadata", "name"), f"metadata.name must be a string, not {_type(name)}")
    if not _valid_name(name, group_of(obj["apiVersion"])):
        raise fail(
            ("metadata", "name"),
            f"metadata.name {name!r} is not a valid name "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)",
        )
    namespace = meta.get("namespace")
    if namespace is not None and namespace != "":
        if not isinstance(namespace, str):
            raise fail(
                ("metadata", "namespace"),
                f"metadata.namespace must be a string, not {_type(namespace)}",
            )
        if len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
            raise fail(
                ("metadata", "namespace"),
                f"metadata.namespace {namespace!r} is not a valid namespace name "
                "(lowercase letters, digits and '-', at most 63 characters)",
            )
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise fail(
                ("metadata", field), f"metadata.{field} must be a mapping, not {_type(values)}"
            )
        for key, value in values.items():
            if not isinstance(value, str):
                raise fail(
                    ("metadata", field, key),
                    f"metadata.{field}.{key} must be a string, not {_type(value)} (quote it)",
                )

    if obj["apiVersion"] == "v1":
        _validate_string_maps(obj, fail)


def _validate_string_maps(
    obj: dict[str, Any], fail: Callable[[tuple[str, ...], str], ManifestError]
) -> None:
    """A Secret's or ConfigMap's value maps: mappings of strings (values never quoted)."""
    for field in _STRING_MAPS.get(obj["kind"], ()):
        values = obj.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise fail((field,), f"{field} must be a mapping, not {_type(values)}")
        for key, value in values.items():
            # null is absence to server-side apply (and dropped before applying).
            if value is not None and not isinstance(value, str):
                raise fail(
                    (field, key), f"{field}.{key} must be a string, not {_type(value)} (quote it)"
                )


def _valid_name(name: str, group: str) -> bool:
    if group in _PATH_SEGMENT_GROUPS:
        return name not in (".", "..") and "/" not in name and "%" not in name
    return len(name) <= 253 and _DNS_SUBDOMAIN.fullmatch(name) is not None


def _type(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, bool | dict | list | str):
        return names[type(value)]
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__
