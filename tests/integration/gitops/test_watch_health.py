"""Watch rounds wait for health: the status ConfigMap and the log line say how it ended,
and a failed rollout fails ``kgit watch --once`` and ``kgit sync``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import deployment, namespace, run_kgit

from kgit.state.store import STATE_NAMESPACE
from kgit.watch.status import read_status

if TYPE_CHECKING:
    from pathlib import Path

    from gitopslib import Remote

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def broken(ns: str) -> dict[str, Any]:
    """Deployment ``web`` at an image kwok cannot pull, failing at a 5 s deadline."""
    manifest = deployment(ns, "web", "nginx:v3")
    manifest["spec"]["progressDeadlineSeconds"] = 5
    manifest["spec"]["template"]["metadata"]["annotations"] = {"kwok.kgit.dev/fail": "image-pull"}
    return manifest


def test_a_failed_rollout_fails_the_round_and_sync_reports_it(
    kubeconfig: str,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    env: dict[str, str],
) -> None:
    ns = unique
    source = ["--git-url", remote.file_url, "--git-ref", "main", "--path", "apps", "--stack", ns]

    def kgit(*args: str) -> Any:
        return run_kgit(*args, *source, kubeconfig=kubeconfig, cwd=tmp_path, env=env)

    remote.write("apps/web.yaml", namespace(ns), deployment(ns, "web", "nginx:v1"))
    remote.push("v1")
    healthy = kgit("watch", "--once", "--interval", "90s", "--log-format", "json")
    assert healthy.code == 0, healthy.output
    line = json.loads(healthy.stdout.splitlines()[-1])
    assert (line["result"], line["health"]) == ("applied", "current: 2 Current"), line
    status = read_status(cluster, STATE_NAMESPACE, ns)
    assert status is not None and status.health == "current: 2 Current"

    remote.write("apps/web.yaml", namespace(ns), broken(ns))
    remote.push("v3")
    failed = kgit("watch", "--once", "--interval", "90s")
    assert failed.code == 1, failed.output
    assert "result=failed" in failed.stdout
    assert 'health="failed: 1 Failed"' in failed.stdout
    status = read_status(cluster, STATE_NAMESPACE, ns)
    assert status is not None
    assert (status.result, status.health) == ("failed", "failed: 1 Failed")
    assert status.error.startswith(
        f"health failed: Deployment/{ns}/web: rollout failed: ProgressDeadlineExceeded; pod web-"
    )
    assert status.error.endswith("ImagePullBackOff (nginx:v3)")

    # The next round finds nothing to apply, and still reports the failed rollout.
    synced = kgit("sync", "--local", "--timeout", "60")
    assert synced.code == 1, synced.output
    assert (
        f"Error: the round failed: health failed: Deployment/{ns}/web: rollout failed"
        in synced.stderr
    )
