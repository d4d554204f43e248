"""Masking: Secret values, and values kgit.yaml's sensitive rules mark, become digests."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kgit.manifests.normalize import (
    LAST_APPLIED_ANNOTATION,
    SensitiveRule,
    live_content_digest,
    normalize,
    normalize_live,
    secret_digest,
)
from kgit.plan.diff import compute_field_changes, create_fields

pytestmark = pytest.mark.unit

KEY = b"k" * 32
CANARY = "canary-8d1f"


def configmap(name: str = "app", namespace: str = "web", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def test_a_rule_masks_the_keys_it_names_and_only_in_objects_it_matches() -> None:
    rules = (SensitiveRule(keys=("password", "*token*"), kind="ConfigMap", name="app"),)
    obj = configmap(password=CANARY, api_token=CANARY, colour="blue")
    obj["binaryData"] = {"password": base64.b64encode(CANARY.encode()).decode()}
    masked = normalize(obj, KEY, rules)
    digest = secret_digest(CANARY.encode(), KEY)
    assert masked["data"] == {"password": digest, "api_token": digest, "colour": "blue"}
    # binaryData is base64: its bytes are digested, so both forms compare equal.
    assert masked["binaryData"] == {"password": digest}
    assert normalize(masked, KEY, rules) == masked  # masking twice changes nothing
    other = configmap(name="other", password=CANARY)
    assert normalize(other, KEY, rules)["data"] == {"password": CANARY}
    assert normalize(obj, KEY)["data"]["password"] == CANARY  # no rules, no masking


def test_a_rule_without_keys_masks_every_value() -> None:
    masked = normalize(configmap(a=CANARY, b=CANARY), KEY, (SensitiveRule(namespace="web"),))
    assert CANARY not in json.dumps(masked)


def test_the_last_applied_annotation_of_a_masked_object_goes() -> None:
    live = configmap(password=CANARY)
    live["metadata"]["annotations"] = {
        LAST_APPLIED_ANNOTATION: json.dumps(configmap(password=CANARY)),
        "team": "web",
    }
    rules = (SensitiveRule(keys=("password",)),)
    masked = normalize_live(live, KEY, rules)
    assert CANARY not in json.dumps(masked)
    assert masked["metadata"]["annotations"] == {"team": "web"}
    assert LAST_APPLIED_ANNOTATION in normalize_live(live, KEY)["metadata"]["annotations"]


def test_masked_values_are_sensitive_field_changes() -> None:
    rules = (SensitiveRule(keys=("password",)),)
    before = normalize(configmap(password="old", colour="blue"), KEY, rules)
    after = normalize(configmap(password=CANARY, colour="red"), KEY, rules)
    changes = {c.path: c for c in compute_field_changes(after, before, before, after)}
    assert changes["data.password"].sensitive and not changes["data.colour"].sensitive
    created = {c.path: c for c in create_fields(after)}
    assert created["data.password"].sensitive and not created["data.colour"].sensitive
    dropped = normalize(configmap(colour="red"), KEY, rules)
    removed = {c.path: c for c in compute_field_changes(dropped, before, before, dropped)}
    assert removed["data.password"].sensitive


def test_a_secrets_misspelt_field_is_masked_too() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "web"},
        "type": "Opaque",
        "stringdata": {"password": CANARY, "port": 5432},
        "extra": [CANARY],
    }
    masked = normalize(secret, KEY)
    assert CANARY not in json.dumps(masked)
    assert masked["stringdata"]["password"] == secret_digest(CANARY.encode(), KEY)
    assert set(masked["stringdata"]) == {"password", "port"}  # the keys stay visible
    assert (masked["type"], masked["metadata"]) == ("Opaque", secret["metadata"])
    changes = create_fields(masked)
    assert all(c.sensitive for c in changes if c.path.startswith("stringdata"))


def test_the_live_content_digest_ignores_what_every_write_moves() -> None:
    live: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a", "resourceVersion": "1", "generation": 1},
        "spec": {"replicas": 1},
        "status": {"replicas": 0},
    }
    digest = live_content_digest(live)
    moved = {
        **live,
        "metadata": {**live["metadata"], "resourceVersion": "9", "managedFields": [{}]},
        "status": {"replicas": 1, "availableReplicas": 1},
    }
    assert live_content_digest(moved) == digest
    relabelled = {**live, "metadata": {**live["metadata"], "labels": {"x": "y"}}}
    assert live_content_digest(relabelled) != digest
    assert live_content_digest({**live, "spec": {"replicas": 2}}) != digest
