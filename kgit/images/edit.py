"""Edit YAML text in place: splice new scalars and annotation lines at composed positions.

Nothing is re-serialised. A changed image is the old scalar's span replaced by the new
text in the same quoting style, so comments, key order, quoting, indentation and every
other byte of the file stay as they were; a byte-level diff shows only the lines whose
values changed. Annotation edits replace a value in place, or add or remove whole lines
inside a block-style ``annotations`` mapping (creating it under ``metadata`` when needed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kgit.errors import ManifestError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from kgit.images.workloads import Workload

_INDENT_STEP = 2


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with every edit applied; edits must not overlap.

    Insertions at the same place keep the order in which they were given.
    """
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[0]), reverse=True)
    out = text
    limit = len(text)
    for _, edit in ordered:
        if edit.end > limit:
            raise ValueError(f"overlapping edits at {edit.start}-{edit.end}")
        out = out[: edit.start] + edit.replacement + out[edit.end :]
        limit = edit.start
    return out


def replace_scalar(node: ScalarNode, value: str, where: str) -> Edit:
    """Put ``value`` where ``node`` is, written in the node's own quoting style.

    Raises :class:`ManifestError` (naming ``where``) for block scalars (``|``, ``>``),
    which kgit does not rewrite.
    """
    if node.style in ("|", ">"):
        raise ManifestError(f"{where}: a block scalar ({node.style}) is not rewritten")
    return Edit(node.start_mark.index, node.end_mark.index, scalar_text(value, node.style))


def scalar_text(value: str, style: str | None = None) -> str:
    """``value`` as a YAML string scalar: in ``style`` when given, else plain if that
    reads back as the same string, else double-quoted.
    """
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not _plain_safe(value):
        return json.dumps(value, ensure_ascii=False)
    return value


def _plain_safe(value: str) -> bool:
    if not value or value != value.strip() or "#" in value or "\n" in value:
        return False
    try:
        loaded: object = yaml.safe_load(f"k: {value}\n")
    except yaml.YAMLError:
        return False
    return loaded == {"k": value}


def edit_annotations(
    text: str, workload: Workload, put: Mapping[str, str], remove: Iterable[str]
) -> list[Edit]:
    """The edits that set ``put`` and delete ``remove`` in the workload's annotations.

    Existing values are replaced in place (keeping their quoting); new keys are added
    as lines after the last annotation; removed keys lose their lines, and so does the
    ``annotations:`` key when nothing is left. Raises :class:`ManifestError` (naming the
    file and line) when the annotations are written in flow style and lines must move.
    """
    node = workload.annotations_node
    entries: list[tuple[ScalarNode, Node]] = []
    if isinstance(node, MappingNode):
        entries = [(k, v) for k, v in node.value if isinstance(k, ScalarNode)]
    existing = {str(k.value): (k, v) for k, v in entries}
    removed = {key for key in remove if key in existing and key not in put}
    added = {key: value for key, value in put.items() if key not in existing}
    edits: list[Edit] = []
    for key, value in put.items():
        if key in existing:
            value_node = existing[key][1]
            if not isinstance(value_node, ScalarNode) or value_node.value != value:
                edits.append(_replace_value(value_node, value, workload.where))
    if not removed and not added:
        return edits
    where = f"{workload.path}:{(node or workload.metadata).start_mark.line + 1}"
    if isinstance(node, MappingNode) and node.flow_style and entries:
        raise ManifestError(f"{where}: annotations in flow style ({{...}}) are not edited")
    if entries and removed == set(existing) and not added:
        # Nothing remains: drop the "annotations:" key with its entries.
        assert workload.annotations_key is not None
        return [*edits, _remove_lines(text, workload.annotations_key, node)]
    edits.extend(_remove_lines(text, *existing[key]) for key in sorted(removed))
    if added:
        edits.append(_insert(text, workload, entries, added))
    return edits


def _replace_value(node: Node, value: str, where: str) -> Edit:
    if isinstance(node, ScalarNode):
        if node.tag.endswith(":null") and not node.value:
            # "key:" with no value: the empty span sits right after the colon.
            return Edit(node.start_mark.index, node.end_mark.index, " " + scalar_text(value))
        return replace_scalar(node, value, where)
    raise ManifestError(f"{where}: annotation value is not a string")


def _insert(
    text: str, workload: Workload, entries: list[tuple[ScalarNode, Node]], added: Mapping[str, str]
) -> Edit:
    metadata = workload.metadata
    if metadata.flow_style:
        raise ManifestError(f"{workload.where}: metadata in flow style ({{...}}) is not edited")
    first_key = metadata.value[0][0]
    base = int(first_key.start_mark.column)
    if entries:
        indent = int(entries[0][0].start_mark.column)
        at = _line_after(text, entries[-1][1])
        lines = [f"{' ' * indent}{scalar_text(k)}: {scalar_text(v)}\n" for k, v in added.items()]
        return _at(text, at, "".join(lines))
    step = base - int(workload.metadata_key.start_mark.column) or _INDENT_STEP
    body = "".join(
        f"{' ' * (base + step)}{scalar_text(k)}: {scalar_text(v)}\n" for k, v in added.items()
    )
    key = workload.annotations_key
    if key is not None:
        # "annotations: {}" or "annotations:" with no value: replace the key's whole line.
        start = text.rfind("\n", 0, key.start_mark.index) + 1
        end = _line_after(text, workload.annotations_node or key)
        return Edit(start, end, f"{' ' * base}annotations:\n{body}")
    at = _line_after(text, metadata.value[-1][1])
    return _at(text, at, f"{' ' * base}annotations:\n{body}")


def _at(text: str, at: int, lines: str) -> Edit:
    if at == len(text) and text and not text.endswith("\n"):
        lines = "\n" + lines
    return Edit(at, at, lines)


def _remove_lines(text: str, key: ScalarNode, value: Node | None) -> Edit:
    start = text.rfind("\n", 0, key.start_mark.index) + 1
    return Edit(start, _line_after(text, value or key), "")


def _line_after(text: str, node: Node) -> int:
    """The index of the line after the last content of ``node`` (its last scalar)."""
    mark = _content_end(node).end_mark
    if mark.column == 0:
        return int(mark.index)
    newline = text.find("\n", mark.index)
    return len(text) if newline < 0 else newline + 1


def _content_end(node: Node) -> Node:
    # A block collection ends where the next token starts, after any comments or blank
    # lines that follow it; its last scalar ends where its content really ends.
    if isinstance(node, MappingNode) and node.value and not node.flow_style:
        return _content_end(node.value[-1][1])
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        return _content_end(node.value[-1])
    return node
