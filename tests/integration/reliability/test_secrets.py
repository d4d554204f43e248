"""One canary value, used everywhere a secret lives, appears nowhere kgit writes.

The canary is a Secret's ``data`` and ``stringData``, a ConfigMap value that kgit.yaml
marks sensitive, and (by reference only) a Deployment's env var from a Secret. Every
command runs: plan in all formats with stored plans, show, apply of a stored plan and
of a fresh one after the values rotate, state show, state list, history, a round of kgit
watch (logs in both formats), and the error paths of a stale plan and of manifests the
loader and the server refuse. All output, every plan file, the watch status ConfigMap
and the state Secret's decoded contents hold none of its forms.
"""

from __future__ import annotations

import base64
import json
import textwrap
import uuid
from typing import TYPE_CHECKING

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from leaklib import leak_forms, state_contents

from kgit.cluster import CONFIGMAP, NAMESPACE

if TYPE_CHECKING:
    from pathlib import Path


pytestmark = pytest.mark.integration

KGIT_YAML = """\
sensitive:
  - kind: ConfigMap
    name: app-settings
    keys: [db_password, "*blob*"]
    reason: the database password
"""


def manifests(ns: str, canary: str, plain: str) -> str:
    """The stack: the canary in a Secret, a marked ConfigMap, and an env var reference."""
    encoded = base64.b64encode(canary.encode()).decode()
    return textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {ns}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: creds
          namespace: {ns}
        data:
          token: {encoded}
        stringData:
          password: {canary}
          dsn: "postgres://app:{canary}@db:5432/app"
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: app-settings
          namespace: {ns}
        data:
          db_password: {canary}
          colour: {plain}
        binaryData:
          blob: {encoded}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: {ns}
        spec:
          replicas: 1
          selector:
            matchLabels: {{app: web}}
          template:
            metadata:
              labels: {{app: web}}
            spec:
              containers:
                - name: web
                  image: nginx:1
                  env:
                    - name: TOKEN
                      valueFrom:
                        secretKeyRef: {{name: creds, key: token}}
                    - name: GREETING
                      value: {plain}
        """
    )


def typo_secret(ns: str, canary: str) -> str:
    """A Secret whose ``stringData`` is misspelt, in a namespace of its own."""
    return textwrap.dedent(
        f"""\
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {ns}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: typo
          namespace: {ns}
        stringdata:
          password: {canary}
        """
    )


def test_the_canary_never_leaves_its_secrets(kubeconfig: str, unique: str, tmp_path: Path) -> None:
    ns, stack, state_ns, typo = f"{unique}-sec", unique, f"{unique}-state", f"{unique}-typo"
    canaries = [f"canary-{uuid.uuid4().hex}" for _ in range(3)]
    plain = f"plain-{uuid.uuid4().hex[:12]}"
    repo = GitRepo(tmp_path / "repo")
    repo.write("kgit.yaml", KGIT_YAML)
    repo.write("stack.yaml", manifests(ns, canaries[0], plain))
    repo.commit("the stack")
    args = ("-C", str(repo.root), "--stack", stack, "--state-namespace", state_ns)
    on_stack = ("--stack", stack, "--state-namespace", state_ns)
    seen: dict[str, str] = {}

    def run(name: str, *kgit_args: str, code: int = 0) -> str:
        done = run_kgit(*kgit_args, kubeconfig=kubeconfig)
        assert done.code == code, done.output
        assert "Traceback" not in done.output
        seen[name] = done.output
        return done.output

    def plan_everything(stage: str) -> Path:
        for fmt in ("text", "markdown", "json"):
            stored = tmp_path / "plans" / f"{stage}-{fmt}.json"
            run(f"{stage} plan {fmt}", "plan", *args, "-f", fmt, "--out", str(stored))
            seen[f"{stage} plan file {fmt}"] = stored.read_text()
            run(f"{stage} show {fmt}", "show", str(stored), "-f", fmt)
        return stored

    try:
        # Plans and a stored plan applied; then the values rotate and an apply plans anew.
        first = plan_everything("create")
        run("apply stored", "apply", str(first), "--state-namespace", state_ns)
        repo.write("stack.yaml", manifests(ns, canaries[1], plain))
        repo.commit("rotate the canary")
        rotated = plan_everything("rotate")
        assert "(sensitive value changed)" in seen["rotate plan text"]
        run("apply fresh", "apply", "--auto-approve", *args)
        run("state show", "state", "show", *on_stack)
        run("state show json", "state", "show", *on_stack, "-f", "json")
        run("state list", "state", "list", "--state-namespace", state_ns)
        run("history", "history", *on_stack)
        run("history json", "history", *on_stack, "-f", "json")

        # kgit watch applies the next rotation from the repository as a remote: its logs
        # in both formats, and the status it keeps in the cluster.
        repo.write("stack.yaml", manifests(ns, canaries[2], plain))
        repo.commit("rotate again")
        watch = ("watch", "--once", "--git-url", f"file://{repo.root}", *on_stack)
        run("watch json", *watch, "--auto-apply", "all", "--log-format", "json")
        run("watch text", *watch, "--log-format", "text")
        assert '"result":"applied","add":0,"change":2' in seen["watch json"]

        # Error paths: a stale plan, a manifest the loader refuses, one the server refuses.
        run("stale", "apply", str(rotated), "--state-namespace", state_ns, code=1)
        repo.write("stack.yaml", manifests(ns, canaries[1], plain).replace(
            "  password: ", f"  dsn: {canaries[1]}\n  password: ", 1
        ))  # fmt: skip
        repo.commit("a duplicate key")
        run("duplicate key", "plan", *args, code=1)
        repo.write("stack.yaml", manifests(ns, canaries[1], plain).replace(
            "  token: ", f"  bad: {canaries[1]}!!\n  token: ", 1
        ))  # fmt: skip
        repo.commit("not base64")
        run("not base64", "plan", *args, code=1)
        assert "dry-run failed" in seen["not base64"]
        # A misspelt stringData in a namespace not made yet: planned (no dry-run), refused
        # by the server when applied.
        repo.write("stack.yaml", manifests(ns, canaries[2], plain) + typo_secret(typo, canaries[2]))
        repo.commit("a typo")
        run("typo plan", "plan", *args)
        run("typo apply", "apply", "--auto-approve", *args, code=1)
        assert f"Secret/{typo}/typo: failed" in seen["typo apply"]

        with cluster_for(kubeconfig) as cluster:
            seen["state Secret"] = state_contents(cluster, state_ns, stack)
            status = cluster.get(CONFIGMAP, state_ns, f"kgit-status.{stack}")
            assert status is not None
            seen["watch status"] = json.dumps(status)
        everything = "\n".join(seen.values())
        # The checks can see: the plain value and the Secret's key names are there.
        assert plain in everything and "db_password" in everything and "dsn" in everything
        for canary in canaries:
            for form in leak_forms(canary):
                leaks = [name for name, text in seen.items() if form in text]
                assert leaks == [], f"{form!r} (of {canary}) leaked in {leaks}"
    finally:
        with cluster_for(kubeconfig) as cluster:
            for name in (ns, state_ns, typo):
                cluster.delete(NAMESPACE, None, name, uid=None)
