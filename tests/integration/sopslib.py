"""Helpers of the SOPS tests: the real sops (pinned, built by scripts/setup) and age keys.

Files are encrypted as a user does, with ``sops encrypt --age`` on a file in the test's
repository, and keys are made with ``age-keygen``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgitlib import cluster_for

from kgit.cluster import NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# The fields users encrypt in Secrets (Flux's guide): the rest stays readable.
SECRET_FIELDS = "^(data|stringData)$"


@dataclass(frozen=True, slots=True)
class AgeKey:
    """An age key file made by ``age-keygen`` and its public recipient."""

    path: Path
    recipient: str


def make_age_key(path: Path) -> AgeKey:
    """A new age key written to ``path`` by the real ``age-keygen``."""
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    for line in path.read_text().splitlines():
        if line.startswith("# public key: "):
            return AgeKey(path, line.removeprefix("# public key: ").strip())
    raise AssertionError(f"{path}: age-keygen wrote no public key")


def sops(*args: str, cwd: Path, key: AgeKey | None = None) -> str:
    """Run the real ``sops`` (found on PATH) in ``cwd``; its stdout."""
    env = {"SOPS_AGE_KEY_FILE": str(key.path)} if key is not None else {}
    done = subprocess.run(
        ["sops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        # No key but the one given: a developer's own SOPS_AGE_KEY must not decide a test.
        env={**{k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}, **env},
    )
    assert done.returncode == 0, f"sops {' '.join(args)}: {done.stderr}"
    return done.stdout


def encrypt_in_place(
    root: Path, path: str, *recipients: AgeKey, fields: str | None = SECRET_FIELDS
) -> None:
    """Encrypt ``root/path`` in place for ``recipients`` (only ``fields`` if given)."""
    args = ["encrypt", "--in-place", "--age", ",".join(r.recipient for r in recipients)]
    if fields is not None:
        args += ["--encrypted-regex", fields]
    sops(*args, path, cwd=root)


def namespace_manifest(name: str) -> str:
    """A Namespace manifest."""
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def configmap_manifest(ns: str, name: str, key: str, value: str) -> str:
    """A ConfigMap manifest with one value."""
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        f"data:\n  {key}: {value}\n"
    )


@contextlib.contextmanager
def deleting_namespaces(kubeconfig: str, *names: str) -> Iterator[None]:
    """Delete the namespaces ``names`` when the block ends (without waiting)."""
    try:
        yield
    finally:
        with cluster_for(kubeconfig) as cluster:
            for name in names:
                cluster.delete(NAMESPACE, None, name, uid=None)
