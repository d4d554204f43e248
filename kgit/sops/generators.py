"""The files a Kustomize ``secretGenerator`` reads: the only files kgit decrypts that are
not manifests (as Flux does), since what they generate is a Secret, masked in plans."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

import yaml

from kgit.build.layout import KUSTOMIZATION_FILES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kgit.source.git import SourceFile


def secret_generator_files(files: Iterable[SourceFile]) -> frozenset[str]:
    """The repository paths the ``secretGenerator`` entries of the kustomizations among
    ``files`` read (``envs``, ``env``, ``files`` as ``key=path`` or ``path``), but none
    a ``configMapGenerator`` reads too: its ConfigMap would show the plaintext.

    A kustomization that does not parse is skipped: Kustomize reports it when it runs.
    """
    files = list(files)
    return _generator_files(files, "secretGenerator") - _generator_files(
        files, "configMapGenerator"
    )


def _generator_files(files: list[SourceFile], field: str) -> frozenset[str]:
    found: set[str] = set()
    for file in files:
        if posixpath.basename(file.path) not in KUSTOMIZATION_FILES:
            continue
        try:
            doc = yaml.safe_load(file.data)
        except yaml.YAMLError:
            continue
        generators = doc.get(field) if isinstance(doc, dict) else None
        base = posixpath.dirname(file.path)
        for generator in generators if isinstance(generators, list) else ():
            for name in _read_by(generator):
                found.add(posixpath.normpath(posixpath.join(base, name)))
    return frozenset(found)


def _read_by(generator: Any) -> list[str]:
    if not isinstance(generator, dict):
        return []
    names = [*_strings(generator.get("envs")), *_strings([generator.get("env")])]
    names += [entry.rpartition("=")[2] for entry in _strings(generator.get("files"))]
    return names


def _strings(values: Any) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
