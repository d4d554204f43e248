"""The test control plane is real: controllers run, server-side apply works, nothing leaks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def core(kubeconfig: str) -> client.CoreV1Api:
    # kubernetes.config's loaders are untyped.
    api = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    return client.CoreV1Api(api)


def eventually(check: Callable[[], bool], timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as err:
        return bool(err.status == 404)
    return False


def test_deleted_namespace_disappears(core: client.CoreV1Api, unique: str) -> None:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=unique)))
    core.create_namespaced_config_map(
        unique, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="inside"), data={"a": "1"})
    )
    core.delete_namespace(unique)
    # Only the namespace controller empties a namespace and removes its finalizer.
    assert eventually(lambda: gone(lambda: core.read_namespace(unique)))


def test_garbage_collector_deletes_dependents(core: client.CoreV1Api, unique: str) -> None:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=unique)))
    owner = core.create_namespaced_config_map(
        unique, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    assert owner.metadata is not None and owner.metadata.uid
    ref = client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid
    )
    core.create_namespaced_config_map(
        unique,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dependent", owner_references=[ref])),
    )
    core.delete_namespaced_config_map("owner", unique, propagation_policy="Background")
    assert eventually(lambda: gone(lambda: core.read_namespaced_config_map("dependent", unique)))


def test_server_side_apply_records_field_manager(core: client.CoreV1Api, unique: str) -> None:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=unique)))
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa"},
        "data": {"k": "v"},
    }
    api = core.api_client
    method, url, headers, payload, _ = api.param_serialize(
        "PATCH",
        f"/api/v1/namespaces/{unique}/configmaps/ssa",
        query_params=[("fieldManager", "kgit-test"), ("force", "true")],
        header_params={"Content-Type": "application/apply-patch+yaml"},
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api.call_api(method, url, headers, payload)
    assert response.status == 201  # created by the apply
    applied = json.loads(response.read())
    managers = [m["manager"] for m in applied["metadata"]["managedFields"]]
    assert managers == ["kgit-test"]
    assert applied["data"] == {"k": "v"}


def _pids_of(directory: Path) -> list[int]:
    info = json.loads((directory / "controlplane.json").read_text())
    return [int(p) for p in info["pids"].values()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_interrupted_run_leaves_no_process(tmp_path: Path, controlplane: ModuleType) -> None:
    """Ctrl-C on a test run that started its own control plane stops etcd and the rest."""
    (tmp_path / "test_sleep.py").write_text(
        textwrap.dedent(
            """
            import time

            def test_sleep(kubeconfig):
                print("READY", flush=True)
                time.sleep(600)
            """
        )
    )
    (tmp_path / "conftest.py").write_text("from tests.conftest import kubeconfig  # noqa: F401\n")
    env = {k: v for k, v in os.environ.items() if k != "KGIT_TEST_KUBECONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    base = tmp_path / "base"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-s",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            f"--basetemp={base}",
            str(tmp_path / "test_sleep.py"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "READY" in line:
                break
        else:
            pytest.fail("the inner test run never got a control plane")
        # pytest also leaves a "controlplanecurrent" symlink beside the numbered directory.
        planes = list(base.glob("controlplane[0-9]*/controlplane.json"))
        assert len(planes) == 1
        pids = _pids_of(planes[0].parent)
        assert len(pids) == len(controlplane.PROCESSES) and all(_alive(p) for p in pids)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert eventually(lambda: not any(_alive(p) for p in pids), timeout=30), pids
