"""No phantom diffs, Terraform's exit codes, and bad input reported by file and line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml
from kgitlib import GitRepo, cluster_for, run_kgit
from planlib import assert_clean_failure, plan_json

if TYPE_CHECKING:
    from pathlib import Path

    from planlib import Leftovers

pytestmark = pytest.mark.integration


def nginx(namespace: str, cpu: str, **container: str) -> str:
    """Flux's classic demo: a Namespace, a Deployment with 2 replicas, a LoadBalancer.

    ``cpu`` is the container's CPU request; ``container`` adds fields to the container.
    """
    labels = {"app": "nginx"}
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": namespace},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "nginx",
                                "image": "nginx:1.27",
                                "ports": [{"containerPort": 80}],
                                "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}},
                                **container,
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "nginx", "namespace": namespace},
            "spec": {
                "type": "LoadBalancer",
                "selector": labels,
                "ports": [{"port": 80, "targetPort": 80}],
            },
        },
    ]
    return yaml.safe_dump_all(docs, sort_keys=False)


def test_nginx_applied_then_planned_has_no_changes(
    kubeconfig: str, unique: str, tmp_path: Path, leftovers: Leftovers
) -> None:
    ns, stack = leftovers.namespace(f"{unique}-web"), leftovers.stack(unique)
    repo = GitRepo(tmp_path / "repo")
    repo.write("web.yaml", nginx(ns, "1000m"))
    repo.commit("nginx")
    args = ("-C", str(repo.root), "--stack", stack)

    first = run_kgit("plan", *args, "--detailed-exitcode", kubeconfig=kubeconfig)
    assert first.code == 2, first.output
    assert "Plan: 3 to add, 0 to change, 0 to delete." in first.stdout
    applied = run_kgit("apply", *args, "--auto-approve", kubeconfig=kubeconfig)
    assert applied.code == 0, applied.output

    # The server defaulted dozens of fields (strategy, probes' neighbours, clusterIP,
    # nodePort, protocol, ...); none of them is a change.
    with cluster_for(kubeconfig) as cluster:
        deployments = cluster.resource_for({"apiVersion": "apps/v1", "kind": "Deployment"})
        services = cluster.resource_for({"apiVersion": "v1", "kind": "Service"})
        live = cluster.get(deployments, ns, "nginx")
        service = cluster.get(services, ns, "nginx")
    assert live is not None and service is not None
    assert live["spec"]["strategy"]["type"] == "RollingUpdate"
    assert live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"]
    assert live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "1"
    assert service["spec"]["ports"][0]["nodePort"] and service["spec"]["clusterIP"]

    again = run_kgit("plan", *args, "--detailed-exitcode", kubeconfig=kubeconfig)
    assert again.code == 0, again.output
    assert again.stdout.startswith("No changes."), again.stdout
    assert plan_json(repo.root, stack, kubeconfig=kubeconfig)["unchanged"] == 3

    # `cpu: "1"` is what the server stored for `1000m`: no change. Writing out a default
    # the server already applied (imagePullPolicy, protocol) is none either, though it
    # makes the local comparison ask the server (a dry-run) to be sure.
    repo.write("web.yaml", nginx(ns, "1"))
    repo.commit("cpu as a whole number")
    same = run_kgit("plan", *args, "--detailed-exitcode", kubeconfig=kubeconfig)
    assert same.code == 0, same.output
    repo.write("web.yaml", nginx(ns, "1", imagePullPolicy="IfNotPresent"))
    repo.commit("explicit default")
    explicit = plan_json(repo.root, stack, "--detailed-exitcode", kubeconfig=kubeconfig)
    assert explicit["changes"] == [] and explicit["unchanged"] == 3

    # A real change: exit 2 with --detailed-exitcode, 0 without it.
    repo.write("web.yaml", nginx(ns, "500m"))
    repo.commit("less cpu")
    changed = run_kgit("plan", *args, "--detailed-exitcode", "-f", "json", kubeconfig=kubeconfig)
    assert changed.code == 2, changed.output
    [change] = changed.json()["changes"]
    assert change["key"] == f"apps/Deployment/{ns}/nginx"
    assert [(f["path"], f["before"], f["after"]) for f in change["fields"]] == [
        ("spec.template.spec.containers[name=nginx].resources.requests.cpu", "1", "500m")
    ]
    assert run_kgit("plan", *args, kubeconfig=kubeconfig).code == 0

    # An error is 1, with or without --detailed-exitcode.
    broken = run_kgit("plan", *args, "--detailed-exitcode", "--ref", "nope", kubeconfig=kubeconfig)
    assert_clean_failure(broken)


BAD_INPUT = {
    # path: (content, the message's start)
    "yaml/bad.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [oops\n",
        "yaml/bad.yaml:6: invalid YAML",
    ),
    "noname/cm.yaml": (
        "# a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
        "noname/cm.yaml:6: metadata.name is missing",
    ),
    "unknown/widget.yaml": (
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
        "unknown/widget.yaml:1: Kind example.com/Widget is not known to the cluster",
    ),
    "dupkey/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\n  name: k2\n",
        "dupkey/cm.yaml:5: duplicate key 'name'",
    ),
    "dupobject/b.yaml": (
        "---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice}\n",
        "dupobject/b.yaml:3: ConfigMap/default/twice is also defined at dupobject/a.yaml:1",
    ),
}


def test_bad_input_exits_1_naming_file_and_line(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("dupobject/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice}\n")
    for path, (text, _) in BAD_INPUT.items():
        repo.write(path, text)
    repo.commit("bad input")
    for path, (_, message) in BAD_INPUT.items():
        directory = path.split("/")[0]
        run = run_kgit(
            "plan", "-C", str(repo.root), "--stack", unique, "--path", directory,
            "--detailed-exitcode", kubeconfig=kubeconfig,
        )  # fmt: skip
        assert_clean_failure(run)
        assert run.stderr.startswith(f"Error: {message}"), run.stderr
