"""What kgit refuses in GitOps mode: objects outside a namespaced install's reach, and an
SSH server whose host key changed (reliability and security, issue 8)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from gitopslib import kubeconfig_via
from kgitlib import GitRepo, configmap, namespace, run_kgit

from kgit.cluster import CONFIGMAP, NAMESPACE

if TYPE_CHECKING:
    from pathlib import Path

    from gitopslib import Remote, SshServer

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

RBAC = "rbac.authorization.k8s.io"


def cluster_role(name: str) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": name}}


def test_a_namespaced_install_plans_and_applies_only_inside_its_namespace(
    kubeconfig: str, kubectl: Path, cluster: Cluster, unique: str, tmp_path: Path
) -> None:
    team, other = unique, f"{unique}-other"
    printed = run_kgit(
        "install", "--git-url", "file:///srv/git/fleet.git", "--git-path", "team",
        "--stack", unique, "--namespace", team, "--namespaced", kubeconfig=kubeconfig,
    )  # fmt: skip
    assert printed.code == 0, printed.output
    applied = subprocess.run(
        [str(kubectl), "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-"],
        input=printed.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    cluster.server_side_apply(namespace(other))  # exists, and is none of kgit's business
    token = subprocess.run(
        [str(kubectl), "--kubeconfig", kubeconfig, "create", "token", "kgit", "-n", team],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    as_kgit = kubeconfig_via(kubeconfig, tmp_path / "kgit.kubeconfig", token=token)

    repo = GitRepo(tmp_path / "repo")
    repo.write("team/app.yaml", yaml.safe_dump(configmap(team, "app", tier="v1")))
    repo.commit("inside")
    args = ("-C", str(repo.root), "--stack", unique, "--state-namespace", team)
    inside = run_kgit("apply", "--auto-approve", *args, kubeconfig=as_kgit)
    assert inside.code == 0, inside.output

    refusals = {
        "another namespace": (
            configmap(other, "sneaky", a="b"),
            f'cannot list resource "configmaps" in API group "" in the namespace "{other}"',
        ),
        "a cluster-scoped kind": (
            cluster_role(f"{unique}-admin"),
            f'cannot list resource "clusterroles" in API group "{RBAC}" at the cluster scope',
        ),
        "a new namespace": (
            namespace(f"{unique}-new"),
            'cannot list resource "namespaces" in API group "" at the cluster scope',
        ),
    }
    for what, (obj, says) in refusals.items():
        repo.write("team/extra.yaml", yaml.safe_dump(obj))
        repo.commit(what)
        for verb in (("plan",), ("apply", "--auto-approve")):
            run = run_kgit(*verb, *args, kubeconfig=as_kgit)
            assert run.code == 1, (what, run.output)
            assert "Traceback" not in run.output and run.stderr.count("Error:") == 1, run.output
            assert f'User "system:serviceaccount:{team}:kgit" {says}' in run.stderr, run.stderr

    # Nothing outside was touched, and inside nothing changed either.
    assert cluster.get(CONFIGMAP, other, "sneaky") is None
    roles = cluster.resources().lookup(RBAC, "ClusterRole")
    assert roles is not None and cluster.get(roles, None, f"{unique}-admin") is None
    assert cluster.get(NAMESPACE, None, f"{unique}-new") is None
    app = cluster.get(CONFIGMAP, team, "app")
    assert app is not None and app["data"] == {"tier": "v1"}


def test_a_changed_host_key_is_refused(
    kubeconfig: str, sshd: SshServer, remote: Remote, env: dict[str, str], tmp_path: Path
) -> None:
    remote.write("apps/app.yaml", configmap("web", "app", tier="v1"))
    remote.push("v1")
    # known_hosts names another key for the server's host and port: the server's key
    # changed since it was recorded, or someone sits in between.
    impostor = tmp_path / "impostor"
    deploy_key = tmp_path / "deploy"
    for key in (impostor, deploy_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key_type, public_key = impostor.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {key_type} {public_key}\n")
    run = run_kgit(
        "plan", "--git-url", sshd.url(remote.bare), "--known-hosts", str(known),
        "--ssh-key", str(deploy_key), "--stack", "changed-host-key",
        kubeconfig=kubeconfig, env=env,
    )  # fmt: skip
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    assert f"the host key of 127.0.0.1:{sshd.port} CHANGED" in run.stderr, run.stderr
