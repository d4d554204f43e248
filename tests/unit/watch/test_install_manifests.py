"""kgit install's manifests: what they hold, and the watcher they run."""

from __future__ import annotations

from typing import Any

import pytest

from kgit.errors import ConfigError, SourceError
from kgit.watch.install import InstallOptions, render_install
from kgit.watch.modes import AutoApply

pytestmark = pytest.mark.unit

HOSTS = "[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n"
URL = "ssh://git@git.example.com:2222/fleet.git"


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects}


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec = by_kind(objects)["Deployment"]["spec"]["template"]["spec"]
    found: dict[str, Any] = spec["containers"][0]
    return found


def test_cluster_install_for_an_ssh_source() -> None:
    objects = render_install(
        InstallOptions(
            git_url=URL,
            git_paths=("apps", "infra"),
            git_ref="main",
            namespace="gitops",
            interval="2m",
            known_hosts=HOSTS,
        )
    )
    assert [o["kind"] for o in objects] == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Secret",
        "ConfigMap",
        "Deployment",
    ]
    kinds = by_kind(objects)
    assert kinds["Secret"]["metadata"]["name"] == "kgit-identity"
    assert "data" not in kinds["Secret"]  # kgit identity fills it
    assert kinds["ConfigMap"]["data"] == {"known_hosts": HOSTS}
    binding = kinds["ClusterRoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kgit", "namespace": "gitops"}
    ]
    assert binding["roleRef"]["name"] == kinds["ClusterRole"]["metadata"]["name"] == "kgit-gitops"
    verbs = kinds["ClusterRole"]["rules"][0]["verbs"]
    assert set(verbs) == {"get", "list", "create", "update", "patch", "delete"}
    assert container(objects)["args"] == [
        "watch",
        "--git-url",
        URL,
        "--git-ref",
        "main",
        "--path",
        "apps",
        "--path",
        "infra",
        "--interval",
        "2m",
        "--auto-apply",
        "safe",
        "--log-format",
        "json",
        "--identity-namespace",
        "gitops",
        "--known-hosts",
        "/etc/kgit/ssh/known_hosts",
    ]
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_namespaced_install_uses_a_role_and_keeps_the_state_there() -> None:
    objects = render_install(
        InstallOptions(
            git_url="https://git.example.com/fleet.git",
            namespace="team",
            namespaced=True,
            auto_apply=AutoApply.ALL,
            stack="team",
        )
    )
    kinds = by_kind(objects)
    assert "ClusterRole" not in kinds and "ConfigMap" not in kinds
    assert kinds["Role"]["metadata"]["namespace"] == "team"
    assert kinds["RoleBinding"]["roleRef"]["kind"] == "Role"
    args = container(objects)["args"]
    for flag, value in (
        ("--state-namespace", "team"),
        ("--default-namespace", "team"),
        ("--auto-apply", "all"),
        ("--stack", "team"),
    ):
        assert args[args.index(flag) + 1] == value
    assert "--known-hosts" not in args


def test_the_watcher_reads_its_sops_age_key_from_the_secret_named() -> None:
    url = "https://git.example.com/fleet.git"
    args = container(render_install(InstallOptions(git_url=url, sops_age_secret="kgit-sops-age")))[
        "args"
    ]
    assert args[args.index("--sops-age-secret") + 1] == "kgit/kgit-sops-age"
    assert "--sops-age-secret" not in container(render_install(InstallOptions(git_url=url)))["args"]


def test_an_ssh_source_needs_its_host_key_or_asks_to_skip_the_check() -> None:
    with pytest.raises(ConfigError, match="needs the server's host key"):
        render_install(InstallOptions(git_url=URL))
    objects = render_install(InstallOptions(git_url=URL, insecure_skip_host_key_check=True))
    assert "--insecure-skip-host-key-check" in container(objects)["args"]
    assert "ConfigMap" not in by_kind(objects)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="not a duration"):
        render_install(InstallOptions(git_url="https://h/x", interval="often"))
    with pytest.raises(SourceError, match="not supported"):
        render_install(InstallOptions(git_url="git://h/x"))
