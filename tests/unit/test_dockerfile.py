"""The image builds the same kustomize, helm and sops as the tests use."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_dockerfile_pins_the_tools_of_scripts_controlplane() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    controlplane = (ROOT / "scripts" / "controlplane").read_text()
    for name in ("KUSTOMIZE_VERSION", "HELM_VERSION", "SOPS_VERSION"):
        built = re.search(rf"^ARG {name}=(\S+)$", dockerfile, re.MULTILINE)
        tested = re.search(rf'^{name} = "(\S+)"$', controlplane, re.MULTILINE)
        assert built is not None and tested is not None, name
        assert built.group(1) == tested.group(1), name
    for module in ("kustomize", "helm", "sops"):
        assert f"COPY hack/{module} /src/{module}" in dockerfile
    # sops's version is its wrapper module's requirement (no stamp to set).
    sops = re.search(r'^SOPS_VERSION = "(\S+)"$', controlplane, re.MULTILINE)
    assert sops is not None
    go_mod = (ROOT / "hack" / "sops" / "go.mod").read_text()
    assert f"require github.com/getsops/sops/v3 {sops.group(1)}\n" in go_mod
