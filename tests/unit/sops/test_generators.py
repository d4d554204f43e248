"""Which files a Kustomize secretGenerator reads, and may therefore be decrypted."""

from __future__ import annotations

import pytest

from kgit.sops.generators import secret_generator_files
from kgit.source.git import SourceFile

pytestmark = pytest.mark.unit


def test_the_files_only_secret_generators_read() -> None:
    kustomization = b"""\
secretGenerator:
  - name: a
    envs: [a.env, ../shared/b.env]
  - name: c
    env: c.env
    files: [tls.key, cert=certs/tls.crt]
  - not a generator
configMapGenerator:
  - name: cfg
    envs: [c.env]
"""
    files = [
        SourceFile("app/kustomization.yaml", kustomization),
        SourceFile("other/kustomization.yaml", b"secretGenerator: {broken"),
        SourceFile("app/a.env", b"A=1\n"),
    ]
    assert secret_generator_files(files) == {
        "app/a.env",
        "shared/b.env",
        "app/tls.key",
        "app/certs/tls.crt",
    }
