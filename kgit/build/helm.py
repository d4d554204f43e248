"""Rendering a Helm release with ``helm template``.

The release's namespace (else the default namespace) is passed with ``--namespace`` and
given to its objects that name none; ``--kube-version`` and ``--api-versions`` come from
the live cluster's discovery, so a chart's ``Capabilities`` checks hold. An ``oci://``
chart is pulled first, and its digest keys the render cache.

Hooks (objects annotated ``helm.sh/hook``) have no release lifecycle to run in under kgit:
by default they are left out and the plan says which; with ``hooks: apply`` on the
release, install and upgrade hooks are applied as ordinary objects (the plan says that
too). Test hooks are always left out.

Sensitive values (every value of a ``sensitiveValuesFiles`` file, and every value under
a ``sensitiveKeys`` key) must never show in a plan: Secrets are masked anyway; a
ConfigMap ``data`` or ``binaryData`` key holding one is masked like Secret data; a
sensitive value anywhere else is refused, since kgit could not keep it out of the plan.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from kgit.build.result import Rendered
from kgit.build.tools import run
from kgit.errors import RenderError
from kgit.manifests.keys import group_of
from kgit.manifests.load import Manifest, load_manifests
from kgit.manifests.normalize import SensitiveRule, is_secret
from kgit.source.git import SourceFile

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from kgit.build.settings import Release
    from kgit.build.tools import Tool

HOOK_ANNOTATION = "helm.sh/hook"
_TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
_SOURCE_LINE = re.compile(r"^# Source: (.+)$", re.MULTILINE)
_DIGEST_LINE = re.compile(rb"Digest: (sha256:[0-9a-f]+)")
# Shorter values would match by chance all over a chart's output.
MIN_SENSITIVE_LENGTH = 4


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the cluster serves, as ``helm template`` takes it."""

    kube_version: str = ""
    api_versions: tuple[str, ...] = ()


def pull_chart(release: Release, tool: Tool, into: Path) -> tuple[Path, str]:
    """Pull an ``oci://`` chart into ``into``: the archive and its digest."""
    args = [*tool.command, "pull", release.chart, "--version", release.version]
    args += ["--destination", str(into), *(["--plain-http"] if release.plain_http else [])]
    out = run(args, subject=f"release {release.name}: {release.chart}")
    archives = sorted(into.glob("*.tgz"))
    found = _DIGEST_LINE.search(out)
    if not archives:
        raise RenderError(f"release {release.name}: helm pull of {release.chart} gave no chart")
    return archives[0], found.group(1).decode() if found else ""


def render_release(
    release: Release,
    chart: Path,
    root: Path,
    tool: Tool,
    capabilities: Capabilities,
    namespace: str,
) -> Rendered:
    """``helm template`` of ``release`` from ``chart`` (a directory or a pulled archive),
    its values files read from the exported tree at ``root``.

    Raises :class:`RenderError` quoting helm's message, or when a sensitive value would
    show in the plan.
    """
    subject = f"{release.chart} (helm release {release.name})"
    values_file = root.parent / f"values-{release.name}.yaml"
    values_file.write_text(yaml.safe_dump(release.values), encoding="utf-8")
    values_file.chmod(0o600)
    args = [*tool.command, "template", release.name, str(chart), "--namespace", namespace]
    if capabilities.kube_version:
        args += ["--kube-version", capabilities.kube_version]
    if capabilities.api_versions:
        args += ["--api-versions", ",".join(capabilities.api_versions)]
    if release.include_crds:
        args.append("--include-crds")
    for path in (*release.values_files, *release.sensitive_values_files):
        args += ["--values", str(root / path)]
    args += ["--values", str(values_file)]
    out = run(args, subject=subject, cwd=root)
    manifests, hooks = _split_hooks(_documents(out.decode("utf-8"), release, namespace), release)
    sensitive = _sensitive_values(release, root)
    rules = tuple(_mask_rules(m, sensitive, subject) for m in manifests)
    return Rendered(
        tuple(manifests),
        warnings=_hook_warnings(subject, hooks, release),
        sensitive=tuple(rule for group in rules for rule in group),
    )


def _documents(text: str, release: Release, namespace: str) -> list[Manifest]:
    """Helm's output split by the template each document came from."""
    manifests: list[Manifest] = []
    for chunk in re.split(r"^---\s*$", text, flags=re.MULTILINE):
        found = _SOURCE_LINE.search(chunk)
        template = found.group(1).strip() if found else "(helm template output)"
        path = _source_path(release, template)
        for manifest in load_manifests([SourceFile(path, chunk.encode())]):
            manifests.append(dataclasses.replace(manifest, line=0, namespace=namespace))
    return manifests


