"""Holes of the Flux verbs: credentials in URLs, kgit sync with no watcher, watch --adopt."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest
from kgitlib import configmap, namespace, run_kgit

from kgit.cluster import CONFIGMAP, NAMESPACE
from kgit.state.store import STATE_NAMESPACE
from kgit.watch.status import read_status

if TYPE_CHECKING:
    from pathlib import Path

    from gitopslib import Remote

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_credentials_in_urls_are_never_printed_or_recorded(
    kubeconfig: str, cluster: Cluster, unique: str, tmp_path: Path, env: dict[str, str]
) -> None:
    # A token as the user name (as hosts take them), on a port where nobody listens.
    url = f"https://tok3n{unique}@127.0.0.1:9/fleet.git"
    done = run_kgit(
        "watch", "--once", "--log-format", "json", "--git-url", url, "--stack", unique,
        kubeconfig=kubeconfig, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.code == 1, done.output
    (line,) = [json.loads(x) for x in done.stdout.splitlines()]
    assert line["result"] == "failed"
    assert f"tok3n{unique}" not in done.output
    assert "https://***@127.0.0.1:9/fleet.git" in line["error"]
    status = read_status(cluster, STATE_NAMESPACE, unique)
    assert status is None or f"tok3n{unique}" not in json.dumps(status.error + status.url)

    with_password = run_kgit(
        "plan", "--git-url", f"https://user:s3cret{unique}@127.0.0.1:9/fleet.git",
        kubeconfig=kubeconfig, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert with_password.code == 1
    assert f"s3cret{unique}" not in with_password.output
    assert "https://***@127.0.0.1:9/fleet.git: the URL carries a password" in with_password.stderr


def test_sync_fails_fast_without_a_watcher_and_watch_adopts(
    kubeconfig: str, cluster: Cluster, unique: str, tmp_path: Path, remote: Remote,
    env: dict[str, str],
) -> None:  # fmt: skip
    ns = unique
    remote.write("apps/ns.yaml", namespace(ns))
    remote.push("ns")
    args = ["--git-url", remote.file_url, "--git-ref", "main", "--path", "apps", "--stack", unique]

    def kgit(*more: str) -> tuple[int, str]:
        done = run_kgit(*more, kubeconfig=kubeconfig, cwd=tmp_path, env=env)
        return done.code, done.output

    code, out = kgit("watch", "--once", *args)
    assert code == 0, out

    # A ConfigMap made by hand, then put in Git: the watcher adopts it only with --adopt.
    assert cluster.get(NAMESPACE, None, ns) is not None
    cluster.create(CONFIGMAP, configmap(ns, "by-hand", a="1"))
    remote.write("apps/cm.yaml", configmap(ns, "by-hand", a="1"))
    remote.push("take it over")
    code, out = kgit("watch", "--once", "--auto-apply", "all", *args)
    assert code == 1, out
    assert "--adopt" in out
    code, out = kgit("watch", "--once", "--auto-apply", "all", "--adopt", *args)
    assert code == 0, out
    live = cluster.get(CONFIGMAP, ns, "by-hand")
    assert live is not None and live["metadata"]["labels"]["kgit.dev/stack"] == unique

    # No watcher runs (the last one ran --once): kgit sync says so at once.
    started = time.monotonic()
    code, out = kgit("sync", "--stack", unique, "--timeout", "60")
    assert code == 1, out
    assert "no watcher is running (the last one stopped at" in out
    assert "kgit sync --local" in out
    assert time.monotonic() - started < 20
