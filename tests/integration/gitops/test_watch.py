"""kgit watch and kgit sync against the real control plane: rounds that follow Git, prune,
park risky plans for approval, survive outages and stop cleanly."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import yaml
from gitopslib import TcpRelay, kubeconfig_via, watching
from kgitlib import configmap, deployment, namespace, run_kgit, wait_for

from kgit.cluster import CONFIGMAP
from kgit.manifests.normalize import STACK_LABEL
from kgit.plan.store import plan_to_json, read_plan
from kgit.state.lock import describe_lock
from kgit.state.store import STATE_NAMESPACE, load_state
from kgit.watch.status import pending_plan, read_status

if TYPE_CHECKING:
    from pathlib import Path

    from gitopslib import Remote

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def source_args(remote: Remote, stack: str) -> list[str]:
    """The watch options naming the remote, its main branch and the stack."""
    return ["--git-url", remote.file_url, "--git-ref", "main", "--path", "apps", "--stack", stack]


def image(cluster: Cluster, ns: str) -> str:
    """The image of Deployment ``web``'s container."""
    found = cluster.resources().lookup("apps", "Deployment")
    assert found is not None
    obj = cluster.get(found, ns, "web")
    assert obj is not None
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def test_watch_follows_git_prunes_and_survives_outages(
    kubeconfig: str,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    env: dict[str, str],
) -> None:
    ns = unique
    remote.write("apps/web.yaml", namespace(ns), deployment(ns, "web", "nginx:v1"))
    remote.write("apps/extra.yaml", configmap(ns, "extra", a="1"))
    first = remote.push("v1")

    # The watcher reaches the API server through a relay the test can cut.
    with open(kubeconfig, encoding="utf-8") as given:
        server = urlsplit(yaml.safe_load(given)["clusters"][0]["cluster"]["server"])
    relay = TcpRelay(server.hostname or "127.0.0.1", server.port or 443)
    relay.start()
    relayed = kubeconfig_via(
        kubeconfig, tmp_path / "relayed.kubeconfig", server=f"https://127.0.0.1:{relay.port}"
    )
    args = [*source_args(remote, unique), "--interval", "2s", "--auto-apply", "all"]
    try:
        with watching(args, env={**env, "KUBECONFIG": relayed}, cwd=tmp_path) as watcher:
            round_ = watcher.next_round(lambda r: r["commit"] == first)
            assert (round_["result"], round_["add"], round_["trigger"]) == ("applied", 3, "start")
            assert image(cluster, ns) == "nginx:v1"

            # A pushed commit is applied at the next round.
            remote.write("apps/web.yaml", namespace(ns), deployment(ns, "web", "nginx:v2"))
            second = remote.push("v2")
            round_ = watcher.next_round(lambda r: r["commit"] == second)
            assert (round_["result"], round_["change"]) == ("applied", 1), round_
            assert image(cluster, ns) == "nginx:v2"

            # With --auto-apply all, a manifest removed from Git is pruned.
            remote.work.remove("apps/extra.yaml")
            third = remote.push("no extra")
            round_ = watcher.next_round(lambda r: r["commit"] == third)
            assert (round_["result"], round_["delete"]) == ("applied", 1), round_
            assert cluster.get(CONFIGMAP, ns, "extra") is None

            # The API server unreachable for a round: logged, and the next one recovers.
            relay.stop()
            round_ = watcher.next_round(lambda r: r["result"] == "failed")
            assert "cannot reach the API server" in round_["error"], round_
            relay.start()
            round_ = watcher.next_round(lambda r: r["result"] != "failed")
            assert (round_["result"], round_["commit"]) == ("unchanged", third)

            # Git unreachable for a round: the same.
            moved = remote.bare.rename(remote.bare.with_name("moved.git"))
            round_ = watcher.next_round(lambda r: r["result"] == "failed")
            assert f"{remote.file_url}: git fetch failed" in round_["error"], round_
            moved.rename(remote.bare)
            round_ = watcher.next_round(lambda r: r["result"] != "failed")
            assert round_["result"] == "unchanged"

            status = read_status(cluster, STATE_NAMESPACE, unique)
            assert status is not None
            assert (status.applied, status.result, status.mode) == (third, "unchanged", "all")

            # SIGTERM between rounds: a clean stop.
            assert watcher.stop() == 0
    finally:
        relay.stop()


