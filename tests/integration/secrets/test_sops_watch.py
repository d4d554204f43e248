"""kgit's own age key (kgit sops-key) and the watcher that decrypts with it.

The key lives in a Secret of the cluster; ``kgit watch --sops-age-secret`` (what
``kgit install --sops-age-secret`` runs) reads it through the API. A rotation keeps the
old key, so files encrypted to either decrypt until ``--remove-old``; a round without
a key that decrypts a file fails naming that file, and applies nothing.
"""

from __future__ import annotations

import base64
import json
import textwrap
from typing import TYPE_CHECKING

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from sopslib import (
    AgeKey,
    configmap_manifest,
    deleting_namespaces,
    encrypt_in_place,
    namespace_manifest,
)

from kgit.cluster import CONFIGMAP, NAMESPACE, SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from kgitlib import Run

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("sops_on_path")]


def secret(ns: str, name: str, value: str) -> str:
    """A Secret manifest with one stringData value."""
    return textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Secret
        metadata:
          name: {name}
          namespace: {ns}
        stringData:
          value: {value}
        """
    )


def value_of(kubeconfig: str, ns: str, name: str) -> str | None:
    """The Secret's value in the cluster (None when there is no such Secret)."""
    with cluster_for(kubeconfig) as cluster:
        found = cluster.get(SECRET, ns, name)
    return None if found is None else base64.b64decode(found["data"]["value"]).decode()


def test_the_watcher_decrypts_with_kgits_key_across_a_rotation(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, keys_ns = unique, f"{unique}-keys"
    repo = GitRepo(tmp_path / "repo")
    repo.write("namespace.yaml", namespace_manifest(ns))

    def sops_key(*args: str) -> Run:
        done = run_kgit("sops-key", "--namespace", keys_ns, *args, kubeconfig=kubeconfig)
        assert done.code == 0, done.output
        return done

    def watch() -> Run:
        return run_kgit(
            "watch", "--once", "--git-url", f"file://{repo.root}", "--stack", unique,
            "--sops-age-secret", f"{keys_ns}/kgit-sops-age", "--auto-apply", "all",
            "--log-format", "json", kubeconfig=kubeconfig,
        )  # fmt: skip

    with deleting_namespaces(kubeconfig, ns, keys_ns):
        made = sops_key()
        first = made.stdout.strip()
        assert first.startswith("age1")
        assert f"a new age key is in Secret/{keys_ns}/kgit-sops-age" in made.stderr
        again = sops_key()
        assert (again.stdout.strip(), again.stderr) == (first, "")

        repo.write("old.yaml", secret(ns, "old", "one"))
        encrypt_in_place(repo.root, "old.yaml", AgeKey(tmp_path, first))
        repo.commit("a Secret for kgit's key")
        done = watch()
        assert done.code == 0, done.output
        assert value_of(kubeconfig, ns, "old") == "one"

        rotated = sops_key("--regenerate")
        second = rotated.stdout.strip()
        assert second.startswith("age1") and second != first
        assert f"still kept: the old key of {first}" in rotated.stderr
        repo.write("new.yaml", secret(ns, "new", "two"))
        encrypt_in_place(repo.root, "new.yaml", AgeKey(tmp_path, second))
        repo.commit("a Secret for the new key")
        done = watch()
        assert done.code == 0, done.output
        assert (value_of(kubeconfig, ns, "old"), value_of(kubeconfig, ns, "new")) == ("one", "two")

        # The old key removed before old.yaml was re-encrypted: the round fails on it,
        # and the change to new.yaml waits too.
        removed = sops_key("--remove-old")
        assert removed.stdout.strip() == second
        assert f"removed the old key of {first}" in removed.stderr
        repo.write("new.yaml", secret(ns, "new", "three"))
        encrypt_in_place(repo.root, "new.yaml", AgeKey(tmp_path, second))
        repo.commit("a new value")
        done = watch()
        assert done.code == 1, done.output
        [line] = [json.loads(x) for x in done.stdout.splitlines()]
        assert line["result"] == "failed"
        assert line["error"].startswith(
            f"old.yaml: cannot decrypt it (SOPS, encrypted for {first})"
        )
        assert f"are for {second}" in line["error"]
        assert value_of(kubeconfig, ns, "new") == "two"


def test_a_missing_key_is_a_round_error_naming_the_file(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, keys_ns = unique, f"{unique}-keys"
    repo = GitRepo(tmp_path / "repo")
    repo.write("namespace.yaml", namespace_manifest(ns))
    repo.write("app/settings.yaml", configmap_manifest(ns, "settings", "colour", "blue"))
    repo.write("app/creds.yaml", secret(ns, "creds", "s3cr3t"))
    with deleting_namespaces(kubeconfig, ns, keys_ns):
        made = run_kgit("sops-key", "--namespace", keys_ns, kubeconfig=kubeconfig)
        assert made.code == 0, made.output
        encrypt_in_place(repo.root, "app/creds.yaml", AgeKey(tmp_path, made.stdout.strip()))
        repo.commit("encrypted")
        done = run_kgit(
            "watch", "--once", "--git-url", f"file://{repo.root}", "--stack", unique,
            "--sops-age-secret", f"{keys_ns}/no-such-secret", "--auto-apply", "all",
            "--log-format", "json", kubeconfig=kubeconfig,
        )  # fmt: skip
        assert done.code == 1, done.output
        [line] = [json.loads(x) for x in done.stdout.splitlines()]
        assert line["result"] == "failed"
        assert line["error"] == (
            f"app/creds.yaml: cannot decrypt it (SOPS, encrypted for {made.stdout.strip()}): "
            f"Secret/{keys_ns}/no-such-secret: not found: it should hold the age keys (*.agekey)"
        )
        with cluster_for(kubeconfig) as cluster:
            assert cluster.get(NAMESPACE, None, ns) is None, "nothing is applied"
            status = cluster.get(CONFIGMAP, "kgit-system", f"kgit-status.{unique}")
        assert status is not None and "app/creds.yaml: cannot decrypt it" in json.dumps(status)
