"""Ignore rules: fields kgit leaves alone, as data (user rules from kgit.yaml are the same type)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kgit.manifests.keys import ObjectKey


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """Ignore ``fields`` (kgit paths such as ``spec.replicas``) of matching objects.

    ``group``, ``kind``, ``namespace`` and ``name`` are shell globs; ``*`` matches all.
    A field path matches itself and everything below it.
    """

    fields: tuple[str, ...]
    group: str = "*"
    kind: str = "*"
    namespace: str = "*"
    name: str = "*"
    reason: str = ""

    def matches(self, key: ObjectKey) -> bool:
        """True when this rule applies to the object ``key``."""
        return all(
            fnmatch.fnmatchcase(value, pattern)
            for value, pattern in (
                (key.group, self.group),
                (key.kind, self.kind),
                (key.namespace, self.namespace),
                (key.name, self.name),
            )
        )

    def describe(self) -> str:
        """One line for the plan's list of rules in force."""
        where = f"{self.kind}" if self.group in ("", "*") else f"{self.group}/{self.kind}"
        if (self.namespace, self.name) != ("*", "*"):
            where += f" {self.namespace}/{self.name}"
        text = f"{', '.join(self.fields)} of {where}"
        return f"{text} ({self.reason})" if self.reason else text


def ignored_path(path: str, patterns: tuple[str, ...]) -> bool:
    """True when ``path`` is one of ``patterns`` or lies below one of them."""
    return any(path == p or path.startswith((p + ".", p + "[")) for p in patterns)
