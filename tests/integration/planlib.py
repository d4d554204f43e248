"""Helpers of the plan tests: run ``kgit plan`` for its JSON, find changes, change the cluster."""

from __future__ import annotations

import subprocess
import textwrap
from typing import TYPE_CHECKING, Any

from kgitlib import Run, run_kgit

from kgit.cluster import CRD, NAMESPACE, SECRET
from kgit.state.chunks import head_name
from kgit.state.store import STATE_NAMESPACE

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Resource


def plan_json(repo: Path, stack: str, *args: str, kubeconfig: str) -> dict[str, Any]:
    """``kgit plan --format json`` of ``repo`` for ``stack``: the plan file's content."""
    run = run_kgit(
        "plan", "-C", str(repo), "--stack", stack, "--format", "json", *args, kubeconfig=kubeconfig
    )
    assert run.code == 0, run.output
    data: dict[str, Any] = run.json()
    return data


def changes_by_key(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The plan's object changes by their ``group/kind/namespace/name`` key."""
    return {c["key"]: c for c in plan["changes"]}


def field(change: dict[str, Any], path: str) -> dict[str, Any]:
    """The field change at ``path`` of one object change (fails when there is none)."""
    found: list[dict[str, Any]] = [f for f in change["fields"] if f["path"] == path]
    assert len(found) == 1, f"{path} not among {[f['path'] for f in change['fields']]}"
    return found[0]


def run_kubectl(binary: Path, kubeconfig: str, *args: str, stdin: str | None = None) -> str:
    """Run the real kubectl, as a user changing the cluster behind kgit's back would."""
    done = subprocess.run(
        [str(binary), "--kubeconfig", kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def configmap(name: str, namespace: str, value: str) -> str:
    """A ConfigMap manifest (one YAML document) with ``data.v: value``."""
    return textwrap.dedent(
        f"""\
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
          namespace: {namespace}
        data:
          v: "{value}"
        """
    )


def assert_clean_failure(run: Run) -> None:
    """Exit 1 with one ``Error:`` message and no Python traceback."""
    assert run.code == 1, run.output
    assert "Traceback" not in run.output, run.output
    assert run.stderr.startswith("Error: "), run.output


class Leftovers:
    """Objects a test makes (directly or through kgit), deleted when it ends, pass or fail."""

    def __init__(self) -> None:
        self.objects: list[tuple[Resource, str | None, str]] = []

    def namespace(self, name: str) -> str:
        self.objects.append((NAMESPACE, None, name))
        return name

    def crd(self, name: str) -> str:
        self.objects.append((CRD, None, name))
        return name

    def stack(self, name: str, state_namespace: str = STATE_NAMESPACE) -> str:
        """A stack whose (small, unchunked) state Secret goes too."""
        self.objects.append((SECRET, state_namespace, head_name(name)))
        return name
