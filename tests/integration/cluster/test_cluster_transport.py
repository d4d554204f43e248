"""Both transports against the real API server: kgit's own, and the kubernetes package's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kgit.cluster import NAMESPACE, connect

pytestmark = pytest.mark.integration


def test_a_plain_kubeconfig_never_imports_the_kubernetes_package(kubeconfig: str) -> None:
    # A fresh interpreter: this test session imported the package long ago.
    code = textwrap.dedent(
        f"""
        import sys
        from kgit.cluster import NAMESPACE, connect
        with connect({kubeconfig!r}) as cluster:
            assert cluster.server_version.startswith("v1."), cluster.server_version
            names = [n["metadata"]["name"] for n in cluster.list_kind(NAMESPACE)]
            assert "default" in names, names
        assert "kubernetes" not in sys.modules
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_merged_kubeconfigs_go_through_the_kubernetes_package(kubeconfig: str) -> None:
    with connect(f"{kubeconfig}{os.pathsep}{kubeconfig}") as cluster:
        assert cluster.server_version.startswith("v1.")
        assert cluster.get(NAMESPACE, None, "default") is not None
        assert "kubernetes" in sys.modules
