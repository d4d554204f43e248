"""Helm releases planned and applied with the real helm, from the repository and from an
OCI registry (Debian's docker-registry on loopback)."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

from kgitlib import GitRepo, run_kgit
from sourceslib import apply_auto, assert_no_changes, kgit_on, plan_json

if TYPE_CHECKING:
    from pathlib import Path

    from registrylib import Registry

    from kgit.cluster.client import Cluster

SECRET_PASSWORD = "s3cr3t-canary-7f1d"  # a canary that must never show
SECRET_TOKEN = "tok-canary-93ab"


def _chart(repo: GitRepo, path: str) -> None:
    """A chart with a ConfigMap, a Secret, a pre-install Job hook and a test hook."""
    repo.write(f"{path}/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    repo.write(
        f"{path}/values.yaml",
        "greeting: hello\ndb: {password: changeme}\napi: {token: none}\n",
    )
    repo.write(
        f"{path}/templates/config.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
        data:
          greeting: {{ .Values.greeting | quote }}
          token: {{ .Values.api.token | quote }}
          kube: {{ .Capabilities.KubeVersion.Version | quote }}
          {{- if .Capabilities.APIVersions.Has "apps/v1/Deployment" }}
          deployments: "served"
          {{- end }}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-db
        stringData:
          password: {{ .Values.db.password | quote }}
        """,
    )
    repo.write(
        f"{path}/templates/hooks.yaml",
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{ .Release.Name }}-migrate
          annotations: {"helm.sh/hook": pre-install}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: migrate, image: busybox}]
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ .Release.Name }}-test
          annotations: {"helm.sh/hook": test}
        spec:
          restartPolicy: Never
          containers: [{name: test, image: busybox}]
        """,
    )


def _release_repo(repo: GitRepo, ns: str, chart: str, *, greeting: str, extra: str = "") -> None:
    repo.write(
        "kgit.yaml",
        f"""
        paths: [manifests]
        releases:
          - name: shop
            chart: {chart}
            namespace: {ns}
            valuesFiles: [values/prod.yaml]
            sensitiveValuesFiles: [values/secret.yaml]
            sensitiveKeys: [api.token]
        {extra}
        """,
    )
    repo.write("manifests/README.yaml", "# no objects here\n")
    repo.write("values/prod.yaml", f"greeting: {greeting}\napi: {{token: {SECRET_TOKEN}}}\n")
    repo.write("values/secret.yaml", f"db: {{password: {SECRET_PASSWORD}}}\n")


def _plan(repo: GitRepo, kubeconfig: str, env: dict[str, str]) -> Any:
    """The plan as JSON, after checking no sensitive value shows in it or in the text."""
    plan = plan_json(repo, kubeconfig, env)
    text = kgit_on(repo, kubeconfig, env, "plan")
    for shown in (json.dumps(plan), text.output):
        assert SECRET_PASSWORD not in shown and SECRET_TOKEN not in shown
    return plan


def _apply(repo: GitRepo, kubeconfig: str, env: dict[str, str]) -> None:
    done = apply_auto(repo, kubeconfig, env)
    assert SECRET_PASSWORD not in done.output and SECRET_TOKEN not in done.output


def _check_release(
    repo: GitRepo, kubeconfig: str, env: dict[str, str], cluster: Cluster, ns: str
) -> Any:
    """Plan (hooks named, secrets hidden), apply, plan again: no changes; then a values
    change is planned as field updates."""
    plan = _plan(repo, kubeconfig, env)
    keys = {c["key"]: c for c in plan["changes"]}
    assert set(keys) == {f"/ConfigMap/{ns}/shop-config", f"/Secret/{ns}/shop-db"}
    warnings = " ".join(plan["warnings"])
    assert f"Helm hooks not applied: Job/{ns}/shop-migrate (pre-install)" in warnings
    assert f"Helm test hooks not applied: Pod/{ns}/shop-test (test)" in warnings
    assert plan["source"]["tools"] == ["helm v3.22.0"]
    _apply(repo, kubeconfig, env)
    config = cluster.get(
        cluster.resource_for({"apiVersion": "v1", "kind": "ConfigMap"}), ns, "shop-config"
    )
    assert config is not None
    assert config["data"]["token"] == SECRET_TOKEN
    assert config["data"]["deployments"] == "served"
    assert config["data"]["kube"].startswith("v1.35")
    assert_no_changes(repo, kubeconfig, env)
    return plan


def test_chart_in_the_repository(
    tmp_path: Path, kubeconfig: str, namespace: str, cluster: Cluster, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"helm-{namespace}")
    _chart(repo, "charts/shop")
    _release_repo(repo, namespace, "charts/shop", greeting="hello")
    repo.commit("release")
    plan = _check_release(repo, kubeconfig, tools_env, cluster, namespace)
    assert {"path": "charts/shop", "kind": "helm", "detail": "release shop"} in plan["source"][
        "reads"
    ]
    sources = {c["key"]: c["source"] for c in plan["changes"]}
    assert sources[f"/ConfigMap/{namespace}/shop-config"] == "charts/shop/templates/config.yaml"

    _release_repo(repo, namespace, "charts/shop", greeting="bonjour")
    repo.commit("greeting")
    changed = _plan(repo, kubeconfig, tools_env)
    assert [(c["key"], c["action"]) for c in changed["changes"]] == [
        (f"/ConfigMap/{namespace}/shop-config", "update")
    ]
    fields = {f["path"]: (f.get("before"), f.get("after")) for f in changed["changes"][0]["fields"]}
    assert fields == {"data.greeting": ("hello", "bonjour")}


def test_chart_pushed_as_an_oci_artifact(
    tmp_path: Path,
    kubeconfig: str,
    namespace: str,
    cluster: Cluster,
    tools_env: dict[str, str],
    registry: Registry,
) -> None:
    chart_repo = GitRepo(tmp_path / "chart-src")
    _chart(chart_repo, "shop")
    subprocess.run(
        ["helm", "package", "shop", "--destination", str(tmp_path)],
        cwd=chart_repo.root,
        env=tools_env | {"HOME": str(tmp_path)},
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "helm",
            "push",
            str(tmp_path / "shop-0.1.0.tgz"),
            f"oci://{registry.host}/charts",
            "--plain-http",
        ],
        env=tools_env | {"HOME": str(tmp_path)},
        check=True,
        capture_output=True,
    )
    repo = GitRepo(tmp_path / f"oci-{namespace}")
    chart = f"oci://{registry.host}/charts/shop"
    _release_repo(repo, namespace, chart, greeting="hello")
    kgit_yaml = (repo.root / "kgit.yaml").read_text()
    repo.write(
        "kgit.yaml",
        kgit_yaml.replace(
            "    namespace:", "    version: 0.1.0\n    plainHttp: true\n    namespace:"
        ),
    )
    repo.commit("oci release")
    plan = _check_release(repo, kubeconfig, tools_env, cluster, namespace)
    sources = {c["key"]: c["source"] for c in plan["changes"]}
    assert sources[f"/ConfigMap/{namespace}/shop-config"] == f"{chart}:0.1.0/templates/config.yaml"


def test_sensitive_value_outside_a_secret_or_configmap_is_refused(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"helm-{namespace}")
    _chart(repo, "charts/shop")
    repo.write(
        "charts/shop/templates/leak.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: leak
          annotations: {password: {{ .Values.db.password | quote }}}
        spec: {ports: [{port: 80}]}
        """,
    )
    _release_repo(repo, namespace, "charts/shop", greeting="hello")
    repo.commit("leak")
    done = run_kgit("plan", "-C", str(repo.root), kubeconfig=kubeconfig, env=tools_env)
    assert done.code == 1
    assert "Service/leak: metadata.annotations.password holds a value of values/secret.yaml" in (
        done.stderr
    )
    assert SECRET_PASSWORD not in done.output


def test_missing_helm_is_a_clear_error(
    tmp_path: Path, kubeconfig: str, namespace: str, tools_env: dict[str, str]
) -> None:
    repo = GitRepo(tmp_path / f"helm-{namespace}")
    _chart(repo, "charts/shop")
    repo.commit("a chart")
    # kustomize stays on PATH; helm does not.
    path = ":".join(
        p for p in tools_env["PATH"].split(":") if "helm-" not in p and p != "/usr/local/bin"
    )
    done = run_kgit(
        "plan", "-C", str(repo.root), kubeconfig=kubeconfig, env={**tools_env, "PATH": path}
    )
    assert done.code == 1
    assert done.stderr.startswith(
        "Error: charts/shop (helm release shop): rendering it needs helm, and neither helm is on PATH"
    ), done.stderr
    assert "KGIT_HELM" in done.stderr
