"""Helpers of the reliability tests: a stack's manifests, and its state held against the cluster."""

from __future__ import annotations

import base64
import os
import textwrap
from typing import TYPE_CHECKING

from kgit.cluster import CONFIGMAP, NAMESPACE, SECRET, Resource
from kgit.state.store import load_state

if TYPE_CHECKING:
    from kgitlib import Run

    from kgit.cluster import Cluster

DEPLOYMENT = Resource("apps", "v1", "Deployment", "deployments", True)
# Every kind the reliability stacks use.
KINDS = (NAMESPACE, CONFIGMAP, SECRET, DEPLOYMENT)


def stack_manifests(namespace: str, count: int, version: str = "1") -> str:
    """A Namespace, ``count`` ConfigMaps, two Secrets and a Deployment, as one YAML file."""
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"]
    docs += [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03d}\n"
        f'  namespace: {namespace}\ndata:\n  index: "{i}"\n  version: "{version}"\n'
        for i in range(count)
    ]
    token = base64.b64encode(f"token-{version}".encode()).decode()
    docs += [
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds-{i}\n  namespace: {namespace}\n"
        f"data:\n  token: {token}\n"
        for i in range(2)
    ]
    docs.append(
        textwrap.dedent(
            f"""\
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: {namespace}
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
                      image: nginx:{version}
            """
        )
    )
    return "---\n".join(docs)


def state_against_cluster(cluster: Cluster, stack: str, state_namespace: str) -> list[str]:
    """What is wrong between the stack's recorded state and the cluster (empty: nothing).

    Two rules, checked without faults: every object recorded as applied (not pending)
    exists with the recorded uid (nothing recorded that was not applied), and every
    object carrying the stack's label is recorded, applied or pending (nothing applied
    that the state lost track of).
    """
    state = load_state(cluster, stack, state_namespace).state
    problems = []
    for key, record in sorted(state.objects.items()):
        if record.pending:
            continue
        resource = cluster.resources().lookup(key.group, key.kind)
        assert resource is not None, key
        live = cluster.get(resource, key.namespace or None, key.name)
        if live is None:
            problems.append(f"{key.subject}: recorded as applied, absent from the cluster")
        elif record.uid and live["metadata"]["uid"] != record.uid:
            problems.append(
                f"{key.subject}: recorded uid {record.uid}, live {live['metadata']['uid']}"
            )
    recorded = {(k.kind, k.namespace, k.name) for k in state.objects}
    for resource in KINDS:
        for obj in cluster.list_kind(resource, label_selector=f"kgit.dev/stack={stack}"):
            meta = obj["metadata"]
            if (resource.kind, meta.get("namespace", ""), meta["name"]) not in recorded:
                problems.append(
                    f"{resource.kind}/{meta.get('namespace', '')}/{meta['name']}: "
                    "labelled for the stack, not in its state"
                )
    return problems


def kgit_env(kubeconfig: str) -> dict[str, str]:
    """The environment the CLI runs with in a subprocess: the test cluster, no colour."""
    return {**os.environ, "KUBECONFIG": kubeconfig, "NO_COLOR": "1"}


def assert_clean(run: Run) -> None:
    """Exit 0, or exit 1 with an ``Error:`` or per-object failures; never a traceback."""
    assert run.code in (0, 1), run.output
    assert "Traceback" not in run.output, run.output
    assert "Error: unexpected " not in run.stderr, run.output
    if run.code == 1:
        assert "Error: " in run.stderr or ": failed: " in run.stdout, run.output
