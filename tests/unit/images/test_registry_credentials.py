"""Registry credentials from Docker config files and pull Secrets."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

from kgit.images.credentials import (
    Credentials,
    load_credentials_file,
    parse_docker_config,
    parse_pull_secret,
    registry_key,
)
from kgit.images.errors import ImageError

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CONFIG = {
    "auths": {
        "https://index.docker.io/v1/": {"auth": b64("hub:pw")},
        "127.0.0.1:5000": {"auth": b64("alice:s3:cret")},
        "https://ghcr.io": {"username": "bob", "password": "tok"},
        "helper.example": {},
    },
    "credsStore": "desktop",
}


def test_docker_config_entries_by_registry() -> None:
    found = parse_docker_config(json.dumps(CONFIG), "config.json")
    assert found == {
        "docker.io": Credentials("hub", "pw"),
        "127.0.0.1:5000": Credentials("alice", "s3:cret"),
        "ghcr.io": Credentials("bob", "tok"),
    }
    assert "s3:cret" not in repr(found)


def test_legacy_dockercfg_without_auths() -> None:
    found = parse_docker_config(json.dumps({"reg:5000": {"auth": b64("u:p")}}), "x")
    assert found == {"reg:5000": Credentials("u", "p")}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("not json", "not a Docker config"),
        ("[]", "expected a JSON object"),
        ('{"auths": {"r": {"auth": "%%%"}}}', "not base64 of user:password"),
        (json.dumps({"auths": {"r": {"auth": b64("nocolon")}}}), "not base64 of user:password"),
    ],
)
def test_bad_docker_configs(doc: str, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        parse_docker_config(doc, "cfg")


def test_pull_secrets_data_and_string_data() -> None:
    doc = json.dumps(CONFIG)
    secret = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64(doc)}}
    assert parse_pull_secret(secret, "s")["ghcr.io"] == Credentials("bob", "tok")
    secret = {"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": doc}}
    assert parse_pull_secret(secret, "s")["docker.io"] == Credentials("hub", "pw")
    legacy = {
        "type": "kubernetes.io/dockercfg",
        "data": {".dockercfg": b64('{"r": {"auth": "' + b64("a:b") + '"}}')},
    }
    assert parse_pull_secret(legacy, "s") == {"r": Credentials("a", "b")}
    with pytest.raises(ImageError, match="Secret/ns/x: type 'Opaque' is not"):
        parse_pull_secret({"type": "Opaque"}, "Secret/ns/x")
    with pytest.raises(ImageError, match=r"has no \.dockerconfigjson"):
        parse_pull_secret({"type": "kubernetes.io/dockerconfigjson", "data": {}}, "s")


def test_files_hold_a_docker_config_or_a_secret_manifest(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    assert load_credentials_file(config)["127.0.0.1:5000"].username == "alice"
    secret = tmp_path / "secret.yaml"
    secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\n"
        "type: kubernetes.io/dockerconfigjson\n"
        f"data:\n  .dockerconfigjson: {b64(json.dumps(CONFIG))}\n"
    )
    assert load_credentials_file(secret)["ghcr.io"].password == "tok"
    with pytest.raises(ImageError, match="cannot read"):
        load_credentials_file(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("key", "registry"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("GHCR.io", "ghcr.io"),
    ],
)
def test_registry_keys(key: str, registry: str) -> None:
    assert registry_key(key) == registry
