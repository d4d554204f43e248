"""Kustomize directories planned and applied with the real kustomize on the real control plane."""

from __future__ import annotations

import re
import stat
from typing import TYPE_CHECKING, Any

from kgitlib import GitRepo, run_kgit
from sourceslib import apply_auto, assert_no_changes, kgit_on, plan_json

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster.client import Cluster


def _overlays(repo: GitRepo, ns: str, *, greeting: str = "hello", prod_replicas: int = 2) -> None:
    """A base (Deployment, configMapGenerator) and two overlays with patches, namePrefix,
    commonLabels and images."""
    repo.write("kgit.yaml", "paths: [overlays/staging, overlays/prod]\n")
    repo.write(
        "base/kustomization.yaml",
        f"""
        resources: [deployment.yaml]
        configMapGenerator:
          - name: web-config
            literals: [greeting={greeting}]
        """,
    )
    repo.write(
        "base/deployment.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: nginx:1.25
                  envFrom: [{configMapRef: {name: web-config}}]
        """,
    )
    for overlay, replicas, tag in (("staging", 1, "1.26"), ("prod", prod_replicas, "1.27")):
        repo.write(
            f"overlays/{overlay}/kustomization.yaml",
            f"""
            namespace: {ns}
            namePrefix: {overlay}-
            commonLabels: {{env: {overlay}}}
            resources: [../../base]
            images:
              - name: nginx
                newTag: "{tag}"
            patches:
              - path: replicas.yaml
            """,
        )
        repo.write(
            f"overlays/{overlay}/replicas.yaml",
            f"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {{name: web}}
            spec: {{replicas: {replicas}}}
            """,
        )


