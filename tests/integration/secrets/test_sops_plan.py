"""SOPS-encrypted Secrets in Git: planned, applied with their plaintext, no false diffs.

Real sops and age: the files are encrypted as a user does, in the repository, and kgit
decrypts them with the age key file it is given.
"""

from __future__ import annotations

import base64
import json
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from sopslib import (
    configmap_manifest,
    deleting_namespaces,
    encrypt_in_place,
    make_age_key,
    namespace_manifest,
    sops,
)

from kgit.cluster import SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from sopslib import AgeKey

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("sops_on_path")]


def secrets(ns: str, password: str, token: str, tls: str) -> dict[str, str]:
    """Files of a stack: a plain Namespace, Secrets with stringData and data in YAML, JSON."""
    return {
        "namespace.yaml": namespace_manifest(ns),
        "db.yaml": textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: {ns}
            stringData:
              username: app
              password: {password}
            """
        ),
        "api.yaml": textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Secret
            metadata:
              name: api
              namespace: {ns}
            data:
              token: {base64.b64encode(token.encode()).decode()}
            """
        ),
        "tls.json": json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "tls", "namespace": ns},
                "type": "Opaque",
                "data": {"key": base64.b64encode(tls.encode()).decode()},
                "stringData": {"note": "plain note"},
            },
            indent=2,
        ),
    }


def write_encrypted(repo: GitRepo, files: dict[str, str], key: AgeKey) -> None:
    """Write ``files``, the Secrets encrypted for ``key``, and commit."""
    for path, text in files.items():
        repo.write(path, text)
        if path != "namespace.yaml":
            encrypt_in_place(repo.root, path, key)
    repo.commit("encrypted secrets")


def plan(
    repo: GitRepo, stack: str, key: AgeKey, kubeconfig: str, *args: str
) -> tuple[int, dict[str, Any]]:
    """``kgit plan --format json --detailed-exitcode`` with the key: (exit code, plan)."""
    done = run_kgit(
        "plan", "-C", str(repo.root), "--stack", stack, "-f", "json", "--detailed-exitcode",
        "--sops-age-key-file", str(key.path), *args, kubeconfig=kubeconfig,
    )  # fmt: skip
    assert done.code in (0, 2), done.output
    return done.code, json.loads(done.stdout)


def secret_values(kubeconfig: str, ns: str, name: str) -> dict[str, str]:
    """A Secret's values in the cluster, decoded."""
    with cluster_for(kubeconfig) as cluster:
        found = cluster.get(SECRET, ns, name)
    assert found is not None, f"Secret/{ns}/{name} is missing"
    return {k: base64.b64decode(v).decode() for k, v in (found.get("data") or {}).items()}


