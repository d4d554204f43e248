"""What a path holds: excludes, namespaces across plain, Kustomize and Helm paths, and
Flux v1 .flux.yaml generators, on the real control plane."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kgitlib import GitRepo, cluster_for, configmap, run_kgit
from sourceslib import plan_json

if TYPE_CHECKING:
    from pathlib import Path


def test_ci_files_ignored_files_and_plans_are_not_manifests(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"ex-{namespace}")
    repo.write("app.yaml", json.dumps(configmap(namespace, "app", a="1")))
    repo.write(".github/workflows/ci.yml", "on: push\njobs: {test: {runs-on: ubuntu-latest}}\n")
    repo.write(".gitlab-ci.yml", "test:\n  script: [make]\n")
    repo.write("docs/example.yaml", "title: not a manifest\n")
    repo.write(".kgitignore", "# documentation\ndocs/\n")
    repo.write("plans/old.json", '{"format_version": 2}\n')
    repo.commit("a repository with CI")
    plan = plan_json(repo, kubeconfig, tools_env)
    assert [c["key"] for c in plan["changes"]] == [f"/ConfigMap/{namespace}/app"]
    dirty = plan_json(repo, kubeconfig, tools_env, "--dirty", "--out", "plans/")
    assert [c["key"] for c in dirty["changes"]] == [f"/ConfigMap/{namespace}/app"]

    repo.write("config/settings.yaml", "apiVersion: v1\nmetadata: {name: typo}\n")
    repo.commit("a YAML without kind")
    done = run_kgit("plan", "-C", str(repo.root), kubeconfig=kubeconfig, env=tools_env)
    assert done.code == 1
    assert done.stderr.startswith("Error: config/settings.yaml:1: kind is missing"), done.stderr
    assert "exclude:" in done.stderr and ".kgitignore" in done.stderr

    repo.write("kgit.yaml", "exclude: [config/]\n")
    repo.commit("excluded")
    assert [c["key"] for c in plan_json(repo, kubeconfig, tools_env)["changes"]] == [
        f"/ConfigMap/{namespace}/app"
    ]


def test_default_namespace_for_plain_kustomize_and_helm_and_who_wins(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    other = f"{namespace}-own"
    repo = GitRepo(tmp_path / f"ns-{namespace}")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}
    repo.write("plain/cm.yaml", json.dumps({**cm, "metadata": {"name": "plain"}}))
    # The namespace the Kustomization and a release name (a plan refuses objects whose
    # namespace neither exists nor is created by it).
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}}
    repo.write("plain/ns.yaml", json.dumps(ns))
    repo.write("kz/kustomization.yaml", "resources: [cm.yaml]\n")
    repo.write("kz/cm.yaml", json.dumps({**cm, "metadata": {"name": "kz"}}))
    repo.write("kz-own/kustomization.yaml", f"namespace: {other}\nresources: [cm.yaml]\n")
    repo.write("kz-own/cm.yaml", json.dumps({**cm, "metadata": {"name": "kz-own"}}))
    repo.write("chart/Chart.yaml", "apiVersion: v2\nname: chart\nversion: 0.1.0\n")
    repo.write(
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}'}\n",
    )
    repo.write(
        "kgit.yaml",
        f"""
        paths: [plain, kz, kz-own, chart]
        releases:
          - {{name: own-release, chart: chart, namespace: {other}}}
          - {{name: default-release, chart: chart}}
        """,
    )
    repo.commit("namespaces")
    plan = plan_json(repo, kubeconfig, tools_env, "--default-namespace", namespace)
    assert sorted(c["key"] for c in plan["changes"]) == sorted(
        [
            f"/ConfigMap/{namespace}/plain",
            f"/ConfigMap/{namespace}/kz",
            f"/ConfigMap/{other}/kz-own",
            f"/ConfigMap/{other}/own-release",
            f"/ConfigMap/{namespace}/default-release",
            f"/Namespace//{other}",
        ]
    )
    assert [
        str(r["path"]) + " " + r["kind"] + " " + r["detail"] for r in plan["source"]["reads"]
    ] == [
        "plain plain ",
        "kz kustomize ",
        "kz-own kustomize ",
        "chart helm release own-release",
        "chart helm release default-release",
    ]


def _flux_v1_repo(repo: GitRepo, ns: str) -> None:
    repo.write(
        "workloads/.flux.yaml",
        """
        version: 1
        commandUpdated:
          generators:
            - command: cat manifests/*.yaml
            - command: >-
                printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: env, namespace: %s}\\ndata: {home: "%s", canary: "%s"}\\n'
                "$NS_FROM_FILE" "$(stat -c %a "$HOME")" "$KGIT_CANARY"
        """.replace("$NS_FROM_FILE", ns),
    )
    repo.write("workloads/manifests/web.yaml", json.dumps(configmap(ns, "web", a="1")))


def test_flux_v1_generators_need_manifest_generation(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"flux-{namespace}")
    _flux_v1_repo(repo, namespace)
    repo.write("kgit.yaml", "paths: [workloads]\n")
    repo.commit("flux v1")
    env = {**tools_env, "KGIT_CANARY": "user-secret"}
    refused = run_kgit("plan", "-C", str(repo.root), kubeconfig=kubeconfig, env=env)
    assert refused.code == 1
    assert refused.stderr.startswith(
        "Error: workloads: its manifests are generated by workloads/.flux.yaml "
        "(Flux v1 manifest generation), whose commands kgit runs only with --manifest-generation"
    ), refused.stderr

    plan_file = tmp_path / "plan.json"
    plan = plan_json(repo, kubeconfig, env, "--manifest-generation", "--out", str(plan_file))
    assert plan["options"]["manifest_generation"] is True
    assert plan["source"]["reads"] == [
        {"path": "workloads", "kind": "generators", "detail": "workloads/.flux.yaml"}
    ]
    assert {c["key"]: c["source"] for c in plan["changes"]} == {
        f"/ConfigMap/{namespace}/web": "workloads/.flux.yaml",
        f"/ConfigMap/{namespace}/env": "workloads/.flux.yaml",
    }
    # The stored plan applies with its own --manifest-generation: the objects are
    # generated again and match the reviewed digests.
    applied = run_kgit(
        "apply", str(plan_file), "-C", str(repo.root), kubeconfig=kubeconfig, env=env
    )
    assert applied.code == 0, applied.output

    with cluster_for(kubeconfig) as cluster:
        live = cluster.get(
            cluster.resource_for({"apiVersion": "v1", "kind": "ConfigMap"}), namespace, "env"
        )
    assert live is not None
    assert live["data"]["canary"] == ""  # the user's environment is not the generator's
    assert live["data"]["home"] == "700"  # a private HOME of its own
