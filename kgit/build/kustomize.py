"""Rendering a Kustomize directory with ``kustomize build``.

The directory is built in a private copy of the commit (:mod:`kgit.build.stage`), with
``buildMetadata: [originAnnotations]`` added to its kustomization so that each object
names the file it came from; kgit removes that annotation again, and the object's
source in the plan is that file (``apps/base/deployment.yaml``), or the kustomization
whose generator made it.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import TYPE_CHECKING, Any

import yaml

from kgit.build.layout import KUSTOMIZATION_FILES
from kgit.build.result import Rendered
from kgit.build.tools import run
from kgit.errors import RenderError
from kgit.manifests.load import Manifest, load_manifests
from kgit.source.git import SourceFile

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.build.tools import Tool

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


def render_kustomization(directory: str, root: Path, tool: Tool) -> Rendered:
    """``kustomize build`` of ``directory`` in the exported tree at ``root``.

    Raises :class:`RenderError` naming the kustomization and quoting kustomize's message.
    """
    top = root / directory if directory else root
    name = next((n for n in KUSTOMIZATION_FILES if (top / n).is_file()), KUSTOMIZATION_FILES[0])
    subject = posixpath.join(directory, name) if directory else name
    _ask_for_origins(top / name, subject)
    out = run([*tool.command, "build", str(top)], subject=subject, cwd=root)
    built = load_manifests([SourceFile(f"{subject} (kustomize build output)", out)])
    return Rendered(tuple(_with_origin(m, directory, subject) for m in built))


def _ask_for_origins(path: Path, subject: str) -> None:
    """Add ``originAnnotations`` to the kustomization's ``buildMetadata``."""
    try:
        doc: Any = yaml.safe_load(path.read_bytes())
    except yaml.YAMLError as err:
        raise RenderError(f"{subject}: invalid YAML: {err}") from err
    if not isinstance(doc, dict):
        raise RenderError(f"{subject}: a kustomization must be a mapping")
    metadata = doc.get("buildMetadata") or []
    if "originAnnotations" not in metadata:
        doc["buildMetadata"] = [*metadata, "originAnnotations"]
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _with_origin(manifest: Manifest, directory: str, subject: str) -> Manifest:
    """The object without kustomize's origin annotation, named after the file it names."""
    meta = dict(manifest.obj.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    origin_text = annotations.pop(ORIGIN_ANNOTATION, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    path = subject
    try:
        origin = yaml.safe_load(origin_text) if isinstance(origin_text, str) else None
    except yaml.YAMLError:
        origin = None
    if isinstance(origin, dict):
        # Kustomize names it relative to the directory built; a remote origin ("repo")
        # keeps the kustomization as its source.
        relative = origin.get("path") or origin.get("configuredIn")
        if isinstance(relative, str) and "repo" not in origin:
            path = posixpath.normpath(posixpath.join(directory, relative))
    return dataclasses.replace(manifest, obj={**manifest.obj, "metadata": meta}, path=path, line=0)
