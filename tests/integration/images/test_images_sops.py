"""Image automation leaves SOPS-encrypted files alone: rewriting one would break its MAC.

A workload in an encrypted file (its env values encrypted, its image in clear) is
reported as ``encrypted`` by ``kgit images list`` and ``update``, never rewritten, and
the annotation verbs refuse it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from kgitlib import GitRepo, run_kgit
from sopslib import encrypt_in_place, make_age_key

if TYPE_CHECKING:
    from pathlib import Path

    from registrylib import Registry

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("sops_on_path")]


def test_a_workload_in_an_encrypted_file_is_never_rewritten(
    tmp_path: Path, unique: str, kubeconfig: str, registry: Registry, isolated_env: dict[str, str]
) -> None:
    registry.push(f"{unique}/app", "v1.0.0", "v1.1.0")
    image = f"{registry.host}/{unique}/app"
    repo = GitRepo(tmp_path / "repo")
    repo.write(
        "app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  annotations:\n"
        '    kgit.dev/automated: "true"\n    kgit.dev/tag.app: semver:~1\nspec:\n'
        "  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n"
        "      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n"
        f"          image: {image}:v1.0.0\n          env:\n"
        "            - {name: TOKEN, value: s3cr3t}\n",
    )
    encrypt_in_place(repo.root, "app.yaml", make_age_key(tmp_path / "age.txt"), fields="^value$")
    base = repo.commit("an encrypted workload")
    original = (repo.root / "app.yaml").read_bytes()

    def kgit(*args: str) -> tuple[int, str, str]:
        done = run_kgit(*args, "-C", str(repo.root), kubeconfig=kubeconfig, env=isolated_env)
        return done.code, done.stdout, done.stderr

    code, out, err = kgit("images", "list", "--format", "json")
    assert code == 0, err
    assert '"action": "encrypted"' in out and f'"image": "{image}:v1.0.0"' in out
    code, out, err = kgit("images", "update", "--no-push")
    assert code == 0, err
    assert (repo.root / "app.yaml").read_bytes() == original
    assert repo.git("rev-parse", "HEAD").strip() == base
    code, out, err = kgit("lock", "default:deployment/app")
    assert code == 1
    assert err == (
        "Error: app.yaml:1: Deployment/default/app is in a SOPS-encrypted file: kgit never "
        "rewrites one (its MAC would break)\n"
    )
