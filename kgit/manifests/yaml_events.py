"""YAML text to plain values, built straight from parser events (libyaml's when available).

Objects are built from events rather than through PyYAML's composer and constructor:
libyaml's composer recurses on the C stack (a file of 100,000 "[" crashes the
interpreter), and one pass over the events can check everything at once (depth,
duplicate keys, aliases, tags) while noting the lines messages need, at about the speed
of PyYAML's own C-backed load. What PyYAML would accept silently is refused: duplicate
keys, alias bombs, recursive aliases, absurd nesting and tags that have no JSON form.
Values are built as Kubernetes reads them (sigs.k8s.io/yaml, YAML 1.1): timestamps stay
strings and scalar mapping keys are their text.
"""

from __future__ import annotations

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
from kgit.manifests.validate import VALUE_MAPS

if TYPE_CHECKING:
    import re
    from collections.abc import Iterator

    from kgit.manifests.validate import Locate

# Far deeper than any manifest (a CRD schema embedding a pod template is ~60 levels), and
# shallow enough that recursive code downstream (json, diff) stays within Python's limit.
MAX_DEPTH = 200
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
# Top-level keys whose lines validation may report (see _tracked).
_TRACKED_TOP = frozenset(("apiVersion", "kind", "metadata", "items", *VALUE_MAPS))

_Parser: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = (
    yaml.SafeLoader.yaml_implicit_resolvers
)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_NO_KEY: Any = object()
_MERGE_KEY: Any = object()
_BUILDING: Any = object()


def yaml_documents(path: str, text: str) -> Iterator[tuple[Any, int, Locate]]:
    """The non-empty documents of the YAML stream ``text``, read from the file ``path``.

    Yields each document's value, the line where it starts and a function that finds the
    line of a key path in it (the closest noted parent's for keys validation never
    reports). Raises :class:`ManifestError` starting with ``path:line:`` at the first
    invalid YAML, alias, key, tag or nesting, after the documents before it.
    """
    parser = _Parser(text)
    try:
        yield from _documents(path, text, parser)
    finally:
        parser.dispose()


def _documents(path: str, text: str, parser: Any) -> Iterator[tuple[Any, int, Locate]]:
    builder = _DocumentBuilder(path)
    # Bound once: this loop runs for every node of every file.
    get_event = parser.get_event
    on_scalar = builder.on_scalar
    on_collection_start = builder.on_collection_start
    on_collection_end = builder.on_collection_end
    line = 1
    while True:
        try:
            event = get_event()
        except yaml.YAMLError as err:
            raise _parse_error(path, text, line, err) from err
        if event is None:
            return
        mark = event.start_mark
        if mark is not None:
            line = mark.line + 1
        cls = type(event)
        if cls is ScalarEvent:
            on_scalar(event, line)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            on_collection_start(event, line)
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            on_collection_end(line)
        elif cls is AliasEvent:
            builder.on_alias(event, line)
        elif cls is DocumentStartEvent:
            builder.on_document_start()
        elif cls is DocumentEndEvent:
            document = builder.on_document_end()
            if document is not None:
                yield document
        elif cls is StreamEndEvent:
            return


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
        # The key path from the document's root, kept only while its lines may be noted.
        self.path: tuple[str, ...] | None = None


