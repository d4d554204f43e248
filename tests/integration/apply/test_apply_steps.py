"""What an apply does per object: order of steps, failures, deletions and --wait."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import configmap, deployment, namespace

from kgit.cluster import CONFIGMAP, NAMESPACE, SECRET
from kgit.state.store import load_state

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

# The step of each kind in apply order (DESIGN.md "Apply", 3).
STEP = {
    "Namespace": 0,
    "ClusterRole": 2,
    "ClusterRoleBinding": 3,
    "ServiceAccount": 4,
    "ConfigMap": 5,
    "Secret": 5,
    "Deployment": 7,
    "Service": 7,
}


def rbac(unique: str, ns: str) -> list[dict[str, Any]]:
    """A ClusterRole and a binding of it to a ServiceAccount."""
    group = "rbac.authorization.k8s.io"
    return [
        {
            "apiVersion": f"{group}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"{unique}-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
        {
            "apiVersion": f"{group}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{unique}-reader"},
            "roleRef": {"apiGroup": group, "kind": "ClusterRole", "name": f"{unique}-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": ns}],
        },
    ]


def service(ns: str, name: str) -> dict[str, Any]:
    """A ClusterIP Service."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


def results(stdout: str, verb: str) -> list[tuple[str, str]]:
    """(Kind, subject) of each ``Kind/...: <verb>`` line, in the order printed."""
    found = []
    for line in stdout.splitlines():
        subject, _, rest = line.partition(": ")
        if rest.startswith(verb) and "/" in subject:
            found.append((subject.split("/")[0], subject))
    return found


def test_steps_failures_and_deletions(stack: Stack, cluster: Cluster, unique: str) -> None:
    ns = unique
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": ns},
        "stringData": {"password": "hunter2"},
    }
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "app", "namespace": ns},
    }
    stack.write("cluster.yaml", *rbac(unique, ns))
    stack.write(
        "app.yaml",
        service(ns, "web"),
        deployment(ns, "web"),
        configmap(ns, "settings", level="1"),
        secret,
        sa,
        namespace(ns),
    )
    # Invalid (a data key with a space), and not dry-run at plan: its namespace is new.
    stack.write("orphan.yaml", configmap(ns, "orphan", **{"bad key": "1"}))
    stack.repo.commit()

    done = stack.kgit("apply", "--auto-approve")
    assert done.code == 1, done.output
    # The object, then the API server's own message.
    assert f'ConfigMap/{ns}/orphan: failed: ConfigMap "orphan" is invalid: ' in done.stdout
    assert "Apply failed: 1 object failed; 8 added, 0 changed, 0 deleted." in done.stdout
    created = results(done.stdout, "created")
    assert len(created) == 8
    steps = [STEP[kind] for kind, _ in created]
    assert steps == sorted(steps), created
    # Confirmed as applied; the failed one stays pending (did the server act? unknown).
    recorded = load_state(cluster, stack.name).state
    status = {k.subject: r.pending for k, r in recorded.objects.items()}
    assert status == {
        **dict.fromkeys((s for _, s in created), False),
        f"ConfigMap/{ns}/orphan": True,
    }
    assert recorded.history[-1].result == "1 failed"

    # The Secret's value reached the cluster, and only its digest the state and the output.
    live = cluster.get(SECRET, ns, "creds")
    assert live is not None and live["data"] == {"password": "aHVudGVyMg=="}
    assert "hunter2" not in done.stdout
    assert "hunter2" not in json.dumps([dict(r.obj) for r in recorded.objects.values()])

    # Everything but the Namespace leaves Git: deleted in reverse order.
    stack.repo.remove("cluster.yaml")
    stack.repo.remove("orphan.yaml")
    stack.write("app.yaml", namespace(ns))
    stack.repo.commit("only the namespace")
    done = stack.apply()
    deleted = results(done.stdout, "deleted")
    assert len(deleted) == 7
    steps = [STEP[kind] for kind, _ in deleted]
    assert steps == sorted(steps, reverse=True), deleted
    assert cluster.get(CONFIGMAP, ns, "settings") is None

    # The Namespace too, with what kgit does not own in it (--allow-cascade): --wait
    # returns only once it is gone, contents and all.
    cluster.create(CONFIGMAP, configmap(ns, "not-kgits", level="1"))
    stack.repo.remove("app.yaml")
    stack.repo.commit("nothing")
    done = stack.apply("--allow-empty", "--allow-cascade", "--wait")
    assert f"Namespace/{ns}: deleted" in done.stdout
    assert cluster.get(NAMESPACE, None, ns) is None