def _source_path(release: Release, template: str) -> str:
    """A template's path as the plan names it: in the repository, or in the OCI chart."""
    inside = template.split("/", 1)[1] if "/" in template else template
    if release.is_oci:
        return f"{release.chart}:{release.version}/{inside}"
    return posixpath.join(release.chart, inside)


def _split_hooks(
    manifests: list[Manifest], release: Release
) -> tuple[list[Manifest], list[tuple[Manifest, str]]]:
    """The objects to apply, and every hook (with its events) for the plan to name."""
    kept: list[Manifest] = []
    hooks: list[tuple[Manifest, str]] = []
    for manifest in manifests:
        annotations = (manifest.obj.get("metadata") or {}).get("annotations") or {}
        events = str(annotations.get(HOOK_ANNOTATION) or "")
        if not events:
            kept.append(manifest)
            continue
        names = {e.strip() for e in events.split(",")}
        if release.hooks == "apply" and not names & _TEST_HOOKS:
            kept.append(manifest)
        hooks.append((manifest, events))
    return kept, hooks


def _hook_warnings(
    subject: str, hooks: list[tuple[Manifest, str]], release: Release
) -> tuple[str, ...]:
    if not hooks:
        return ()

    def named(manifest: Manifest, events: str) -> str:
        meta = manifest.obj.get("metadata") or {}
        where = meta.get("namespace") or manifest.namespace
        return f"{manifest.obj['kind']}/{where}/{meta.get('name')} ({events})"

    tests = [named(m, e) for m, e in hooks if {x.strip() for x in e.split(",")} & _TEST_HOOKS]
    others = [named(m, e) for m, e in hooks if named(m, e) not in tests]
    warnings = []
    if others and release.hooks == "apply":
        warnings.append(
            f"{subject}: hooks applied as ordinary objects (no hook ordering or deletion "
            f"policy): {', '.join(others)}"
        )
    elif others:
        warnings.append(
            f"{subject}: Helm hooks not applied: {', '.join(others)} "
            "(set hooks: apply on the release to apply install and upgrade hooks as "
            "ordinary objects)"
        )
    if tests:
        warnings.append(f"{subject}: Helm test hooks not applied: {', '.join(tests)}")
    return tuple(warnings)


def _sensitive_values(release: Release, root: Path) -> dict[str, str]:
    """Sensitive value -> where it was declared, from files and marked keys."""
    found: dict[str, str] = {}
    sources: list[tuple[str, Any]] = [
        (path, _load_values(root / path, path)) for path in release.values_files
    ]
    for path in release.sensitive_values_files:
        values = _load_values(root / path, path)
        sources.append((path, values))
        for value in _leaves(values):
            found.setdefault(value, f"{path} (a sensitive values file)")
    sources.append(("kgit.yaml values", release.values))
    for key in release.sensitive_keys:
        for origin, values in sources:
            for value in _leaves(_at(values, key.split("."))):
                found.setdefault(value, f"{key} of {origin} (a sensitive key)")
    return {v: origin for v, origin in found.items() if len(v) >= MIN_SENSITIVE_LENGTH}


def _load_values(path: Path, name: str) -> Any:
    try:
        return yaml.safe_load(path.read_bytes())
    except (OSError, yaml.YAMLError) as err:
        raise RenderError(f"{name}: cannot read the values file: {err}") from err


def _at(values: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(values, dict) or key not in values:
            return None
        values = values[key]
    return values


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _mask_rules(
    manifest: Manifest, sensitive: Mapping[str, str], subject: str
) -> tuple[SensitiveRule, ...]:
    """Rules masking the ConfigMap values that hold a sensitive value; refuse any other
    place one shows."""
    obj = manifest.obj
    if not sensitive or is_secret(obj):
        return ()
    meta = obj.get("metadata") or {}
    keys: list[str] = []
    for path, text in _strings(obj, ()):
        origin = next((o for value, o in sensitive.items() if value in text), None)
        if origin is None:
            continue
        if len(path) == 2 and path[0] in ("data", "binaryData"):
            keys.append(path[1])
            continue
        raise RenderError(
            f"{subject}: {obj['kind']}/{meta.get('name')}: {'.'.join(path)} holds a value of "
            f"{origin}, which kgit can keep out of plans only in a Secret or in a "
            "ConfigMap's data: move it to a Secret"
        )
    if not keys:
        return ()
    return (
        SensitiveRule(
            keys=tuple(keys),
            group=group_of(str(obj.get("apiVersion") or "")),
            kind=str(obj["kind"]),
            name=str(meta.get("name")),
            reason="holds a sensitive Helm value",
        ),
    )


def _strings(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield path, str(value)
