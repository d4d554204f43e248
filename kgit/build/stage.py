"""The build stage: a source's plain manifests loaded and its renderings run.

Renderings read a private copy (0700, removed afterwards) of the files they need, made
from the source's files (so a decrypt stage before this one is honoured), never the
work tree (except with ``--dirty``, whose files are the work tree's). A rendering whose
inputs are all known by their Git ids is cached (:mod:`kgit.build.cache`); one that
reads a decrypted file, the work tree or a remote base, and generators, are not.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgit.build.cache import cache_key, load_entry, store_entry
from kgit.build.generators import refuse_generators, run_generators
from kgit.build.helm import Capabilities, pull_chart, render_release
from kgit.build.kustomize import render_kustomization
from kgit.build.layout import UnitKind
from kgit.build.result import Rendered, from_entry, to_entry
from kgit.build.tools import Tool, find_tool
from kgit.manifests.load import load_manifests

if TYPE_CHECKING:
    from kgit.manifests.load import Manifest
    from kgit.manifests.normalize import SensitiveRule
    from kgit.source.read import Rendering, Source


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What renderings depend on beyond the source: the default namespace (a release's
    when it names none), whether generators may run, the cluster's capabilities (for
    Helm) and the cache directory (None: no cache)."""

    default_namespace: str = "default"
    manifest_generation: bool = False
    capabilities: Capabilities = field(default_factory=Capabilities)
    cache: Path | None = None


@dataclass(frozen=True, slots=True)
class Built:
    """The desired objects of a source, in path order, and what the plan must say of
    how they were made: the tools with their versions, warnings (Helm hooks left out)
    and the values renderings made sensitive."""

    manifests: tuple[Manifest, ...]
    tools: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    sensitive: tuple[SensitiveRule, ...] = ()


def build_manifests(source: Source, options: BuildOptions) -> Built:
    """Load the plain manifests of ``source`` and run its renderings.

    Raises :class:`ManifestError` for a bad manifest (plain or rendered) and
    :class:`RenderError` for a rendering that fails, a missing tool, or generators
    without ``options.manifest_generation``.
    """
    for rendering in source.renderings:
        unit = rendering.unit
        if unit.kind is UnitKind.GENERATORS and not options.manifest_generation:
            raise refuse_generators(unit.path, unit.config)
    manifests: list[Manifest] = list(load_manifests(source.files))
    tools: dict[str, None] = {}
    warnings: list[str] = []
    sensitive: list[SensitiveRule] = []
    with _Export(source) as export:
        for rendering in source.renderings:
            tool = _tool_of(rendering, source)
            if tool is not None:
                tools[tool.version] = None
            rendered = _render(rendering, tool, export, source, options)
            manifests += rendered.manifests
            warnings += rendered.warnings
            sensitive += rendered.sensitive
    return Built(tuple(manifests), tuple(tools), tuple(warnings), tuple(sensitive))


def _tool_of(rendering: Rendering, source: Source) -> Tool | None:
    unit = rendering.unit
    if unit.kind is UnitKind.GENERATORS:
        return None
    subject = str(unit.read)
    return find_tool(unit.kind.value, source.config.tools, subject)


def _render(
    rendering: Rendering, tool: Tool | None, export: _Export, source: Source, options: BuildOptions
) -> Rendered:
    unit = rendering.unit
    if unit.kind is UnitKind.GENERATORS:
        return run_generators(unit.path, unit.config, export.root())
    assert tool is not None
    extra: dict[str, Any] = {}
    chart: Path | None = None
    if unit.kind is UnitKind.HELM:
        release = unit.release
        assert release is not None
        namespace = release.namespace or options.default_namespace
        if release.is_oci:
            chart, digest = pull_chart(release, tool, export.scratch("chart"))
            extra["digest"] = digest
        extra.update(
            release=dataclasses.asdict(release),
            namespace=namespace,
            capabilities=dataclasses.asdict(options.capabilities),
        )
    key = _key(rendering, tool, source, options, extra)
    if key is not None and options.cache is not None:
        cached = from_entry(load_entry(options.cache, key))
        if cached is not None:
            return cached
    root = export.root()
    if unit.kind is UnitKind.KUSTOMIZE:
        rendered = render_kustomization(unit.path, root, tool)
    else:
        assert unit.release is not None
        rendered = render_release(
            unit.release,
            chart or root / unit.path,
            root,
            tool,
            options.capabilities,
            extra["namespace"],
        )
    if key is not None and options.cache is not None:
        store_entry(options.cache, key, to_entry(rendered))
    return rendered


def _key(
    rendering: Rendering, tool: Tool, source: Source, options: BuildOptions, extra: dict[str, Any]
) -> str | None:
    """The cache key of a rendering, or None when it must not be cached."""
    inputs = rendering.inputs
    if rendering.ids is None or (inputs.remote and "digest" not in extra):
        return None
    if extra.get("digest") == "":
        return None  # an OCI chart whose digest helm did not print
    read = {p for p, _ in rendering.ids}
    if any(_reads(path, read) for path in source.decrypted):
        return None
    return cache_key(
        {
            "kind": rendering.unit.kind.value,
            "path": rendering.unit.path,
            "tool": tool.version,
            "ids": [list(pair) for pair in rendering.ids],
            **extra,
        }
    )


def _reads(path: str, read: set[str]) -> bool:
    """True when ``path`` is one of ``read`` or inside one of its directories."""
    return any(not d or path == d or path.startswith(d + "/") for d in read)


class _Export:
    """A private temporary directory holding the files renderings read, written once
    when first needed, removed at the end."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._base: Path | None = None
        self._root: Path | None = None

    def __enter__(self) -> _Export:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)

    def _ensure_base(self) -> Path:
        if self._base is None:
            # mkdtemp makes the directory 0700: only this user reads the copy.
            self._base = Path(tempfile.mkdtemp(prefix="kgit-render-"))
        return self._base

    def scratch(self, name: str) -> Path:
        """A fresh private directory beside the copy (a pulled chart)."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._ensure_base()))
        return path

    def root(self) -> Path:
        """The copy of the source's files, written on first use."""
        if self._root is None:
            self._root = self._ensure_base() / "tree"
            for file in self._source.inputs:
                target = self._root / file.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(file.data)
        return self._root
