"""What a rendering produced, and its form in the render cache."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kgit.manifests.load import Manifest
from kgit.manifests.normalize import SensitiveRule


@dataclass(frozen=True, slots=True)
class Rendered:
    """The objects of one rendering, what the plan must say about it (``warnings``:
    Helm hooks left out), and the values it made sensitive (masked like Secret data)."""

    manifests: tuple[Manifest, ...]
    warnings: tuple[str, ...] = ()
    sensitive: tuple[SensitiveRule, ...] = ()


def to_entry(rendered: Rendered) -> dict[str, Any]:
    """``rendered`` as plain JSON data for the cache."""
    return {
        "manifests": [
            {"obj": m.obj, "path": m.path, "line": m.line, "namespace": m.namespace}
            for m in rendered.manifests
        ],
        "warnings": list(rendered.warnings),
        "sensitive": [dataclasses.asdict(rule) for rule in rendered.sensitive],
    }


def from_entry(entry: Any) -> Rendered | None:
    """A cached rendering, or None when the entry is not one (render again)."""
    try:
        return Rendered(
            manifests=tuple(
                Manifest(m["obj"], m["path"], m["line"], m["namespace"]) for m in entry["manifests"]
            ),
            warnings=tuple(entry["warnings"]),
            sensitive=tuple(
                SensitiveRule(**{**rule, "keys": tuple(rule["keys"])})
                for rule in entry["sensitive"]
            ),
        )
    except (KeyError, TypeError):
        return None
