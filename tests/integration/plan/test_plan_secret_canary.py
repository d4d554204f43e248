"""Secret canary: a Secret's values appear in no output, no plan file, no recorded state."""

from __future__ import annotations

import base64
import gzip
import json
import textwrap
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from planlib import changes_by_key, field

from kgit.cluster import SECRET
from kgit.state.chunks import head_name
from kgit.state.store import STATE_NAMESPACE

if TYPE_CHECKING:
    from pathlib import Path

    from planlib import Leftovers

pytestmark = pytest.mark.integration


def secret(namespace: str, data_value: str, string_value: str) -> str:
    """A Secret with one value under ``data`` (base64, as Git holds it) and one as text."""
    encoded = base64.b64encode(data_value.encode()).decode()
    return textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {namespace}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: creds
          namespace: {namespace}
        type: Opaque
        data:
          token: {encoded}
        stringData:
          password: {string_value}
        """
    )


def forms(value: str) -> list[str]:
    """The value and every way it could leak: base64 at each alignment, hex."""
    raw = value.encode()
    out = [value, raw.hex()]
    for shift in range(3):
        # base64 of the value after `shift` unknown bytes: the stable middle part.
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        out.append(encoded[4 if shift else 0 : -4])
    return out


def test_secret_values_never_leave_the_secret(
    kubeconfig: str, unique: str, tmp_path: Path, leftovers: Leftovers
) -> None:
    ns, stack = leftovers.namespace(f"{unique}-sec"), leftovers.stack(unique)
    canaries = [f"canary-{uuid.uuid4().hex}" for _ in range(4)]
    repo = GitRepo(tmp_path / "repo")
    repo.write("secret.yaml", secret(ns, canaries[0], canaries[1]))
    repo.commit("a secret")
    args = ("-C", str(repo.root), "--stack", stack)
    plans = tmp_path / "plans"
    outputs: dict[str, str] = {}

    def record(name: str, *kgit_args: str, code: int = 0) -> str:
        run = run_kgit(*kgit_args, kubeconfig=kubeconfig)
        assert run.code == code, run.output
        outputs[name] = run.output
        return run.stdout

    def plan_everything(stage: str) -> dict[str, dict[str, Any]]:
        """Plan in every format (storing one), show the stored plan in every format."""
        stored = plans / f"{stage}.json"
        record(f"{stage} plan text", "plan", *args, "--out", str(stored))
        outputs[f"{stage} plan file"] = stored.read_text()
        record(f"{stage} plan markdown", "plan", *args, "-f", "markdown")
        plan = json.loads(record(f"{stage} plan json", "plan", *args, "-f", "json"))
        for fmt in ("text", "markdown", "json"):
            record(f"{stage} show {fmt}", "show", str(stored), "-f", fmt)
        return changes_by_key(plan)

    created = plan_everything("create")
    token = field(created[f"/Secret/{ns}/creds"], "data.token")
    assert token["sensitive"] and token["after"].startswith("hmac-sha256:")
    assert "(sensitive value)" in outputs["create plan text"]
    record("apply", "apply", *args, "--auto-approve")

    # Git changes one value, the cluster another (kubectl edit style): both show as
    # changed sensitive values, with their causes, and still no value.
    repo.write("secret.yaml", secret(ns, canaries[2], canaries[1]))
    repo.commit("rotate the token")
    with cluster_for(kubeconfig) as cluster:
        patch = {"stringData": {"password": canaries[3]}}
        cluster.merge_patch(SECRET, ns, "creds", patch, field_manager="kubectl-edit")
    change = plan_everything("update")[f"/Secret/{ns}/creds"]
    assert field(change, "data.token")["cause"] == "git"
    assert field(change, "data.password")["cause"] == "drift"
    assert field(change, "data.password")["manager"] == "kubectl-edit"
    assert "(sensitive value changed)" in outputs["update plan text"]
    record("apply again", "apply", *args, "--auto-approve")

    for fmt in ("text", "json"):
        record(f"state show {fmt}", "state", "show", "--stack", stack, "-f", fmt)
    record("state list", "state", "list")
    record("history", "history", "--stack", stack)
    assert f"/Secret/{ns}/creds" in outputs["state show json"]

    # The recorded state as the cluster holds it: the state Secret's every value,
    # base64-decoded and, for the state itself, gunzipped.
    with cluster_for(kubeconfig) as cluster:
        head = cluster.get(SECRET, STATE_NAMESPACE, head_name(stack))
    assert head is not None
    values = {name: base64.b64decode(value) for name, value in head["data"].items()}
    assert not json.loads(values["index.json"]).get("chunks")  # small: all in the head
    state = gzip.decompress(values.pop("state.json.gz")).decode()
    assert f"/Secret/{ns}/creds" in state
    outputs["state secret"] = json.dumps(head) + state + repr(values)

    leaks = [
        (name, canary)
        for name, text in outputs.items()
        for canary in canaries
        for form in forms(canary)
        if form in text
    ]
    assert leaks == [], leaks
    assert len(outputs) == 21, sorted(outputs)
