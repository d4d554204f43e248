"""What a rendering reads from the repository: the directories and files to export, and
the Git ids that key its cache. Pure, over the tree's file names and a reader.

A Kustomize directory reads itself and, through ``resources``, ``bases``, ``components``,
``generators``, ``transformers`` and ``validators``, other directories (their own
kustomizations, recursively) and files; Kustomize refuses files outside a kustomization's
directory itself, so nothing else is needed. An entry that is not in the repository is
fetched by Kustomize as a remote base: refused unless ``kgit.yaml`` allows remote bases
(and a rendering that reads one is never cached: the remote may change).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from kgit.build.layout import KUSTOMIZATION_FILES, UnitKind
from kgit.errors import RenderError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kgit.build.layout import Unit

_REFERENCE_FIELDS = (
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
)


@dataclass(frozen=True, slots=True)
class Inputs:
    """The repository paths a rendering reads: whole directories and single files.

    ``remote`` is True when it also reads something outside the repository (a remote
    base, an OCI chart): then only what the repository holds is keyed.
    """

    directories: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    remote: bool = False


def inputs_of(
    unit: Unit,
    files: Sequence[str],
    read: Callable[[str], bytes],
    *,
    remote_bases: bool,
) -> Inputs:
    """What ``unit`` reads, among the tree's ``files`` (sorted repository paths).

    ``read`` gives a file's bytes (kustomization files are parsed to follow their
    references). Raises :class:`RenderError` for a remote base when ``remote_bases`` is
    False, and for a reference leaving the repository.
    """
    if unit.kind is UnitKind.GENERATORS:
        return Inputs(directories=("",))
    if unit.kind is UnitKind.HELM:
        release = unit.release
        assert release is not None
        values = (*release.values_files, *release.sensitive_values_files)
        if release.is_oci:
            return Inputs(files=values, remote=True)
        return Inputs(directories=(unit.path,), files=values)
    return _kustomize_inputs(unit.path, files, read, remote_bases=remote_bases)


def _kustomize_inputs(
    top: str, files: Sequence[str], read: Callable[[str], bytes], *, remote_bases: bool
) -> Inputs:
    file_set = set(files)
    directories: list[str] = []
    extra: list[str] = []
    remote = False
    pending = [top]
    while pending:
        directory = pending.pop()
        if directory in directories:
            continue
        directories.append(directory)
        found = [n for n in KUSTOMIZATION_FILES if _join(directory, n) in file_set]
        if not found:
            continue  # Kustomize will say so
        name = _join(directory, found[0])
        for entry in _references(read(name)):
            target = _resolve(directory, entry)
            if target is not None and target in file_set:
                extra.append(target)
            elif target is not None and _is_directory(target, files):
                pending.append(target)
            elif not remote_bases:
                raise RenderError(
                    f"{name}: {entry!r} is not in the repository: Kustomize would fetch it "
                    "as a remote base, which kgit refuses (set kustomize.remoteBases: true "
                    "in kgit.yaml to allow remote bases and resources)"
                )
            else:
                remote = True
    inside = tuple(f for f in extra if not any(_within(f, d) for d in directories))
    return Inputs(tuple(sorted(directories)), tuple(sorted(set(inside))), remote)


def _references(data: bytes) -> list[str]:
    """The string entries of a kustomization's reference fields (none if it won't parse:
    Kustomize reports that itself)."""
    try:
        doc: Any = yaml.safe_load(data)
    except yaml.YAMLError:
        return []
    if not isinstance(doc, dict):
        return []
    entries: list[str] = []
    for field in _REFERENCE_FIELDS:
        value = doc.get(field)
        if isinstance(value, list):
            entries += [item for item in value if isinstance(item, str)]
    return entries


def _join(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory else name


def _resolve(directory: str, entry: str) -> str | None:
    """``entry`` relative to ``directory``, or None when it is a URL or leaves the
    repository (Kustomize then fetches or refuses it)."""
    if "://" in entry or entry.startswith(("git@", "/")):
        return None
    joined = posixpath.normpath(_join(directory, entry))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _is_directory(path: str, files: Sequence[str]) -> bool:
    prefix = path + "/" if path else ""
    return any(f.startswith(prefix) for f in files)


def _within(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")
