"""A source read at one commit: what each path holds, the files that needs, ``kgit.yaml``.

The stages: the commit's tree is listed once (or the work tree, with ``dirty``);
``kgit.yaml`` and ``.kgitignore`` are read from it, so a plan and its settings always
agree; the paths asked for (``kgit.yaml``'s ``paths`` when none are) are classified
(:func:`kgit.build.layout.classify`); then the files are read: the plain manifests, and
everything each rendering (Kustomize directory, Helm release, generators) reads. A
decrypt stage may change those files before :func:`kgit.build.stage.build_manifests`
loads and renders them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kgit.build.closure import Inputs, inputs_of
from kgit.build.ignore import DEFAULT_EXCLUDES, IGNORE_FILE, compile_excludes
from kgit.build.layout import Layout, Unit, classify
from kgit.config import CONFIG_FILE, Config, load_config
from kgit.errors import ConfigError, SourceError
from kgit.manifests.load import MAX_FILE_BYTES
from kgit.redact import redact_url
from kgit.source.git import (
    SourceFile,
    SourceTree,
    is_dirty,
    open_tree,
    remote_url,
    repository_root,
    resolve_commit,
)

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where to read the desired objects: a local repository, a ref and paths inside it."""

    repo: Path
    ref: str = "HEAD"
    paths: tuple[str, ...] = ()
    dirty: bool = False


@dataclass(frozen=True, slots=True)
class Rendering:
    """A unit to render, what it reads, and the Git ids of what it reads (``ids`` None
    in the work tree, whose files have no id: such a rendering is never cached)."""

    unit: Unit
    inputs: Inputs
    ids: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """A source read at one commit: its plain manifest files, its renderings and the
    files they read (``inputs``), its kgit.yaml, and the repository it was read from
    (``repo``).

    ``decrypted`` names the files whose bytes a decrypt stage replaced: a rendering that
    reads one is never cached.
    """

    url: str
    commit: str
    ref: str
    paths: tuple[str, ...]
    files: tuple[SourceFile, ...]
    config: Config
    dirty: bool
    repo: Path
    layout: Layout = field(default_factory=Layout)
    renderings: tuple[Rendering, ...] = ()
    inputs: tuple[SourceFile, ...] = ()
    decrypted: frozenset[str] = frozenset()


def default_stack_name(repo: Path) -> str:
    """The repository directory's name (of its root, from a subdirectory) as a valid
    stack name (a DNS label)."""
    root = repository_root(repo)
    name = re.sub(r"[^a-z0-9-]+", "-", root.resolve().name.lower()).strip("-")
    return name[:63].strip("-") or "default"


def read_head_config(repo: Path) -> Config | None:
    """kgit.yaml at the checkout's HEAD; None when ``repo`` is no Git repository.

    For the verbs that name a stack but read no manifests (history, state, unlock).
    Raises :class:`ConfigError` for an invalid kgit.yaml.
    """
    root = repository_root(repo)
    try:
        tree = open_tree(root, resolve_commit(root, "HEAD"))
    except SourceError:
        return None
    return load_config(_text(tree, _everything(tree), CONFIG_FILE), CONFIG_FILE)


def read_source(spec: SourceSpec, *, commit: str | None = None) -> Source:
    """The source at ``commit`` (default: the ref's), or the work tree if dirty.

    ``kgit.yaml`` at the repository root is read from the same tree; its ``paths``
    apply when none are given. Raises :class:`SourceError` (a path missing, a file too
    large), :class:`ConfigError` and :class:`RenderError` (a remote base not allowed).
    """
    repo = spec.repo
    sha = commit or resolve_commit(repo, spec.ref)
    tree = open_tree(repo, None if spec.dirty else sha)
    everything = _everything(tree)
    config = load_config(_text(tree, everything, CONFIG_FILE), CONFIG_FILE)
    paths = spec.paths or config.paths or (".",)
    tree.find(paths)  # refuses a missing path, or a named file that is no manifest
    ignore = _text(tree, everything, IGNORE_FILE) or ""
    excludes = compile_excludes(DEFAULT_EXCLUDES, config.exclude, ignore.splitlines())
    all_files = sorted(everything)
    layout = classify([_normal(p) for p in paths], all_files, excludes, config.releases)

    def read_one(path: str) -> bytes:
        return tree.read({path: everything[path]}, max_bytes=MAX_FILE_BYTES)[0].data

    renderings = []
    for unit in layout.units:
        inputs = inputs_of(unit, all_files, read_one, remote_bases=config.tools.remote_bases)
        _check_inputs(unit, inputs, everything, tree)
        renderings.append(Rendering(unit, inputs, _ids(tree, inputs)))
    wanted = set(layout.manifests) - {CONFIG_FILE}
    needed = {f for r in renderings for f in _files_of(r.inputs, all_files)}
    read = tree.read({p: everything[p] for p in sorted(wanted | needed)}, max_bytes=MAX_FILE_BYTES)
    return Source(
        url=redact_url(remote_url(repo)),
        commit=sha,
        ref=spec.ref,
        paths=tuple(paths),
        files=tuple(f for f in read if f.path in wanted),
        config=config,
        dirty=spec.dirty and is_dirty(repo),
        repo=repo,
        layout=layout,
        renderings=tuple(renderings),
        inputs=tuple(f for f in read if f.path in needed),
    )


def _everything(tree: SourceTree) -> dict[str, str]:
    """Every file of the tree (any name): path -> what to read."""
    return tree.find(["."], keep=lambda _: True)


def _text(tree: SourceTree, everything: dict[str, str], path: str) -> str | None:
    """A small text file at the repository root, if the tree has it."""
    if path not in everything:
        return None
    data = tree.read({path: everything[path]}, max_bytes=MAX_FILE_BYTES)[0].data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text") from err


def _normal(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    return "" if normal == "." else normal


def _check_inputs(unit: Unit, inputs: Inputs, everything: dict[str, str], tree: SourceTree) -> None:
    """A release's chart directory and values files must be in the tree."""
    for path in inputs.files:
        if path not in everything:
            raise ConfigError(
                f"{CONFIG_FILE}: release {unit.release.name if unit.release else '?'}: "
                f"values file {path} is not in {tree.where}"
            )
    for directory in inputs.directories:
        if directory and not any(p.startswith(directory + "/") for p in everything):
            raise ConfigError(f"{CONFIG_FILE}: {unit.path} is not a directory in {tree.where}")


def _files_of(inputs: Inputs, all_files: list[str]) -> list[str]:
    found = list(inputs.files)
    for directory in inputs.directories:
        prefix = directory + "/" if directory else ""
        found += [f for f in all_files if f.startswith(prefix)]
    return found


def _ids(tree: SourceTree, inputs: Inputs) -> tuple[tuple[str, str], ...] | None:
    """The Git ids of what a rendering reads; None when the tree gives none."""
    ids = []
    for path in (*inputs.directories, *inputs.files):
        object_id = tree.object_id(path)
        if object_id is None:
            return None
        ids.append((path, object_id))
    return tuple(ids)
