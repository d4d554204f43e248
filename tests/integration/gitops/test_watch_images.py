"""kgit watch --images: an image round before the sync round, against a real docker-registry,
a bare repository over file:// and the session's control plane."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import deployment, free_port, namespace, run_kgit
from registrylib import Registry

from kgit.state.store import STATE_NAMESPACE
from kgit.watch.status import read_status

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from gitopslib import Remote

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """An open docker-registry on loopback (plain http)."""
    running = Registry(tmp_path / "registry")
    yield running
    running.stop()


def automated(ns: str, name: str, image: str) -> dict[str, Any]:
    """A Deployment whose container ``app`` follows ``semver:~1``."""
    manifest = deployment(ns, name, image)
    manifest["metadata"]["annotations"] = {
        "kgit.dev/automated": "true",
        "kgit.dev/tag.app": "semver:~1",
    }
    return manifest


def bare_git(remote: Remote, *args: str) -> bytes:
    """Run git in the bare repository; its stdout."""
    return subprocess.run(
        ["git", "-C", str(remote.bare), *args], check=True, capture_output=True
    ).stdout


def test_watch_images_once_updates_git_and_the_cluster_in_one_round(
    kubeconfig: str,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    env: dict[str, str],
    registry: Registry,
) -> None:
    ns, reg, down = unique, registry.host, f"127.0.0.1:{free_port()}"
    registry.push(f"{unique}/app", "v1.0.0", "v1.1.0", "v2.0.0")
    remote.write(
        "apps/app.yaml",
        namespace(ns),
        automated(ns, "app", f"{reg}/{unique}/app:v1.0.0"),
        automated(ns, "down", f"{down}/{unique}/down:v1.0.0"),
    )
    first = remote.push("v1")
    before = bare_git(remote, "show", f"{first}:apps/app.yaml")

    def watch_once() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        # No --git-ref: the image commit goes to the remote's default branch, main.
        args = ["--git-url", remote.file_url, "--path", "apps", "--stack", unique]
        done = run_kgit(
            "watch", "--images", "--once", "--auto-apply", "all", "--log-format", "json", *args,
            kubeconfig=kubeconfig, cwd=tmp_path, env=env,
        )  # fmt: skip
        assert done.code == 0, done.output
        *errors, round_ = [json.loads(line) for line in done.stdout.splitlines()]
        return errors, round_

    errors, round_ = watch_once()
    new = bare_git(remote, "rev-parse", "main").decode().strip()
    assert new != first
    assert bare_git(remote, "rev-parse", f"{new}^").decode().strip() == first

    # One round: the image commit is pushed, then planned and applied.
    assert (round_["result"], round_["commit"], round_["add"]) == ("applied", new, 3), round_
    assert round_["images"] == [
        f"Deployment/{ns}/app (app): {reg}/{unique}/app:v1.0.0 -> v1.1.0"
    ], round_
    # The unreachable registry is one logged line; the other image still updated.
    assert round_["image_errors"] == 1
    assert [(e["msg"], e["commit"]) for e in errors] == [("image error", new)], errors
    assert down in errors[0]["error"] and f"Deployment/{ns}/down (app)" in errors[0]["error"]

    # Git: only the one image line changed, byte for byte.
    after = bare_git(remote, "show", f"{new}:apps/app.yaml")
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert changed == [
        (
            f"        image: {reg}/{unique}/app:v1.0.0\n".encode(),
            f"        image: {reg}/{unique}/app:v1.1.0\n".encode(),
        )
    ]
    assert bare_git(remote, "diff", "--name-only", first, new) == b"apps/app.yaml\n"

    # The cluster: the Deployment runs the new tag, and the status names the new commit.
    found = cluster.resources().lookup("apps", "Deployment")
    assert found is not None
    live = cluster.get(found, ns, "app")
    assert live is not None
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == (
        f"{reg}/{unique}/app:v1.1.0"
    )
    status = read_status(cluster, STATE_NAMESPACE, unique)
    assert status is not None and status.applied == new

    # A second round has nothing to do: no commit, no change, exit 0.
    errors, round_ = watch_once()
    assert (round_["result"], round_["commit"], round_["images"]) == ("unchanged", new, [])
    assert len(errors) == 1
    assert bare_git(remote, "rev-parse", "main").decode().strip() == new
