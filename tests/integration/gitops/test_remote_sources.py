"""Plan and apply from remote repositories: file://, and SSH through a real sshd with the
deploy key of ``kgit identity``; host keys checked; pushing back over SSH."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest
from kgitlib import configmap, namespace, run_kgit

from kgit.cluster import CONFIGMAP
from kgit.identity import load_identity
from kgit.source.commit import commit_and_push
from kgit.source.remote import SshOptions, git_environment, open_source, parse_git_url

if TYPE_CHECKING:
    from pathlib import Path

    from gitopslib import Remote, SshServer

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_plan_and_apply_over_file_and_ssh(
    kubeconfig: str,
    cluster: Cluster,
    unique: str,
    tmp_path: Path,
    remote: Remote,
    sshd: SshServer,
    env: dict[str, str],
) -> None:
    ns, keys = unique, f"{unique}-kgit"
    stack = ["--stack", unique, "--path", "apps"]

    def kgit(*args: str, cwd: Path = tmp_path) -> tuple[int, str, str]:
        done = run_kgit(*args, kubeconfig=kubeconfig, cwd=cwd, env=env)
        return done.code, done.stdout, done.stderr

    def data() -> dict[str, str]:
        obj = cluster.get(CONFIGMAP, ns, "settings")
        assert obj is not None
        return dict(obj["data"])

    remote.write("apps/app.yaml", namespace(ns), configmap(ns, "settings", tier="v1"))
    first = remote.push("v1")

    # file://: the plan names the URL, the ref and the commit; apply creates.
    code, out, err = kgit(
        "plan", "--git-url", remote.file_url, "--git-ref", "main", *stack, "--format", "json"
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["source"]["url"] == remote.file_url
    assert (plan["source"]["commit"], plan["source"]["ref"]) == (first, "main")
    assert {c["action"] for c in plan["changes"]} == {"create"}
    code, out, err = kgit(
        "apply", "--git-url", remote.file_url, "--git-ref", "main", *stack, "--auto-approve"
    )
    assert code == 0, out + err
    assert data() == {"tier": "v1"}

    # The deploy key: made once, kept in a Secret, printed in OpenSSH format.
    code, public, err = kgit("identity", "--namespace", keys)
    assert code == 0, err
    assert public.startswith("ssh-ed25519 AAAA") and "new deploy key" in err
    code, again, err = kgit("identity", "--namespace", keys)
    assert (code, again, err) == (0, public, "")
    sshd.authorize(public)
    known = sshd.known_hosts(tmp_path / "known_hosts")
    url = sshd.url(remote.bare)
    over_ssh = ["--git-url", url, "--known-hosts", str(known), "--identity-namespace", keys]

    remote.write("apps/app.yaml", namespace(ns), configmap(ns, "settings", tier="v2"))
    second = remote.push("v2")
    code, out, err = kgit("plan", *over_ssh, *stack, "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert (plan["source"]["url"], plan["source"]["commit"]) == (url, second)
    assert [c["action"] for c in plan["changes"]] == ["update"]
    code, out, err = kgit("apply", *over_ssh, *stack, "--auto-approve")
    assert code == 0, out + err
    assert data() == {"tier": "v2"}

    # An unknown host key is refused, and skipping the check must be asked for by name.
    empty = tmp_path / "empty_known_hosts"
    empty.touch()
    code, _, err = kgit(
        "plan", "--git-url", url, "--known-hosts", str(empty), "--identity-namespace", keys, *stack
    )
    assert code == 1
    assert f"the host key of 127.0.0.1:{sshd.port} is unknown" in err, err
    code, _, err = kgit(
        "plan",
        "--git-url",
        url,
        "--identity-namespace",
        keys,
        "--insecure-skip-host-key-check",
        *stack,
    )
    assert code == 0, err

    # A private key others can read is refused before ssh runs.
    loose = tmp_path / "loose_key"
    identity = load_identity(cluster, keys)
    assert identity is not None
    loose.write_bytes(identity.private_key)
    os.chmod(loose, 0o644)
    code, _, err = kgit(
        "plan", "--git-url", url, "--known-hosts", str(known), "--ssh-key", str(loose), *stack
    )
    assert code == 1 and "permissions 0644 are too open" in err, err

    # A plan stored from SSH is applied from a directory without any checkout: the
    # commit is fetched again from the plan's URL.
    remote.write("apps/app.yaml", namespace(ns), configmap(ns, "settings", tier="v3"))
    third = remote.push("v3")
    stored = tmp_path / "plan.json"
    code, out, err = kgit("plan", *over_ssh, *stack, "--out", str(stored))
    assert code == 0, err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, out, err = kgit(
        "apply",
        str(stored),
        "--known-hosts",
        str(known),
        "--identity-namespace",
        keys,
        "--stack",
        unique,
        cwd=elsewhere,
    )
    assert code == 0, out + err
    assert data() == {"tier": "v3"}

    # Pushing back over SSH (what image automation does): commit on the cached
    # repository and push with the same transport settings.
    key = tmp_path / "key"
    key.write_bytes(identity.private_key)
    os.chmod(key, 0o600)
    ssh = SshOptions(key_file=key, known_hosts=known)
    opened = open_source(url, "main", ssh, root=tmp_path / "push-cache")
    assert opened.commit == third
    edited = (remote.work.root / "apps/app.yaml").read_text().replace("v3", "v4")
    pushed = commit_and_push(
        opened.path,
        opened.commit,
        {"apps/app.yaml": edited.encode()},
        "v4, pushed over SSH",
        branch="main",
        env=git_environment(parse_git_url(url), ssh),
    )
    remote.work.git("pull", "-q", "origin", "main")
    assert remote.work.git("rev-parse", "HEAD") == pushed.commit
    assert "tier: v4" in (remote.work.root / "apps/app.yaml").read_text()

    # Rotating the key: a new one, which the server does not know yet.
    code, rotated, err = kgit("identity", "--namespace", keys, "--regenerate")
    assert code == 0 and rotated != public and rotated.startswith("ssh-ed25519 "), err
    code, _, err = kgit("plan", *over_ssh, *stack)
    assert code == 1 and "the server refused the key" in err, err
