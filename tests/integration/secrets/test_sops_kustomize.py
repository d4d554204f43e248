"""SOPS inside a Kustomize directory: an encrypted Secret resource and a secretGenerator over
an encrypted env file are decrypted in the private copy the build reads, as Flux does.

The rendered Secrets hold the plaintext in the cluster and digests in the plan; the copy
is gone after the run, and a file no secretGenerator reads is never decrypted.
"""

from __future__ import annotations

import base64
import os
import uuid
from typing import TYPE_CHECKING

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from leaklib import files_holding, leak_forms
from sopslib import deleting_namespaces, encrypt_in_place, make_age_key, namespace_manifest, sops

from kgit.cluster import SECRET

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

    from kgitlib import Run

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("sops_on_path")]

KUSTOMIZATION = """\
namespace: {ns}
resources: [namespace.yaml, db-secret.yaml]
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: api
    envs: [api.env]
"""


def test_a_secret_generator_over_an_encrypted_env_file(
    kubeconfig: str, unique: str, tmp_path: Path, controlplane: ModuleType
) -> None:
    ns = unique
    canary = f"canary-{uuid.uuid4().hex}"
    key = make_age_key(tmp_path / "age.txt")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {
        "PATH": f"{controlplane.render_tools_path()}{os.pathsep}{os.environ['PATH']}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TMPDIR": str(tmp),
        "SOPS_AGE_KEY_FILE": str(key.path),
    }
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/kustomization.yaml", KUSTOMIZATION.format(ns=ns))
    repo.write("app/namespace.yaml", namespace_manifest(ns))
    repo.write(
        "app/db-secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
        f"stringData:\n  password: db-{canary}\n",
    )
    repo.write("app/api.env", f"TOKEN=api-{canary}\nUSER=app\n")
    encrypt_in_place(repo.root, "app/db-secret.yaml", key)
    encrypt_in_place(repo.root, "app/api.env", key, fields=None)
    repo.commit("a Kustomize directory with encrypted Secrets")
    assert canary not in (repo.root / "app" / "api.env").read_text()
    seen: list[str] = []

    def kgit(*args: str) -> Run:
        done = run_kgit(*args, "-C", str(repo.root), "--stack", ns, kubeconfig=kubeconfig, env=env)
        seen.append(done.output)
        return done

    with deleting_namespaces(kubeconfig, ns):
        planned = kgit("plan", "--format", "json", "--path", "app")
        assert planned.code == 0, planned.output
        changes = {c["key"]: c for c in planned.json()["changes"]}
        api = changes[f"/Secret/{ns}/api"]
        assert [
            (f["path"], f["sensitive"]) for f in api["fields"] if f["path"].startswith("data")
        ] == [
            ("data.TOKEN", True),
            ("data.USER", True),
        ]
        assert f"/Secret/{ns}/db" in changes
        done = kgit("apply", "--auto-approve", "--path", "app")
        assert done.code == 0, done.output
        with cluster_for(kubeconfig) as cluster:
            for name, data in (("api", {"TOKEN": f"api-{canary}", "USER": "app"}),
                               ("db", {"password": f"db-{canary}"})):  # fmt: skip
                found = cluster.get(SECRET, ns, name)
                assert found is not None
                assert {k: base64.b64decode(v).decode() for k, v in found["data"].items()} == data

        # Re-encrypted with a new data key: nothing to do.
        sops("rotate", "--in-place", "app/api.env", cwd=repo.root, key=key)
        repo.commit("rotated")
        again = kgit("plan", "--detailed-exitcode", "--path", "app")
        assert again.code == 0, again.output

        # An encrypted file a configMapGenerator reads too is never decrypted.
        repo.write(
            "app/kustomization.yaml",
            KUSTOMIZATION.format(ns=ns)
            + "configMapGenerator:\n  - name: cfg\n    envs: [api.env]\n",
        )
        repo.commit("a ConfigMap from the encrypted file")
        refused = kgit("plan", "--path", "app")
        assert refused.code == 1
        assert refused.stderr.startswith(
            "Error: app/api.env: SOPS-encrypted, but not read by a secretGenerator alone"
        ), refused.stderr

    for form in leak_forms(canary):
        assert [text for text in seen if form in text] == []
    assert files_holding(tmp, leak_forms(canary)) == []
    assert files_holding(tmp_path / "cache", leak_forms(canary)) == []