def test_safe_mode_parks_deletions_and_sync_applies_now(
    kubeconfig: str,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    env: dict[str, str],
) -> None:
    ns = unique
    remote.write(
        "apps/app.yaml", namespace(ns), configmap(ns, "app", tier="v1"), configmap(ns, "old")
    )
    first = remote.push("v1")
    workdir = tmp_path / "watcher"
    workdir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def kgit(*args: str) -> tuple[int, str, float]:
        started = time.monotonic()
        done = run_kgit(*args, kubeconfig=kubeconfig, cwd=elsewhere, env=env)
        return done.code, done.output, time.monotonic() - started

    # A long interval: only kgit sync makes the watcher act within this test.
    args = [*source_args(remote, unique), "--interval", "10m"]
    with watching(args, env={**env, "KUBECONFIG": kubeconfig}, cwd=workdir) as watcher:
        round_ = watcher.next_round()
        assert (round_["result"], round_["commit"]) == ("applied", first), round_

        # safe (the default): a plan that deletes waits for approval.
        remote.write("apps/app.yaml", namespace(ns), configmap(ns, "app", tier="v1"))
        second = remote.push("drop old")
        code, out, took = kgit("sync", "--stack", unique, "--timeout", "60")
        assert code == 2, out
        assert f"Revision of main to apply is {second}\n" in out
        assert (
            f"waits for approval (0 to add, 0 to change, 1 to delete): kgit apply --pending --stack {unique}"
            in out
        )
        round_ = watcher.next_round()
        assert (round_["result"], round_["delete"], round_["trigger"]) == ("pending", 1, "sync")
        assert cluster.get(CONFIGMAP, ns, "old") is not None

        # The plan is stored under plans/ and, the same, in the status ConfigMap.
        stored = read_plan(workdir / round_["plan"])
        status = read_status(cluster, STATE_NAMESPACE, unique)
        assert status is not None and status.pending_commit == second
        pending = pending_plan(status)
        assert pending is not None and plan_to_json(pending) == plan_to_json(stored)

        # A person applies it, from a directory without any checkout.
        code, out, _ = kgit("apply", "--pending", "--stack", unique)
        assert code == 0, out
        assert "Resources: 0 added, 0 changed, 1 deleted." in out
        assert cluster.get(CONFIGMAP, ns, "old") is None

        # kgit sync: a new commit applied at once, well under one interval.
        remote.write("apps/app.yaml", namespace(ns), configmap(ns, "app", tier="v2"))
        third = remote.push("v2")
        code, out, took = kgit("sync", "--stack", unique, "--timeout", "60")
        assert code == 0, out
        assert out.splitlines() == [
            f"Revision of main to apply is {third}",
            f"Waiting for {third} to be applied ...",
            "Done.",
        ]
        assert took < 30, f"kgit sync took {took:.1f}s"
        obj = cluster.get(CONFIGMAP, ns, "app")
        assert obj is not None and obj["data"] == {"tier": "v2"}
        round_ = watcher.next_round()
        assert (round_["result"], round_["commit"], round_["trigger"]) == ("applied", third, "sync")
        status = read_status(cluster, STATE_NAMESPACE, unique)
        assert status is not None and not status.pending_plan and status.applied == third
        assert watcher.stop() == 0


def test_sigterm_during_an_apply_leaves_a_consistent_state(
    kubeconfig: str,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    env: dict[str, str],
) -> None:
    ns, count = unique, 500
    remote.write("apps/namespace.yaml", namespace(ns))
    remote.write("apps/many.yaml", *(configmap(ns, f"cm-{i:03d}", i=str(i)) for i in range(count)))
    remote.push("many")
    args = [*source_args(remote, unique), "--once", "--auto-apply", "all"]
    environ = {**env, "KUBECONFIG": kubeconfig}
    selector = f"{STACK_LABEL}={unique}"

    def ours() -> set[str]:
        items = cluster.list_kind(CONFIGMAP, ns, label_selector=selector, metadata_only=True)
        return {str(item["metadata"]["name"]) for item in items}

    with watching(args, env=environ, cwd=tmp_path) as watcher:
        wait_for(ours, "the apply to create ConfigMaps", timeout=120)
        watcher.process.send_signal(signal.SIGTERM)
        round_ = watcher.next_round()
        assert round_["result"] == "interrupted", round_
        assert watcher.process.wait(60) == 1

    # The state records exactly what is in the cluster, nothing half-recorded, and the
    # lock is released.
    state = load_state(cluster, unique).state
    recorded = {key.name for key in state.objects if key.kind == "ConfigMap"}
    assert recorded == ours()
    assert 0 < len(recorded) < count
    assert not [key for key, obj in state.objects.items() if obj.pending]
    assert describe_lock(cluster, unique) is None

    # The next round, run here by kgit sync --local, finishes the job.
    local = [*source_args(remote, unique), "--auto-apply", "all"]
    done = run_kgit("sync", "--local", *local, kubeconfig=kubeconfig, cwd=tmp_path, env=env)
    assert done.code == 0, done.output
    assert done.stdout.splitlines()[-1] == "Done."
    assert len(ours()) == count