def test_encrypted_secrets_plan_apply_and_plan_nothing(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, stack = unique, unique
    key = make_age_key(tmp_path / "age.txt")
    repo = GitRepo(tmp_path / "repo")
    write_encrypted(repo, secrets(ns, "pw-1", "tok-1", "tls-1"), key)
    assert "pw-1" not in (repo.root / "db.yaml").read_text()
    with deleting_namespaces(kubeconfig, ns):
        code, first = plan(repo, stack, key, kubeconfig)
        assert code == 2
        assert {c["key"]: c["action"] for c in first["changes"]} == {
            f"/Namespace//{ns}": "create",
            f"/Secret/{ns}/db": "create",
            f"/Secret/{ns}/api": "create",
            f"/Secret/{ns}/tls": "create",
        }
        done = run_kgit(
            "apply", "-C", str(repo.root), "--stack", stack, "--auto-approve",
            "--sops-age-key-file", str(key.path), kubeconfig=kubeconfig,
        )  # fmt: skip
        assert done.code == 0, done.output
        assert secret_values(kubeconfig, ns, "db") == {"username": "app", "password": "pw-1"}
        assert secret_values(kubeconfig, ns, "api") == {"token": "tok-1"}
        assert secret_values(kubeconfig, ns, "tls") == {"key": "tls-1", "note": "plain note"}
        code, again = plan(repo, stack, key, kubeconfig)
        assert (code, again["changes"]) == (0, [])


def test_reencryption_plans_nothing_and_a_changed_value_only_its_key(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, stack = unique, unique
    key, other = make_age_key(tmp_path / "age.txt"), make_age_key(tmp_path / "other.txt")
    repo = GitRepo(tmp_path / "repo")
    write_encrypted(repo, secrets(ns, "pw-1", "tok-1", "tls-1"), key)
    with deleting_namespaces(kubeconfig, ns):
        done = run_kgit(
            "apply", "-C", str(repo.root), "--stack", stack, "--auto-approve",
            "--sops-age-key-file", str(key.path), kubeconfig=kubeconfig,
        )  # fmt: skip
        assert done.code == 0, done.output
        before = (repo.root / "db.yaml").read_text()
        # Re-encryption three ways: a new data key (rotate), a recipient added
        # (updatekeys from .sops.yaml), and the file encrypted afresh from plaintext.
        sops("rotate", "--in-place", "db.yaml", cwd=repo.root, key=key)
        repo.write(
            ".sops.yaml",
            f"creation_rules:\n  - age: {key.recipient},{other.recipient}\n"
            "    encrypted_regex: ^(data|stringData)$\n",
        )
        sops("updatekeys", "--yes", "api.yaml", cwd=repo.root, key=key)
        repo.write("tls.json", secrets(ns, "", "", "tls-1")["tls.json"])
        encrypt_in_place(repo.root, "tls.json", key)
        repo.commit("re-encrypted, same values")
        assert (repo.root / "db.yaml").read_text() != before
        assert other.recipient in (repo.root / "api.yaml").read_text()
        code, same = plan(repo, stack, key, kubeconfig)
        assert (code, same["changes"]) == (0, [])

        # One value of one Secret changes: exactly that key, masked.
        plaintext = sops("decrypt", "db.yaml", cwd=repo.root, key=key)
        repo.write("db.yaml", plaintext.replace("password: pw-1", "password: pw-2"))
        encrypt_in_place(repo.root, "db.yaml", key)
        repo.commit("a new password")
        code, changed = plan(repo, stack, key, kubeconfig)
        assert code == 2
        [change] = changed["changes"]
        assert (change["key"], change["action"]) == (f"/Secret/{ns}/db", "update")
        assert [(f["path"], f["sensitive"]) for f in change["fields"]] == [("data.password", True)]
        text = run_kgit(
            "plan", "-C", str(repo.root), "--stack", stack,
            "--sops-age-key-file", str(key.path), kubeconfig=kubeconfig,
        )  # fmt: skip
        assert text.code == 0, text.output
        assert "data.password: (sensitive value changed)" in text.output, text.output
        assert "pw-2" not in text.output and "pw-1" not in text.output


def test_only_secrets_are_decrypted_unless_kgit_yaml_allows_the_kind(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, stack = unique, unique
    key = make_age_key(tmp_path / "age.txt")
    repo = GitRepo(tmp_path / "repo")
    repo.write("namespace.yaml", namespace_manifest(ns))
    repo.write("settings.yaml", configmap_manifest(ns, "settings", "password", "hunter2"))
    encrypt_in_place(repo.root, "settings.yaml", key, fields="^data$")
    repo.commit("an encrypted ConfigMap")
    args = ("plan", "-C", str(repo.root), "--stack", stack, "--sops-age-key-file", str(key.path))
    refused = run_kgit(*args, kubeconfig=kubeconfig)
    assert refused.code == 1
    assert refused.stderr == (
        "Error: settings.yaml: a SOPS-encrypted ConfigMap: only Secrets are decrypted unless "
        "kgit.yaml allows the kind (sops: {kinds: [ConfigMap]})\n"
    )

    repo.write("kgit.yaml", "sops:\n  kinds: [ConfigMap]\n")
    repo.commit("allow encrypted ConfigMaps")
    done = run_kgit(*args, "-f", "json", kubeconfig=kubeconfig)
    assert done.code == 0, done.output
    [change] = [c for c in done.json()["changes"] if c["key"] == f"/ConfigMap/{ns}/settings"]
    assert change["action"] == "create"
    assert [f["path"] for f in change["fields"] if f["sensitive"]] == ["data.password"]
    assert "hunter2" not in done.output

    # Encrypted values outside data would be shown: refused, naming them.
    repo.write(
        "settings.yaml",
        configmap_manifest(ns, "settings", "password", "hunter2") + "immutable: false\n",
    )
    encrypt_in_place(repo.root, "settings.yaml", key, fields=None)
    repo.commit("everything encrypted")
    outside = run_kgit(*args, kubeconfig=kubeconfig)
    assert outside.code == 1
    assert outside.stderr.startswith(
        "Error: settings.yaml: ConfigMap/settings: SOPS-encrypted values outside data and "
        "binaryData (immutable) would be shown in plans"
    ), outside.stderr
    assert "hunter2" not in outside.output
