"""Object keys: how kgit names one Kubernetes object across Git, state and cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class ObjectKey:
    """``group/kind/namespace/name``; the namespace is empty for cluster-scoped kinds.

    Keyed by group and kind, never version, so ``apps/v1`` and ``apps/v1beta2`` of one
    Deployment are the same object.
    """

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.group}/{self.kind}/{self.namespace}/{self.name}"

    @property
    def subject(self) -> str:
        """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), for messages."""
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ObjectKey:
        """Read the ``group/kind/namespace/name`` form written by ``str()``."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[1] or not parts[3]:
            raise ValueError(f"{text!r}: not an object key (group/kind/namespace/name)")
        return cls(*parts)


def group_of(api_version: str) -> str:
    """The API group of an ``apiVersion`` (``apps/v1`` -> ``apps``, ``v1`` -> ``""``)."""
    return api_version.rpartition("/")[0]


def key_of(obj: dict[str, Any], *, namespaced: bool) -> ObjectKey:
    """The key of a manifest or live object; a cluster-scoped kind drops any namespace."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "") if namespaced else ""
    return ObjectKey(
        group_of(str(obj["apiVersion"])), str(obj["kind"]), namespace, str(meta["name"])
    )
