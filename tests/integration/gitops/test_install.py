"""kgit install's manifests apply cleanly with server-side apply, and the RBAC they grant
serves the watcher they run: one round with a token of its ServiceAccount."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from gitopslib import kubeconfig_via
from kgitlib import configmap, namespace, run_kgit

from kgit.cluster import CONFIGMAP, ForbiddenError, connect
from kgit.watch.install import KNOWN_HOSTS_DIR
from kgit.watch.status import read_status

if TYPE_CHECKING:
    from pathlib import Path

    from gitopslib import Remote, SshServer
    from kgitlib import Run

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def service_account_token(kubectl: Path, kubeconfig: str, ns: str, name: str) -> str:
    """A short-lived token of ServiceAccount ``ns/name`` (the TokenRequest API)."""
    done = subprocess.run(
        [str(kubectl), "--kubeconfig", kubeconfig, "-n", ns, "create", "token", name,
         "--duration", "600s"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def watcher_args(objects: list[dict[str, Any]], known_hosts: Path) -> list[str]:
    """The kgit arguments of the installed Deployment, with its known_hosts file here."""
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    args = list(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
    if "--known-hosts" in args:
        at = args.index("--known-hosts") + 1
        assert args[at] == f"{KNOWN_HOSTS_DIR}/known_hosts"
        args[at] = str(known_hosts)
    return args


def install_and_run_once(
    *,
    kubeconfig: str,
    kubectl: Path,
    cluster: Cluster,
    install: list[str],
    namespace_: str,
    sshd: SshServer,
    tmp_path: Path,
    env: dict[str, str],
) -> tuple[list[dict[str, Any]], Run]:
    """Install into ``namespace_``, fill the deploy key, run one round as the installed
    ServiceAccount; the manifests and that round."""
    known = sshd.known_hosts(tmp_path / "known_hosts")
    printed = run_kgit(
        "install",
        *install,
        "--namespace",
        namespace_,
        "--known-hosts",
        str(known),
        kubeconfig=kubeconfig,
        env=env,
    )
    assert printed.code == 0, printed.output
    objects = [doc for doc in yaml.safe_load_all(printed.stdout) if doc]

    # What users do: kgit install | kubectl apply --server-side -f -
    applied = subprocess.run(
        [str(kubectl), "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-"],
        input=printed.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    for obj in objects:
        meta = obj["metadata"]
        resource = cluster.resource_for(obj)
        ns = meta.get("namespace") if resource.namespaced else None
        assert cluster.get(resource, ns, meta["name"]) is not None, obj["kind"]

    # kgit identity fills the Secret the manifests left empty; the server trusts its key.
    identity = run_kgit("identity", "--namespace", namespace_, kubeconfig=kubeconfig, env=env)
    assert identity.code == 0, identity.output
    sshd.authorize(identity.stdout)

    token = service_account_token(kubectl, kubeconfig, namespace_, "kgit")
    as_kgit = kubeconfig_via(kubeconfig, tmp_path / f"{namespace_}.kubeconfig", token=token)
    workdir = tmp_path / namespace_
    workdir.mkdir()
    round_ = run_kgit(
        *watcher_args(objects, known), "--once", kubeconfig=as_kgit, cwd=workdir, env=env
    )
    return objects, round_


def rbac_objects(ns: str) -> list[dict[str, Any]]:
    """A ServiceAccount, a ClusterRole (get, list, watch pods) bound to it cluster-wide, and
    a RoleBinding of the built-in ``view`` role in ``ns``."""
    rbac = "rbac.authorization.k8s.io"
    subject = [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}]
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "reader", "namespace": ns},
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"{ns}-pod-reader"},
            "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
            ],
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{ns}-pod-reader"},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": f"{ns}-pod-reader"},
            "subjects": subject,
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "reader-view", "namespace": ns},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "view"},
            "subjects": subject,
        },
    ]


def test_install_applies_and_its_cluster_role_serves_the_watcher(
    kubeconfig: str,
    kubectl: Path,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    sshd: SshServer,
    env: dict[str, str],
) -> None:
    app, home = unique, f"{unique}-kgit"
    remote.write("apps/app.yaml", namespace(app), configmap(app, "app", tier="v1"))
    # Ordinary RBAC in Git: granting `watch`, which kgit's own role does not hold.
    remote.write("apps/rbac.yaml", *rbac_objects(app))
    commit = remote.push("v1")
    install = [
        "--git-url",
        sshd.url(remote.bare),
        "--git-path",
        "apps",
        "--git-branch",
        "main",
        "--stack",
        unique,
        "--interval",
        "1m",
        "--auto-apply",
        "all",
    ]
    objects, round_ = install_and_run_once(
        kubeconfig=kubeconfig,
        kubectl=kubectl,
        cluster=cluster,
        install=install,
        namespace_=home,
        sshd=sshd,
        tmp_path=tmp_path,
        env=env,
    )
    kinds = [o["kind"] for o in objects]
    assert kinds == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Secret",
        "ConfigMap",
        "Deployment",
    ]
    assert round_.code == 0, round_.output
    logged = json.loads(round_.stdout)
    assert (logged["result"], logged["commit"], logged["add"]) == ("applied", commit, 6)
    obj = cluster.get(CONFIGMAP, app, "app")
    assert obj is not None and obj["data"] == {"tier": "v1"}
    status = read_status(cluster, "kgit-system", unique)
    assert status is not None and status.applied == commit


def test_namespaced_install_confines_kgit_to_its_namespace(
    kubeconfig: str,
    kubectl: Path,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    sshd: SshServer,
    env: dict[str, str],
) -> None:
    team = unique
    remote.write("team/app.yaml", configmap(team, "app", tier="v1"))
    # A Role granting `watch` (kgit's own Role does not hold it), and its binding.
    rbac = "rbac.authorization.k8s.io"
    remote.write(
        "team/rbac.yaml",
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": {"name": "pod-watcher", "namespace": team},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]}],
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "pod-watcher", "namespace": team},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "pod-watcher"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": team}],
        },
    )
    commit = remote.push("team")
    install = [
        "--git-url",
        sshd.url(remote.bare),
        "--git-path",
        "team",
        "--git-branch",
        "main",
        "--stack",
        unique,
        "--namespaced",
    ]
    objects, round_ = install_and_run_once(
        kubeconfig=kubeconfig,
        kubectl=kubectl,
        cluster=cluster,
        install=install,
        namespace_=team,
        sshd=sshd,
        tmp_path=tmp_path,
        env=env,
    )
    assert "ClusterRole" not in [o["kind"] for o in objects]
    assert round_.code == 0, round_.output
    logged = json.loads(round_.stdout)
    assert (logged["result"], logged["commit"]) == ("applied", commit)
    obj = cluster.get(CONFIGMAP, team, "app")
    assert obj is not None and obj["data"] == {"tier": "v1"}
    status = read_status(cluster, team, unique)
    assert status is not None and status.applied == commit
    # Nothing outside its namespace: the ServiceAccount may not read kgit-system.
    token = service_account_token(kubectl, kubeconfig, team, "kgit")
    as_kgit = kubeconfig_via(kubeconfig, tmp_path / "check.kubeconfig", token=token)
    with connect(as_kgit) as confined, pytest.raises(ForbiddenError):
        confined.get(CONFIGMAP, "kgit-system", "none")