def _apply(repo: GitRepo, kubeconfig: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """Apply, and each object's result in the order they came."""
    done = apply_auto(repo, kubeconfig, env)
    return re.findall(r"^(\S+/\S*/\S+): (created|updated|deleted)", done.stdout, re.MULTILINE)


def _changes(plan: Any) -> dict[str, tuple[str, str]]:
    return {c["key"]: (c["action"], c["source"]) for c in plan["changes"]}


def test_overlays_plan_apply_noop_change_and_generator(
    tmp_path: Path, kubeconfig: str, namespace: str, cluster: Cluster, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"kz-{namespace}")
    _overlays(repo, namespace)
    repo.commit("overlays")

    plan = plan_json(repo, kubeconfig, tools_env)
    assert plan["source"]["reads"] == [
        {"path": "overlays/staging", "kind": "kustomize", "detail": ""},
        {"path": "overlays/prod", "kind": "kustomize", "detail": ""},
    ]
    assert plan["source"]["tools"] == ["kustomize v5.8.2"]
    created = _changes(plan)
    assert created[f"apps/Deployment/{namespace}/prod-web"] == ("create", "base/deployment.yaml")
    config_maps = sorted(k for k in created if "/ConfigMap/" in k)
    assert len(config_maps) == 2 and all("-web-config-" in k for k in config_maps)
    assert {created[k][1] for k in config_maps} == {"base/kustomization.yaml"}
    text = kgit_on(repo, kubeconfig, tools_env, "plan").stdout
    assert "paths: overlays/staging (kustomize), overlays/prod (kustomize)" in text

    _apply(repo, kubeconfig, tools_env)
    live = cluster.get(
        cluster.resource_for({"apiVersion": "apps/v1", "kind": "Deployment"}), namespace, "prod-web"
    )
    assert live is not None
    assert live["spec"]["replicas"] == 2
    assert live["metadata"]["labels"]["env"] == "prod"
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "config.kubernetes.io/origin" not in (live["metadata"].get("annotations") or {})

    assert_no_changes(repo, kubeconfig, tools_env)

    # An overlay change plans only what changed, naming the file it came from.
    _overlays(repo, namespace, prod_replicas=3)
    repo.commit("prod: 3 replicas")
    changed = plan_json(repo, kubeconfig, tools_env)
    assert [(c["key"], c["action"], c["source"]) for c in changed["changes"]] == [
        (f"apps/Deployment/{namespace}/prod-web", "update", "base/deployment.yaml")
    ]
    assert [f["path"] for f in changed["changes"][0]["fields"]] == ["spec.replicas"]
    _apply(repo, kubeconfig, tools_env)

    # A generator change: the new ConfigMap is created, the Deployments updated, the old
    # ConfigMaps deleted, in that order.
    old = {k for k in created if "/ConfigMap/" in k}
    _overlays(repo, namespace, greeting="bonjour", prod_replicas=3)
    repo.commit("greeting")
    generated = _changes(plan_json(repo, kubeconfig, tools_env))
    new = {k for k, (action, _) in generated.items() if action == "create"}
    assert len(new) == 2 and not new & old
    assert {k for k, (action, _) in generated.items() if action == "delete"} == old
    assert {k for k, (action, _) in generated.items() if action == "update"} == {
        f"apps/Deployment/{namespace}/{o}-web" for o in ("staging", "prod")
    }
    steps = _apply(repo, kubeconfig, tools_env)
    order = [result for _, result in steps]
    assert order == sorted(order, key=["created", "updated", "deleted"].index), steps


def test_kustomize_reads_the_commit_in_a_private_copy(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    # kustomize builds a private (0700) copy of the commit, never the work tree, whose
    # uncommitted change is rendered only with --dirty; an unchanged tree is not rendered
    # again (the render cache).
    log = tmp_path / "kustomize.log"
    wrapper = tmp_path / "kustomize-wrapper"
    wrapper.write_text(
        f'#!/bin/sh\n[ "$1" = build ] && echo "$2 $(stat -c %a "${{2%/tree/*}}")" >> {log}\n'
        'exec kustomize "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {**tools_env, "KGIT_KUSTOMIZE": str(wrapper)}
    repo = GitRepo(tmp_path / f"kz-{namespace}")
    _overlays(repo, namespace)
    repo.commit("overlays")
    first = plan_json(repo, kubeconfig, env)
    builds = log.read_text().splitlines()
    assert len(builds) == 2, builds  # one per overlay
    for line in builds:
        built, mode = line.split()
        assert not built.startswith(str(repo.root)) and mode == "700", line
    assert plan_json(repo, kubeconfig, env)["changes"] == first["changes"]
    assert len(log.read_text().splitlines()) == 2  # both came from the cache
    entries = list((tmp_path / "cache" / "kgit" / "render").glob("*.json"))
    assert len(entries) == 2
    assert stat.S_IMODE(entries[0].parent.stat().st_mode) == 0o700

    _apply(repo, kubeconfig, env)
    _overlays(repo, namespace, prod_replicas=5)  # not committed
    assert_no_changes(repo, kubeconfig, env)
    dirty = plan_json(repo, kubeconfig, env, "--dirty")
    assert dirty["source"]["dirty"] is True
    assert [(c["key"], [f["path"] for f in c["fields"]]) for c in dirty["changes"]] == [
        (f"apps/Deployment/{namespace}/prod-web", ["spec.replicas"])
    ]
    # Only prod's tree changed when committed: staging comes from the cache.
    repo.commit("prod: 5 replicas")
    before = len(log.read_text().splitlines())
    plan_json(repo, kubeconfig, env)
    assert len(log.read_text().splitlines()) == before + 1


def test_remote_base_is_refused(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"kz-{namespace}")
    repo.write(
        "apps/web/kustomization.yaml",
        "resources:\n  - https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0\n",
    )
    repo.commit("remote base")
    done = run_kgit("plan", "-C", str(repo.root), kubeconfig=kubeconfig, env=tools_env)
    assert done.code == 1
    assert done.stderr.startswith("Error: apps/web/kustomization.yaml: "), done.stderr
    assert "remote base" in done.stderr and "kustomize.remoteBases" in done.stderr


def test_kustomize_error_names_the_kustomization(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"kz-{namespace}")
    repo.write("apps/web/kustomization.yaml", "patches:\n  - path: missing-patch.yaml\n")
    repo.commit("broken")
    done = run_kgit("plan", "-C", str(repo.root), kubeconfig=kubeconfig, env=tools_env)
    assert done.code == 1
    assert done.stderr.startswith("Error: apps/web/kustomization.yaml: kustomize build failed:")
    assert "missing-patch.yaml" in done.stderr
