"""A canary plaintext in SOPS-encrypted files appears nowhere kgit writes or says.

The canary is the value of an encrypted Secret (stringData, YAML), of another (data,
JSON) and of a ConfigMap kgit.yaml lets be encrypted. Every command runs with its own
HOME and TMPDIR: plan in all formats with stored plans, show, apply of a stored plan
(re-decrypted at its commit), apply after a rotation of the values, state and history,
a watcher round decrypting with kgit's in-cluster key (kgit sops-key), and the error
paths: a wrong key, a corrupted value, a tampered MAC and tampered clear text. All
output, plan files, the state, the watch status, and every file left in kgit's cache
and temporary directories hold none of the canary's forms.
"""

from __future__ import annotations

import base64
import json
import textwrap
import uuid
from typing import TYPE_CHECKING

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from leaklib import files_holding, leak_forms, state_contents
from sopslib import (
    AgeKey,
    configmap_manifest,
    deleting_namespaces,
    encrypt_in_place,
    make_age_key,
    namespace_manifest,
)

from kgit.cluster import CONFIGMAP

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("sops_on_path")]

KGIT_YAML = "sops:\n  kinds: [ConfigMap]\n"


def stack_files(ns: str, canary: str) -> dict[str, str]:
    """The stack's files, in clear: the canary in two Secrets and a ConfigMap."""
    return {
        "namespace.yaml": namespace_manifest(ns),
        "creds.yaml": textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Secret
            metadata:
              name: creds
              namespace: {ns}
            stringData:
              password: {canary}
              dsn: "postgres://app:{canary}@db:5432/app"
            """
        ),
        "token.json": json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "token", "namespace": ns},
                "data": {"token": base64.b64encode(canary.encode()).decode()},
            }
        ),
        "settings.yaml": configmap_manifest(ns, "settings", "db_password", canary),
    }


def write_stack(repo: GitRepo, ns: str, canary: str, *keys: AgeKey) -> None:
    """The stack with every file but the Namespace encrypted for ``keys``; committed."""
    for path, text in stack_files(ns, canary).items():
        repo.write(path, text)
        if path != "namespace.yaml":
            encrypt_in_place(repo.root, path, *keys, fields="^(data|stringData)$")
    repo.commit(f"the stack ({canary[:12]})")


def flip_first(text: str, marker: str) -> str:
    """``text`` with the character after ``marker`` replaced (another base64 digit)."""
    at = text.index(marker) + len(marker)
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]


def test_the_canary_never_leaves_the_encrypted_files(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, stack, state_ns, keys_ns = f"{unique}-app", unique, f"{unique}-state", f"{unique}-keys"
    canaries = [f"canary-{uuid.uuid4().hex}" for _ in range(3)]
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {"HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache")}
    mine = make_age_key(tmp_path / "age.txt")
    wrong = make_age_key(tmp_path / "wrong.txt")
    repo = GitRepo(tmp_path / "repo")
    repo.write("kgit.yaml", KGIT_YAML)
    on_stack = ("--stack", stack, "--state-namespace", state_ns)
    args = ("-C", str(repo.root), *on_stack, "--sops-age-key-file", str(mine.path))
    seen: dict[str, str] = {}

    def run(name: str, *kgit_args: str, code: int = 0) -> str:
        done = run_kgit(*kgit_args, kubeconfig=kubeconfig, env=env)
        assert done.code == code, done.output
        assert "Traceback" not in done.output
        seen[name] = done.output
        return done.stdout

    with deleting_namespaces(kubeconfig, ns, state_ns, keys_ns):
        kgit_key = run("sops-key", "sops-key", "--namespace", keys_ns).strip()
        assert kgit_key.startswith("age1")
        kgit_recipient = AgeKey(tmp_path / "unused", kgit_key)
        write_stack(repo, ns, canaries[0], mine, kgit_recipient)
        for fmt in ("text", "markdown", "json"):
            stored = tmp_path / "plans" / f"create-{fmt}.json"
            run(f"plan {fmt}", "plan", *args, "-f", fmt, "--out", str(stored))
            seen[f"plan file {fmt}"] = stored.read_text()
            run(f"show {fmt}", "show", str(stored), "-f", fmt)
        assert "ConfigMap" in seen["plan text"] and "(sensitive value)" in seen["plan text"]
        # A stored plan is applied with the key given again: its commit is decrypted anew.
        plan_file = str(tmp_path / "plans" / "create-json.json")
        run("apply without key", "apply", plan_file, "--state-namespace", state_ns, code=1)
        assert "creds.yaml: cannot decrypt it (SOPS, encrypted for " in seen["apply without key"]
        run("apply stored", "apply", plan_file, "--state-namespace", state_ns,
            "--sops-age-key-file", str(mine.path))  # fmt: skip
        with cluster_for(kubeconfig) as cluster:
            settings = cluster.get(CONFIGMAP, ns, "settings")
        assert settings is not None and settings["data"] == {"db_password": canaries[0]}

        write_stack(repo, ns, canaries[1], mine, kgit_recipient)
        run("plan rotated", "plan", *args)
        assert seen["plan rotated"].count("(sensitive value changed)") == 4
        run("apply rotated", "apply", "--auto-approve", *args)
        run("state show", "state", "show", *on_stack, "-f", "json")
        run("state list", "state", "list", "--state-namespace", state_ns, "-f", "json")
        run("history", "history", *on_stack, "-f", "json")

        # The watcher decrypts with kgit's own key, read from its Secret.
        write_stack(repo, ns, canaries[2], mine, kgit_recipient)
        watch = ("watch", "--once", "--git-url", f"file://{repo.root}", *on_stack,
                 "--sops-age-secret", f"{keys_ns}/kgit-sops-age", "--auto-apply", "all")  # fmt: skip
        run("watch json", *watch, "--log-format", "json")
        assert '"result":"applied","add":0,"change":3' in seen["watch json"]

        # Error paths: each names the file and its recipients, and nothing of the content.
        run("wrong key", "plan", *args[:-1], str(wrong.path), code=1)
        assert f"encrypted for {mine.recipient}, {kgit_key}" in seen["wrong key"]
        assert (
            f"the keys given (--sops-age-key-file {wrong.path}) are for {wrong.recipient}"
            in (seen["wrong key"])
        )
        good = (repo.root / "creds.yaml").read_text()
        tampered = {
            "corrupted": flip_first(good, "password: ENC[AES256_GCM,data:"),
            "mac": flip_first(good, "mac: ENC[AES256_GCM,data:"),
            "clear text": good.replace("name: creds", "name: creds2"),
        }
        for name, text in tampered.items():
            assert text != good
            repo.write("creds.yaml", text)
            repo.commit(name)
            run(name, "plan", *args, code=1)
            assert (
                f"creds.yaml: cannot decrypt it (SOPS, encrypted for {mine.recipient}"
                in (seen[name])
            )
        assert "the file is corrupted" in seen["corrupted"]
        assert "MAC does not decrypt" in seen["mac"]
        assert "MAC does not match" in seen["clear text"]
        # A failed round is logged and kept in the status: it must say no more.
        run("watch failed", *watch, "--log-format", "text", code=1)
        assert "creds.yaml: cannot decrypt it" in seen["watch failed"]

        with cluster_for(kubeconfig) as cluster:
            seen["state Secret"] = state_contents(cluster, state_ns, stack)
            status = cluster.get(CONFIGMAP, state_ns, f"kgit-status.{stack}")
            assert status is not None
            seen["watch status"] = json.dumps(status)
        assert "cannot decrypt it" in seen["watch status"]
        everything = "\n".join(seen.values())
        assert "db_password" in everything and "dsn" in everything  # the checks can see
        for canary in canaries:
            forms = leak_forms(canary)
            for form in forms:
                leaks = [name for name, text in seen.items() if form in text]
                assert leaks == [], f"{form!r} (of {canary}) leaked in {leaks}"
            # Nothing on disk: kgit's cache (the clone of the repository) and temp files.
            assert files_holding(home, forms) == []
            assert files_holding(tmp, forms) == []
        assert any(home.rglob("*")), "the cache was not used: the check proves nothing"
