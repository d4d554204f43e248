"""Find workloads, their containers and their annotations in YAML text, with positions.

Documents are composed (not constructed) so every scalar keeps where it starts and ends
in the text; :mod:`kgit.images.edit` splices new values in at exactly those places and
nothing else in the file moves. JSON files are YAML too and work the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kgit.errors import ManifestError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kgit.source.git import SourceFile

# Where each kind keeps its pod template's spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = (("initContainers", True), ("containers", False))


@dataclass(frozen=True, slots=True)
class Container:
    """One container of a pod template: its name, image text and the image scalar's node."""

    name: str
    init: bool
    image: str
    node: ScalarNode = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        """The 1-based line of the image."""
        return int(self.node.start_mark.line) + 1


@dataclass(frozen=True, slots=True)
class Workload:
    """A workload document in a file, with the nodes its edits need.

    ``namespace`` is None when the manifest names none. ``metadata`` is the metadata
    mapping node; ``annotations`` the annotations value node, if the key is present.
    ``encrypted`` marks a workload in a SOPS-encrypted file, which is never rewritten.
    """

    path: str
    line: int
    kind: str
    name: str
    namespace: str | None
    annotations: dict[str, str]
    containers: tuple[Container, ...]
    metadata_key: ScalarNode = field(compare=False, repr=False)
    metadata: MappingNode = field(compare=False, repr=False)
    annotations_key: ScalarNode | None = field(compare=False, repr=False)
    annotations_node: Node | None = field(compare=False, repr=False)
    encrypted: bool = False

    @property
    def where(self) -> str:
        """``path:line`` of the document."""
        return f"{self.path}:{self.line}"

    def subject(self, default_namespace: str) -> str:
        """``Kind/namespace/name``, the workload's name in messages."""
        return f"{self.kind}/{self.namespace or default_namespace}/{self.name}"


def decode(file: SourceFile) -> str:
    """The file's text; raises :class:`ManifestError` when it is not UTF-8."""
    try:
        return file.data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ManifestError(f"{file.path}: not UTF-8 text") from err


def find_workloads(path: str, text: str) -> list[Workload]:
    """Every workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) in the text.

    Items of ``List`` documents count. Raises :class:`ManifestError` naming the file
    and line when the YAML cannot be read.
    """
    try:
        # The pure-Python loader: its marks index characters of ``text``, which the
        # splicing relies on.
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ManifestError(f"{path}:{line}: invalid YAML: {err.problem or err}") from err
    except (yaml.YAMLError, RecursionError) as err:
        raise ManifestError(f"{path}: invalid YAML: {err}") from err
    found: list[Workload] = []
    for root in roots:
        for node in _objects(root):
            workload = _workload(path, node)
            if workload is not None:
                found.append(workload)
    return found


def _objects(root: Node | None) -> Iterator[MappingNode]:
    if not isinstance(root, MappingNode):
        return
    if _text(_get(root, "kind")) == "List":
        items = _get(root, "items")
        if isinstance(items, SequenceNode):
            yield from (item for item in items.value if isinstance(item, MappingNode))
        return
    yield root


def _workload(path: str, node: MappingNode) -> Workload | None:
    kind = _text(_get(node, "kind"))
    if kind not in POD_SPEC_PATHS:
        return None
    metadata_key, metadata = _entry(node, "metadata")
    name = _text(_get(metadata, "name"))
    if metadata_key is None or not isinstance(metadata, MappingNode) or not name:
        return None
    annotations_key, annotations_node = _entry(metadata, "annotations")
    annotations: dict[str, str] = {}
    if isinstance(annotations_node, MappingNode):
        for key, value in annotations_node.value:
            if isinstance(key, ScalarNode) and isinstance(value, ScalarNode):
                annotations[str(key.value)] = str(value.value)
    spec: Node | None = node
    for step in POD_SPEC_PATHS[kind]:
        spec = _get(spec, step)
    return Workload(
        path=path,
        line=int(node.start_mark.line) + 1,
        kind=kind,
        name=name,
        namespace=_text(_get(metadata, "namespace")),
        annotations=annotations,
        containers=tuple(_containers(spec)),
        metadata_key=metadata_key,
        metadata=metadata,
        annotations_key=annotations_key,
        annotations_node=annotations_node,
    )


def _containers(spec: Node | None) -> Iterator[Container]:
    for key, init in _CONTAINER_LISTS:
        items = _get(spec, key)
        if not isinstance(items, SequenceNode):
            continue
        for item in items.value:
            name = _text(_get(item, "name"))
            image = _get(item, "image")
            if name and isinstance(image, ScalarNode) and image.value:
                yield Container(name, init, str(image.value), image)


def _entry(node: Node | None, key: str) -> tuple[ScalarNode | None, Node | None]:
    if not isinstance(node, MappingNode):
        return None, None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None, None


def _get(node: Node | None, key: str) -> Node | None:
    return _entry(node, key)[1]


def _text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag.endswith(":str"):
        return str(node.value)
    return None
