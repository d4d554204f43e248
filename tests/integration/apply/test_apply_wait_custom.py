"""``kgit apply --wait`` on custom resources whose controller (a thread of the test,
writing status through the real API) reports Ready, and on ``kgit.dev/depends-on``."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, cast

import pytest
from applylib import Terminal, crd, resource
from kgitlib import configmap, namespace
from kubernetes import client, config

from kgit.cluster import wait_established

if TYPE_CHECKING:
    from collections.abc import Iterator

    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

GROUP, VERSION, PLURAL = "health.kgit.dev", "v1", "widgets"
READY_AFTER = 3.0


def widget(ns: str, name: str, size: int, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {"size": size},
    }


class WidgetController:
    """Reconciles the Widgets of one namespace: Ready=False (Provisioning) as soon as it
    sees a new generation, Ready=True ``READY_AFTER`` seconds later. With ``lagging``,
    it never observes a generation after the first (a stuck controller)."""

    def __init__(self, kubeconfig: str, ns: str, *, lagging: bool = False) -> None:
        api = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        self.api = client.CustomObjectsApi(api)
        self.ns = ns
        self.lagging = lagging
        self.stop = threading.Event()
        self.first_seen: dict[str, float] = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.02):
            found = cast(
                "dict[str, Any]",
                self.api.list_namespaced_custom_object(GROUP, VERSION, self.ns, PLURAL),
            )
            for item in found["items"]:
                self.reconcile(item)

    def reconcile(self, item: dict[str, Any]) -> None:
        name, generation = item["metadata"]["name"], item["metadata"]["generation"]
        status = item.get("status") or {}
        observed = status.get("observedGeneration")
        if self.lagging and generation > 1:
            return
        key = f"{name}@{generation}"
        since = self.first_seen.setdefault(key, time.monotonic())
        ready = time.monotonic() - since >= READY_AFTER
        wanted = "True" if ready else "False"
        conditions = status.get("conditions") or [{}]
        if observed == generation and conditions[0].get("status") == wanted:
            return
        condition = {
            "type": "Ready",
            "status": wanted,
            "reason": "Provisioned" if ready else "Provisioning",
            "message": f"size {item['spec']['size']} "
            + ("ready" if ready else "being provisioned"),
            "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        body = {"status": {"observedGeneration": generation, "conditions": [condition]}}
        self.api.patch_namespaced_custom_object_status(GROUP, VERSION, self.ns, PLURAL, name, body)


@pytest.fixture
def controller(stack: Stack, cluster: Cluster) -> Iterator[WidgetController]:
    """The CRD (applied by the test) and a controller running for the stack's namespace."""
    cluster.server_side_apply(crd(GROUP, status=True))
    wait_established(cluster, f"{PLURAL}.{GROUP}", 30)  # served before the controller lists
    running = WidgetController(stack.kubeconfig, stack.name)
    running.thread.start()
    yield running
    running.stop.set()
    running.thread.join(timeout=10)


def test_a_custom_resource_is_waited_for_until_ready(
    stack: Stack, controller: WidgetController
) -> None:
    ns = stack.name
    stack.write("w.yaml", namespace(ns), widget(ns, "one", 1))
    stack.repo.commit("one")
    # On a terminal, as a person runs it: the progress shows Ready=False on the way.
    started = time.monotonic()
    argv = stack.command("apply", "--auto-approve", "--wait", "--wait-timeout", "60s")
    done = Terminal(argv, env=stack.environ(), cwd=stack.repo.root).finish()
    took = time.monotonic() - started
    assert done.code == 0, done.output
    assert took >= READY_AFTER, done.output
    assert f"kgit: Widget/{ns}/one: size 1 being provisioned" in done.output
    assert "Health: 2 Current (current after" in done.output
    assert controller.first_seen  # the controller did see it


def test_a_stale_observed_generation_is_in_progress(stack: Stack, cluster: Cluster) -> None:
    ns = stack.name
    cluster.server_side_apply(crd(GROUP, status=True))
    wait_established(cluster, f"{PLURAL}.{GROUP}", 30)
    stack.write("w.yaml", namespace(ns), widget(ns, "one", 1))
    stack.repo.commit("one")
    stuck = WidgetController(stack.kubeconfig, ns, lagging=True)
    stuck.thread.start()
    try:
        stack.apply("--wait", "--wait-timeout", "30s")
        stack.write("w.yaml", namespace(ns), widget(ns, "one", 2))
        stack.repo.commit("two")
        done = stack.kgit("apply", "--auto-approve", "--wait", "--wait-timeout", "5s")
    finally:
        stuck.stop.set()
        stuck.thread.join(timeout=10)
    assert done.code == 1, done.output
    assert "Health: 1 InProgress (timed out after 5s)" in done.stdout, done.output
    assert f"  Widget/{ns}/one: generation 2 not observed yet (the controller saw 1)" in done.stdout


def test_depends_on_applies_an_object_once_what_it_names_is_current(
    stack: Stack, cluster: Cluster, controller: WidgetController
) -> None:
    ns = stack.name
    # A ConfigMap is applied before custom resources in kind order; depends-on moves it.
    settings = configmap(ns, "settings", size="1")
    settings["metadata"]["annotations"] = {"kgit.dev/depends-on": f"Widget/{ns}/db"}
    stack.write("all.yaml", namespace(ns), widget(ns, "db", 1), settings)
    stack.repo.commit("ordered")
    done = stack.apply("--wait", "--wait-timeout", "60s")
    lines = done.stdout.splitlines()
    assert lines.index(f"Widget/{ns}/db: created") < lines.index(
        f"ConfigMap/{ns}/settings: created"
    )
    obj = cluster.get(resource(cluster, "", "ConfigMap"), ns, "settings")
    assert obj is not None
    created = obj["metadata"]["creationTimestamp"]
    widget_obj = cluster.get(resource(cluster, GROUP, "Widget"), ns, "db")
    assert widget_obj is not None
    ready = next(c for c in widget_obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    # The ConfigMap was created once the Widget was Ready, not before.
    assert created >= ready["lastTransitionTime"]