class _DocumentBuilder:
    """Builds one document at a time from parser events, one method per event.

    ``line`` is the 1-based line where the event starts. ``count`` is the number of nodes
    the document holds with its aliases expanded, ``expanded`` those its aliases added.
    """

    __slots__ = (
        "aliases",
        "anchors",
        "count",
        "expanded",
        "frames",
        "lines",
        "path",
        "root",
        "root_line",
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self.frames: list[_Frame] = []
        # anchor -> (value, nodes it holds); _BUILDING while its own node is open.
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.lines: dict[tuple[str, ...], int] = {}
        self.root: Any = None
        self.root_line = 1
        self.aliases = self.count = self.expanded = 0

    def on_document_start(self) -> None:
        """A new document: anchors, lines and limits start afresh."""
        self.anchors.clear()
        self.lines = {}
        self.root = None
        self.aliases = self.count = self.expanded = 0

    def on_document_end(self) -> tuple[Any, int, Locate] | None:
        """The finished document, or None when it holds nothing."""
        root, self.root = self.root, None
        # Empty, comment-only and "null" documents hold no object.
        if root is None:
            return None
        return root, self.root_line, _locator(self.lines, self.root_line)

    def on_scalar(self, event: Any, line: int) -> None:
        """A scalar: a mapping's next key, or a value."""
        self.count += 1
        frames = self.frames
        top = frames[-1] if frames else None
        if top is not None and top.is_map and top.key is _NO_KEY:
            self._scalar_key(top, event, line)
            return
        value = _scalar(self.path, event)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        if top is None:
            self.root_line = line
        elif top.path is not None:
            child = _child_path(top)
            if child is not None:
                self.lines[child] = line
        self._put(value, line)

    def _scalar_key(self, top: _Frame, event: Any, line: int) -> None:
        tag = event.tag
        if event.value == "<<" and (tag == _MERGE or (tag is None and event.implicit[0])):
            top.key = _MERGE_KEY
            return
        if tag is not None and tag != "!" and tag not in _SCALAR_TAGS:
            raise _unsupported_tag(self.path, event)
        # Any scalar key is its text: "8080:" is the key "8080" to Kubernetes.
        key = event.value
        if key in top.container:
            raise ManifestError(f"{self.path}:{line}: duplicate key {key!r}")
        top.key = key
        if event.anchor is not None:
            self.anchors[event.anchor] = (key, 1)

    def on_collection_start(self, event: Any, line: int) -> None:
        """A mapping or sequence opens: checked, then built until its end event."""
        is_map = type(event) is MappingStartEvent
        frames = self.frames
        top = frames[-1] if frames else None
        if top is not None and top.is_map and top.key is _NO_KEY:
            raise ManifestError(f"{self.path}:{line}: a mapping key must be a string")
        if event.tag not in (None, "!", _MAP if is_map else _SEQ):
            raise _unsupported_tag(self.path, event)
        if len(frames) >= MAX_DEPTH:
            raise ManifestError(f"{self.path}:{line}: nested more than {MAX_DEPTH} levels deep")
        frame = _Frame({} if is_map else [], is_map, event.anchor, self.count)
        self.count += 1
        if top is None:
            self.root_line = line
            frame.path = ()
        elif top.path is not None:
            frame.path = _child_path(top)
            if frame.path is not None:
                self.lines[frame.path] = line
        if event.anchor is not None:
            self.anchors[event.anchor] = (_BUILDING, 0)
        frames.append(frame)

    def on_collection_end(self, line: int) -> None:
        """A mapping or sequence closes: merged keys go under its own, and it is placed."""
        frame = self.frames.pop()
        value = frame.container
        if frame.merges:
            merged: dict[str, Any] = {}
            for source in frame.merges:
                merged.update(source)
            merged.update(value)
            value = merged
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (value, self.count - frame.start)
        self._put(value, line)

    def on_alias(self, event: Any, line: int) -> None:
        """An alias: its anchor's value again, within the limits on aliases."""
        value = self._expand(event.anchor, line)
        frames = self.frames
        top = frames[-1] if frames else None
        if top is not None and top.is_map and top.key is _NO_KEY:
            if not isinstance(value, str):
                raise ManifestError(f"{self.path}:{line}: a mapping key must be a string")
            if value in top.container:
                raise ManifestError(f"{self.path}:{line}: duplicate key {value!r}")
            top.key = value
            return
        if top is None:
            self.root_line = line
        self._put(value, line)

    def _expand(self, anchor: str, line: int) -> Any:
        """The value of ``anchor``, counted against the document's alias limits."""
        target = self.anchors.get(anchor)
        if target is None:
            raise ManifestError(f"{self.path}:{line}: unknown alias *{anchor}")
        value, size = target
        if value is _BUILDING:
            raise ManifestError(f"{self.path}:{line}: recursive alias (a node contains itself)")
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise ManifestError(
                f"{self.path}:{line}: too many aliases (more than {MAX_ALIASES} in one document)"
            )
        self.count += size
        self.expanded += size
        if self.expanded > MAX_ALIAS_EXPANSION:
            raise ManifestError(
                f"{self.path}:{line}: too many aliases "
                f"(expanding them adds more than {MAX_ALIAS_EXPANSION} nodes)"
            )
        return value

    def _put(self, value: Any, line: int) -> None:
        """Place a finished value: the root, a sequence's next item or a key's value."""
        frames = self.frames
        if not frames:
            self.root = value
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
        top.merges = [*(top.merges or []), _merge_source(self.path, line, value)]


def _merge_source(path: str, line: int, value: Any) -> dict[str, Any]:
    """What "<<: *base" or "<<: [*a, *b]" adds to a mapping, as one mapping.

    Merged keys never count as duplicates, and explicit keys win over them (the first of
    a merged list wins over later ones).
    """
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(s, dict) for s in sources):
        raise ManifestError(f"{path}:{line}: a merge key (<<) needs a mapping or a list of them")
    merged: dict[str, Any] = {}
    for source in reversed(sources):
        merged.update(source)
    return merged


def _child_path(parent: _Frame) -> tuple[str, ...] | None:
    """The key path of the node starting in ``parent``, if its line is worth noting."""
    if parent.path is None:
        return None
    if parent.is_map:
        if parent.key is _MERGE_KEY:
            return None
        child = (*parent.path, parent.key)
    else:
        child = (*parent.path, str(len(parent.container)))
    return child if _tracked(child) else None


def _tracked(path: tuple[str, ...]) -> bool:
    """Whether to note the line of the node at ``path`` (what validation may report)."""
    if len(path) >= 2 and path[0] == "items":
        path = path[2:]  # relative to the List item
    size = len(path)
    if size <= 1:
        return not path or path[0] in _TRACKED_TOP
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
        for candidate, pattern in _RESOLVERS.get(value[:1], ()):
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


def _parse_error(path: str, text: str, line: int, err: yaml.YAMLError) -> ManifestError:
    """The message for what the parser refused; ``line`` is where the last event started."""
    if isinstance(err, yaml.MarkedYAMLError):
        if "maximum nesting depth" in _problem(err):
            # Newer libyaml parsers refuse deep nesting themselves (at 1,000 levels): say
            # it as kgit's own limit does, whichever libyaml is installed.
            return ManifestError(
                f"{path}:{_mark_line(err)}: nested more than {MAX_DEPTH} levels deep"
            )
        return ManifestError(f"{path}:{_mark_line(err)}: invalid YAML: {_problem(err)}")
    if isinstance(err, yaml.reader.ReaderError):
        at = text.count("\n", 0, err.position) + 1
        return ManifestError(f"{path}:{at}: invalid YAML: {err.reason}")
    return ManifestError(f"{path}:{line}: invalid YAML: {err}")


def _locator(lines: dict[tuple[str, ...], int], default: int) -> Locate:
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
