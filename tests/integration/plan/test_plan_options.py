"""kgit plan's options and kgit.yaml: stack, paths, namespaces, ignore rules, refs, --dirty,
kubeconfig contexts, a CRD planned with its custom resources, plans stored under a folder."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from kgitlib import GitRepo, run_kgit
from planlib import assert_clean_failure, changes_by_key, field, run_kubectl

if TYPE_CHECKING:
    from planlib import Leftovers

pytestmark = pytest.mark.integration


def with_contexts(kubeconfig: str, target: Path) -> Path:
    """A copy of ``kubeconfig`` whose current context points at nothing listening."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    [context] = config["contexts"]
    [real] = config["clusters"]
    nowhere = {**real["cluster"], "server": "https://127.0.0.1:9"}
    config["clusters"].append({"name": "nowhere", "cluster": nowhere})
    config["contexts"].append(
        {"name": "broken", "context": {**context["context"], "cluster": "nowhere"}}
    )
    config["current-context"] = "broken"
    target.write_text(yaml.safe_dump(config))
    return target


def test_options_and_kgit_yaml(
    kubeconfig: str, kubectl: Path, unique: str, tmp_path: Path, leftovers: Leftovers
) -> None:
    ns, state_ns = leftovers.namespace(f"{unique}-opt"), leftovers.namespace(f"{unique}-state")
    group = f"{unique}.example.com"
    leftovers.crd(f"widgets.{group}")
    repo = GitRepo(tmp_path / "repo")
    repo.write(
        "kgit.yaml",
        f"""
        stack: {unique}
        paths: [apps/web, crd]
        stateNamespace: {state_ns}
        defaultNamespace: {ns}
        ignore:
          - group: apps
            kind: Deployment
            fields: [spec.replicas]
            reason: scaled by an HPA
        """,
    )
    web = textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Namespace
        metadata: {{name: {ns}}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web}}
        spec:
          replicas: 2
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              containers: [{{name: web, image: "nginx:1.27"}}]
        """
    )
    repo.write("apps/web/all.yaml", web)
    repo.write("apps/other/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n")
    repo.write(
        "crd/widgets.yaml",
        f"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: widgets.{group}}}
        spec:
          group: {group}
          scope: Namespaced
          names: {{plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
        ---
        apiVersion: {group}/v1
        kind: Widget
        metadata: {{name: w1}}
        spec: {{size: 3}}
        """,
    )
    repo.git("tag", "v1", repo.commit("web, a CRD and a widget"))
    deployment = f"apps/Deployment/{ns}/web"

    # --kubeconfig beats KUBECONFIG; --context picks the working context of the file.
    contexts = with_contexts(kubeconfig, tmp_path / "contexts.yaml")
    nowhere = str(tmp_path / "missing-kubeconfig")
    outdir = tmp_path / "plans"
    run = run_kgit(
        "plan", "-C", str(repo.root), "--kubeconfig", str(contexts), "--context", "kgit-test",
        "-f", "json", "--out", f"{outdir}/", kubeconfig=nowhere,
    )  # fmt: skip
    assert run.code == 0, run.output
    plan = run.json()
    [stored] = outdir.iterdir()
    assert stored.name.startswith(f"{unique}-") and stored.read_text() == run.stdout

    # kgit.yaml: stack, paths, default namespace, ignore rules listed in the plan.
    assert plan["stack"] == unique
    assert plan["source"]["paths"] == ["apps/web", "crd"]
    assert plan["ignored"] == ["spec.replicas of apps/Deployment (scaled by an HPA)"]
    assert (plan["options"]["default_namespace"], plan["options"]["state_namespace"]) == (
        ns,
        state_ns,
    )
    changes = changes_by_key(plan)
    assert set(changes) == {
        f"/Namespace//{ns}",
        f"apiextensions.k8s.io/CustomResourceDefinition//widgets.{group}",
        deployment,
        f"{group}/Widget/{ns}/w1",
    }
    widget = changes[f"{group}/Widget/{ns}/w1"]
    assert widget["action"] == "create"
    assert {"reason": "crd-pending"} in widget["reasons"]

    for context in ([], ["--context", "nope"]):
        failed = run_kgit(
            "plan", "-C", str(repo.root), "--kubeconfig", str(contexts), *context,
            kubeconfig=nowhere,
        )  # fmt: skip
        assert_clean_failure(failed)

    applied = run_kgit("apply", "-C", str(repo.root), "--auto-approve", kubeconfig=kubeconfig)
    assert applied.code == 0, applied.output
    listed = run_kgit("state", "list", "--state-namespace", state_ns, "-f", "json",
                      kubeconfig=kubeconfig)  # fmt: skip
    assert [s["stack"] for s in listed.json()] == [unique]
    in_default = run_kgit("state", "list", "-f", "json", kubeconfig=kubeconfig).json()
    assert unique not in [s["stack"] for s in in_default]
    missing = run_kgit("state", "show", "--stack", unique, kubeconfig=kubeconfig)
    assert_clean_failure(missing)
    assert f"stack {unique}: no state in namespace kgit-system" in missing.stderr

    # An ignored field: drift in it is no change, and neither is Git changing it.
    run_kubectl(kubectl, kubeconfig, "-n", ns, "scale", "deployment", "web", "--replicas=4")
    repo.write("apps/web/all.yaml", web.replace("replicas: 2", "replicas: 3"))
    repo.commit("replicas are the HPA's")
    args = ("-C", str(repo.root))
    quiet = run_kgit("plan", *args, "--detailed-exitcode", kubeconfig=kubeconfig)
    assert quiet.code == 0, quiet.output
    assert "Ignored fields: spec.replicas of apps/Deployment (scaled by an HPA)" in quiet.stdout

    # --ref reads another commit; HEAD has the new image.
    repo.write("apps/web/all.yaml", web.replace("nginx:1.27", "nginx:1.28"))
    repo.commit("new image")
    at_tag = run_kgit("plan", *args, "--ref", "v1", "-f", "json", kubeconfig=kubeconfig).json()
    assert at_tag["changes"] == [] and at_tag["source"]["ref"] == "v1"
    image = "spec.template.spec.containers[name=web].image"
    head = changes_by_key(run_kgit("plan", *args, "-f", "json", kubeconfig=kubeconfig).json())
    assert field(head[deployment], image)["after"] == "nginx:1.28"

    # --dirty reads the work tree and says so; without it the commit is read.
    repo.write("apps/web/all.yaml", web.replace("nginx:1.27", "nginx:1.29"))
    dirty = run_kgit("plan", *args, "--dirty", "-f", "json", kubeconfig=kubeconfig).json()
    assert dirty["source"]["dirty"] is True
    assert field(changes_by_key(dirty)[deployment], image)["after"] == "nginx:1.29"
    dirty_text = run_kgit("plan", *args, "--dirty", kubeconfig=kubeconfig).stdout
    assert "uncommitted changes in the work tree" in dirty_text.splitlines()[0]
    clean = run_kgit("plan", *args, "-f", "json", kubeconfig=kubeconfig).json()
    assert clean["source"]["dirty"] is False
    assert field(changes_by_key(clean)[deployment], image)["after"] == "nginx:1.28"

    # --path replaces kgit.yaml's paths: alone, apps/other drops the namespace it needs.
    alone = run_kgit("plan", *args, "--path", "apps/other", "-f", "json", kubeconfig=kubeconfig)
    assert alone.code == 1
    assert f"Namespace/{ns} is removed from Git but ConfigMap/{ns}/other" in alone.stderr
    paths = ("--path", "apps/other", "--path", "apps/web")
    other = run_kgit("plan", *args, *paths, "-f", "json", kubeconfig=kubeconfig)
    assert other.json()["source"]["paths"] == ["apps/other", "apps/web"]
    assert changes_by_key(other.json())[f"/ConfigMap/{ns}/other"]["action"] == "create"
