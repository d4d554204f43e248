"""The rendering settings of ``kgit.yaml``: Helm releases and the tools' options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OCI_PREFIX = "oci://"


@dataclass(frozen=True, slots=True)
class Release:
    """A Helm release ``kgit.yaml`` declares: its chart and how to render it.

    ``chart`` is a directory of the repository or an ``oci://`` reference (then
    ``version`` is required). ``namespace`` None means the default namespace. Values
    come from ``values_files`` and ``sensitive_values_files`` (repository paths, in that
    order) and ``values`` (inline, last). Every value of a sensitive file, and every value
    under a key of ``sensitive_keys`` (dotted paths), is kept out of plans. ``hooks`` is
    ``skip`` (hook objects are left out, and the plan says so) or ``apply`` (install and
    upgrade hooks are applied as ordinary objects; test hooks are always left out).
    """

    name: str
    chart: str
    version: str = ""
    namespace: str | None = None
    values_files: tuple[str, ...] = ()
    sensitive_values_files: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    sensitive_keys: tuple[str, ...] = ()
    include_crds: bool = True
    hooks: str = "skip"
    plain_http: bool = False

    @property
    def is_oci(self) -> bool:
        """True when the chart is pulled from an OCI registry."""
        return self.chart.startswith(OCI_PREFIX)


@dataclass(frozen=True, slots=True)
class ToolSettings:
    """How kgit finds and runs the renderers: commands (None: search PATH) and whether
    Kustomize may fetch remote bases (Flux's ``--no-remote-bases`` is the default)."""

    kustomize: str | None = None
    helm: str | None = None
    remote_bases: bool = False
