"""kgit images list|update and the annotation verbs, end to end: real registries, real Git,
the real CLI, and the session's control plane for the plan that follows an update.

One scenario holds every acceptance line: semver, glob and regex policies, a locked
workload, an unreachable registry, a registry asking for basic auth (credentials from a
pull Secret in the cluster), and a workload annotated only with Flux v1's annotations.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import cluster_for, free_port, git, run_kgit
from registrylib import USER

from kgit.cluster import SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from kgitlib import Run
    from registrylib import Registry

pytestmark = pytest.mark.integration


def deployment(name: str, ns: str, annotations: str, containers: str, init: str = "") -> str:
    """A Deployment manifest; ``annotations``, ``containers`` and ``init`` are YAML lines."""
    meta = f"  annotations:\n{annotations}" if annotations else ""
    init_block = f"      initContainers:\n{init}" if init else ""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
        f"  namespace: {ns}\n{meta}spec:\n  selector:\n    matchLabels: {{app: {name}}}\n"
        f"  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n"
        f"{init_block}      containers:\n{containers}"
    )


def write_repo(work: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (work / name).write_text(text)


def pull_secret(registry: Registry) -> dict[str, Any]:
    auth = base64.b64encode(f"{USER.name}:{USER.password}".encode()).decode()
    config = json.dumps({"auths": {registry.host: {"auth": auth}}})
    return {"type": "kubernetes.io/dockerconfigjson", ".dockerconfigjson": config}


def changed_lines(before: bytes, after: bytes) -> list[tuple[int, bytes, bytes]]:
    """(line number, old, new) of every line that differs; the line counts must agree."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(i + 1, a, b) for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def test_images_update_round_trip(
    tmp_path: Path,
    unique: str,
    kubeconfig: str,
    registry: Registry,
    basic_registry: Registry,
    isolated_env: dict[str, str],
) -> None:
    ns, reg, private = unique, registry.host, basic_registry.host
    registry.push(f"{unique}/app", "v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v2.0.0")
    registry.push(f"{unique}/web", "1.0-alpine", "1.2-alpine", "1.10-alpine", "2.0-alpine", "1.10")
    registry.push(f"{unique}/worker", "build-7", "build-12", "build-9", "build-12-debug")
    registry.push(f"{unique}/podinfo", "3.0.0", "3.1.0", "3.1.5", "3.2.0")
    registry.push(f"{unique}/alpine", "3.9", "3.10", "3.10.3", "3.11")
    basic_registry.push(f"{unique}/private", "1.0.0", "1.3.0", "2.0.0")
    down = f"127.0.0.1:{free_port()}"

    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(work))
    git(work, "checkout", "-q", "-b", "main")
    for key, value in (("user.name", "kgit test"), ("user.email", "test@kgit.dev")):
        git(work, "config", key, value)
    write_repo(
        work,
        {
            "kgit.yaml": f"stack: {unique}\ndefaultNamespace: {ns}\n",
            "namespace.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n",
            "app.yaml": "# The app: semver:~1 keeps it on v1 releases.\n"
            + deployment(
                "app",
                ns,
                '    kgit.dev/automated: "true"\n    kgit.dev/tag.app: semver:~1\n',
                f'        - name: app\n          image: "{reg}/{unique}/app:v1.0.0"  # bumped by kgit\n'
                "          ports:\n            - containerPort: 8080\n",
            ),
            "web.yaml": deployment(
                "web",
                ns,
                "    kgit.dev/automated: 'true'\n    kgit.dev/tag.web: 'glob:1.*-alpine'\n",
                f"      - name: web\n        image: {reg}/{unique}/web:1.0-alpine\n",
            ),
            "worker.yaml": (
                f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: worker\n"
                f'  annotations:\n    kgit.dev/automated: "true"\n'
                f"    kgit.dev/tag.worker: regex:^build-\\d+$\nspec:\n  schedule: '0 1 * * *'\n"
                f"  jobTemplate:\n    spec:\n      template:\n        spec:\n"
                f"          restartPolicy: OnFailure\n          containers:\n"
                f"          - name: worker\n            image: {reg}/{unique}/worker:build-7\n"
            ),
            "locked.yaml": deployment(
                "locked",
                ns,
                '    kgit.dev/automated: "true"\n    kgit.dev/locked: "true"\n'
                "    kgit.dev/tag.locked: semver:~1\n",
                f"      - name: locked\n        image: {reg}/{unique}/app:v1.0.0\n",
            ),
            "down.yaml": deployment(
                "down",
                ns,
                '    kgit.dev/automated: "true"\n',
                f"      - name: down\n        image: {down}/x/down:1.0\n",
            ),
            "private.yaml": deployment(
                "private",
                ns,
                '    kgit.dev/automated: "true"\n    kgit.dev/tag.private: semver:^1\n',
                f"      - name: private\n        image: {private}/{unique}/private:1.0.0\n",
            ),
            # Flux v1's getting-started example, annotations as Flux wrote them.
            "podinfo.yaml": deployment(
                "podinfo",
                ns,
                '    fluxcd.io/automated: "true"\n    fluxcd.io/tag.init: regex:^3.10.*\n'
                "    fluxcd.io/tag.podinfod: semver:~3.1\n",
                f"      - name: podinfod\n        image: {reg}/{unique}/podinfo:3.1.0\n",
                init=f"      - name: init\n        image: {reg}/{unique}/alpine:3.10\n"
                "        command: [sh, -c, 'true']\n",
            ),
        },
    )
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "workloads")
    git(work, "push", "-q", "-u", "origin", "main")
    base = git(work, "rev-parse", "HEAD")
    originals = {path.name: path.read_bytes() for path in work.glob("*.yaml")}

    def kgit(*args: str) -> Run:
        return run_kgit(*args, "-C", str(work), kubeconfig=kubeconfig, env=isolated_env)

    applied = kgit("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    with cluster_for(kubeconfig) as cluster:
        secret = pull_secret(basic_registry)
        cluster.create(
            SECRET,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "regcred", "namespace": ns},
                "type": secret["type"],
                "stringData": {".dockerconfigjson": secret[".dockerconfigjson"]},
            },
        )
    creds = ("--pull-secret", f"{ns}/regcred")

    # kgit images list: every automated container, newest allowed tag, policy.
    listed = kgit("images", "list", "--format", "json", *creds)
    assert listed.code == 1, listed.output  # the unreachable registry
    rows = {(r["workload"], r["container"]): r for r in listed.json()["containers"]}
    expect = {
        ("Deployment", "app", "app"): ("v1.0.0", "v1.1.0", "semver:~1", "update"),
        ("Deployment", "web", "web"): ("1.0-alpine", "1.10-alpine", "glob:1.*-alpine", "update"),
        ("CronJob", "worker", "worker"): ("build-7", "build-12", "regex:^build-\\d+$", "update"),
        ("Deployment", "locked", "locked"): ("v1.0.0", "v1.1.0", "semver:~1", "locked"),
        ("Deployment", "down", "down"): ("1.0", None, "glob:*", "error"),
        ("Deployment", "private", "private"): ("1.0.0", "1.3.0", "semver:^1", "update"),
        ("Deployment", "podinfo", "init"): ("3.10", "3.10.3", "regex:^3.10.*", "update"),
        ("Deployment", "podinfo", "podinfod"): ("3.1.0", "3.1.5", "semver:~3.1", "update"),
    }
    assert set(rows) == {(f"{k}/{ns}/{n}", c) for k, n, c in expect}
    for (kind, name, container), values in expect.items():
        row = rows[(f"{kind}/{ns}/{name}", container)]
        assert (row["current_tag"], row["newest_tag"], row["policy"], row["action"]) == values
    assert f"Error: {down}/x/down: cannot reach {down}" in listed.stderr
    # The same credentials from a Docker config file, and the human table.
    docker_config = tmp_path / "config.json"
    docker_config.write_text(pull_secret(basic_registry)[".dockerconfigjson"])
    table = kgit("images", "list", "--docker-config", str(docker_config))
    assert table.code == 1, table.output
    [private_row] = [
        line.split()
        for line in table.stdout.splitlines()
        if line.startswith(f"Deployment/{ns}/private")
    ]
    assert private_row == [
        f"Deployment/{ns}/private",
        "private",
        "1.0.0",
        "1.3.0",
        "semver:^1",
        "update",
    ]

    # kgit images update: the others update although one registry is down; exit 1.
    updated = kgit("images", "update", *creds)
    assert updated.code == 1, updated.output
    assert f"{down}/x/down: cannot reach" in updated.stderr
    assert f"[used by Deployment/{ns}/down (down)]" in updated.stderr
    head = git(work, "rev-parse", "HEAD")
    assert git(origin, "rev-parse", "main") == head != base
    assert git(work, "rev-parse", "HEAD~1") == base
    message = git(work, "log", "-1", "--format=%B")
    assert message.startswith("Update 6 images\n")
    assert (
        f"- Deployment/{ns}/app (app): {reg}/{unique}/app:v1.0.0 -> v1.1.0 (semver:~1)" in message
    )
    assert git(work, "status", "--porcelain") == ""

    # Byte for byte, only the image lines changed.
    now = {path.name: path.read_bytes() for path in work.glob("*.yaml")}
    assert [c[1:] for c in changed_lines(originals["app.yaml"], now["app.yaml"])] == [
        (
            f'          image: "{reg}/{unique}/app:v1.0.0"  # bumped by kgit\n'.encode(),
            f'          image: "{reg}/{unique}/app:v1.1.0"  # bumped by kgit\n'.encode(),
        )
    ]
    assert [c[2] for c in changed_lines(originals["web.yaml"], now["web.yaml"])] == [
        f"        image: {reg}/{unique}/web:1.10-alpine\n".encode()
    ]
    assert [c[2] for c in changed_lines(originals["worker.yaml"], now["worker.yaml"])] == [
        f"            image: {reg}/{unique}/worker:build-12\n".encode()
    ]
    assert [c[2] for c in changed_lines(originals["private.yaml"], now["private.yaml"])] == [
        f"        image: {private}/{unique}/private:1.3.0\n".encode()
    ]
    assert [c[2] for c in changed_lines(originals["podinfo.yaml"], now["podinfo.yaml"])] == [
        f"        image: {reg}/{unique}/alpine:3.10.3\n".encode(),
        f"        image: {reg}/{unique}/podinfo:3.1.5\n".encode(),
    ]
    for unchanged in ("locked.yaml", "down.yaml", "namespace.yaml", "kgit.yaml"):
        assert now.get(unchanged, originals.get(unchanged)) == originals.get(unchanged)

    # The update is an ordinary commit: kgit plan shows the Deployment's new image.
    planned = kgit("plan", "--format", "json")
    assert planned.code == 0, planned.output
    changes = {c["key"]: c for c in planned.json()["changes"]}
    app = changes[f"apps/Deployment/{ns}/app"]
    assert app["action"] == "update"
    [image_field] = [f for f in app["fields"] if f["path"].endswith(".image")]
    assert (image_field["before"], image_field["after"]) == (
        f"{reg}/{unique}/app:v1.0.0",
        f"{reg}/{unique}/app:v1.1.0",
    )
    assert {key for key, c in changes.items() if c["action"] != "no-op"} == {
        f"apps/Deployment/{ns}/{name}" for name in ("app", "web", "private", "podinfo")
    } | {f"batch/CronJob/{ns}/worker"}

    # The annotation verbs edit Git the same way, keeping the prefix a file uses.
    locked = kgit("lock", f"{ns}:deployment/podinfo")
    assert locked.code == 0, locked.output
    podinfo = (work / "podinfo.yaml").read_bytes()
    assert b'    fluxcd.io/locked: "true"\n' in podinfo
    assert podinfo.replace(b'    fluxcd.io/locked: "true"\n', b"") == now["podinfo.yaml"]
    assert kgit("deautomate", f"Deployment/{ns}/down").code == 0
    assert b"automated" not in (work / "down.yaml").read_bytes()
    policy = kgit("policy", f"{ns}:deployment/app", "--tag-all", "semver:^2")
    assert policy.code == 0, policy.output
    again = kgit("images", "update", "--refresh", *creds)
    assert again.code == 0, again.output
    assert f'image: "{reg}/{unique}/app:v2.0.0"' in (work / "app.yaml").read_text()
    assert git(origin, "rev-parse", "main") == git(work, "rev-parse", "HEAD")
    assert git(work, "log", "--format=%s", f"{head}..HEAD").splitlines() == [
        f"Update image {reg}/{unique}/app:v2.0.0",
        f"Deployment/{ns}/app: tag policy app=semver:^2",
        f"Deployment/{ns}/down: deautomated",
        f"Deployment/{ns}/podinfo: locked",
    ]
