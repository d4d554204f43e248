"""What ``kgit status`` calls drift: recorded fields the live object no longer holds."""

from __future__ import annotations

import pytest

from kgit.plan.diff import drifted_paths

pytestmark = pytest.mark.unit

RECORDED = {
    "spec": {
        "replicas": 2,
        "template": {"spec": {"containers": [{"name": "app", "image": "nginx:v1"}]}},
        "resources": {"cpu": "1000m"},
        "empty": {},
    }
}


def test_defaults_and_normalised_quantities_are_no_drift() -> None:
    live = {
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:v1", "imagePullPolicy": "IfNotPresent"}
                    ]
                }
            },
            "resources": {"cpu": "1"},
            "progressDeadlineSeconds": 600,
        }
    }
    assert drifted_paths(RECORDED, live) == ()


def test_changed_and_removed_fields_are_named_by_merge_key() -> None:
    live = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "app", "image": "nginx:v2"}]}},
            "resources": {"cpu": "1"},
        }
    }
    assert drifted_paths(RECORDED, live) == (
        "spec.replicas",
        "spec.template.spec.containers[name=app].image",
    )
