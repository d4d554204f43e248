"""Load and validate manifests: YAML or JSON bytes in, plain mappings with their line out.

YAML is built from parser events (:mod:`kgit.manifests.yaml_events`), JSON by the json
module with its lines found by hand (:mod:`kgit.manifests.json_lines`); every object is
then checked by :mod:`kgit.manifests.validate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgit.errors import ManifestError
from kgit.manifests.json_lines import json_item_lines, json_value_line
from kgit.manifests.validate import type_name, validate
from kgit.manifests.yaml_events import MAX_DEPTH, yaml_documents

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from kgit.manifests.validate import Locate
    from kgit.source.git import SourceFile

MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Manifest:
    """One object from Git: the mapping, its file and the 1-based line where it starts.

    ``line`` is the first line of the document, or of the item for objects in a ``List``;
    0 when unknown (a rendered object names only the file it came from). ``namespace``
    is the namespace of its namespaced objects that name none, when its source sets one
    (a Helm release's), else None (the default namespace applies).
    """

    obj: dict[str, Any]
    path: str
    line: int
    namespace: str | None = None

    @property
    def where(self) -> str:
        """``path:line`` (``path`` when the line is unknown), the subject of messages."""
        return f"{self.path}:{self.line}" if self.line else self.path


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


def _load_yaml(path: str, text: str) -> Iterator[Manifest]:
    for obj, line, locate in yaml_documents(path, text):
        yield from _objects(obj, path, line, locate)


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
    line = json_value_line(text)
    if line is None:
        return iter([])  # an empty file, as an empty YAML file, holds no object
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
    item_lines = json_item_lines(text) if _is_list(obj) else None

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


# --- documents to objects ------------------------------------------------------------------


def _is_list(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("kind"), str)
        and obj["kind"].endswith("List")
        and "items" in obj
    )


def _objects(obj: Any, path: str, line: int, locate: Locate) -> Iterator[Manifest]:
    """The validated objects of one document: itself, or the items of a ``List``."""
    if not isinstance(obj, dict):
        raise ManifestError(f"{path}:{line}: a manifest must be a mapping, not {type_name(obj)}")
    if not _is_list(obj):
        validate(obj, path, locate)
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
        validate(item, path, locate_item)
        manifests.append(Manifest(item, path, item_line))
    return iter(manifests)
