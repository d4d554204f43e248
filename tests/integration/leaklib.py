"""Looking for a secret value where it must not be: its forms, and the stack's state."""

from __future__ import annotations

import base64
import gzip
import json
from typing import TYPE_CHECKING

from kgit.cluster import SECRET
from kgit.state.chunks import head_name

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Cluster


def leak_forms(value: str) -> list[str]:
    """The value and the ways it could leak: hex, and base64 at each byte alignment."""
    raw = value.encode()
    forms = [value, raw.hex()]
    for shift in range(3):
        # The middle of the base64 of the value after ``shift`` other bytes is stable.
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        forms.append(encoded[4:-4])
    return forms


def state_contents(cluster: Cluster, namespace: str, stack: str) -> str:
    """Everything the state Secrets hold, decoded: annotations, index, the gzip payload."""
    texts = []
    selector = f"kgit.dev/state-stack={stack}"
    for secret in cluster.list_kind(SECRET, namespace, label_selector=selector):
        texts.append(json.dumps(secret["metadata"].get("annotations") or {}))
        for value in (secret.get("data") or {}).values():
            raw = base64.b64decode(value)
            texts.append(raw.decode(errors="replace"))
            if raw[:2] == b"\x1f\x8b":
                texts.append(gzip.decompress(raw).decode())
    assert texts, f"no state Secret {head_name(stack)}"
    return "\n".join(texts)


def files_holding(root: Path, forms: list[str]) -> list[str]:
    """The files under ``root`` (recursively) whose bytes hold any of ``forms``."""
    found = []
    needles = [form.encode() for form in forms]
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {n.decode()}" for n in needles if n in data]
    return found
