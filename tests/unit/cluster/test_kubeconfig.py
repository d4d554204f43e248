"""Which kubeconfigs kgit serves itself, which go through the kubernetes package, and
what a broken one says."""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any

import pytest

from kgit.cluster import KubeconfigError, connect
from kgit.cluster.config import read_plain_kubeconfig
from kgit.errors import KgitError

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()


def kubeconfig(tmp_path: Path, user: dict[str, Any], **cluster: Any) -> str:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "main",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": "https://127.0.0.1:6443", **cluster},
            }
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [
            {"name": "main", "context": {"cluster": "c", "user": "u", "namespace": "apps"}},
            {"name": "other", "context": {"cluster": "c", "user": "u"}},
        ],
    }
    path = tmp_path / "config"
    path.write_text(json.dumps(doc))
    return str(path)


def test_certificates_and_tokens_are_plain(tmp_path: Path) -> None:
    path = kubeconfig(
        tmp_path,
        {"client-certificate-data": CA, "client-key-data": CA},
        **{"certificate-authority-data": CA},
    )
    plain = read_plain_kubeconfig(path, None)
    assert plain is not None
    assert plain.server == "https://127.0.0.1:6443"
    assert plain.namespace == "apps"
    assert plain.ca_data == "-----BEGIN CERTIFICATE-----\n"
    assert plain.cert_data == b"-----BEGIN CERTIFICATE-----\n"

    token = read_plain_kubeconfig(kubeconfig(tmp_path, {"token": "abc"}), "other")
    assert token is not None
    assert token.token == "abc"
    assert token.namespace == "default"


def test_file_names_are_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    path = kubeconfig(
        tmp_path,
        {"client-certificate": "pki/admin.crt", "client-key": "/abs/admin.key"},
        **{"certificate-authority": "ca.crt"},
    )
    plain = read_plain_kubeconfig(path, None)
    assert plain is not None
    assert plain.ca_file == str(tmp_path / "ca.crt")
    assert plain.cert_file == str(tmp_path / "pki" / "admin.crt")
    assert plain.key_file == "/abs/admin.key"


@pytest.mark.parametrize(
    "user",
    [
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}},
        {"auth-provider": {"name": "oidc"}},
        {"username": "admin", "password": "secret"},
        {"token": "abc", "as": "someone-else"},
    ],
)
def test_anything_more_goes_through_the_kubernetes_package(
    tmp_path: Path, user: dict[str, Any]
) -> None:
    assert read_plain_kubeconfig(kubeconfig(tmp_path, user), None) is None


def test_proxies_merges_and_unreadable_files_go_through_the_kubernetes_package(
    tmp_path: Path,
) -> None:
    path = kubeconfig(tmp_path, {"token": "abc"}, **{"proxy-url": "http://proxy:3128"})
    assert read_plain_kubeconfig(path, None) is None
    plain = kubeconfig(tmp_path, {"token": "abc"})
    assert read_plain_kubeconfig(f"{plain}{os.pathsep}{plain}", None) is None
    assert read_plain_kubeconfig(str(tmp_path / "missing"), None) is None
    assert read_plain_kubeconfig(plain, "no-such-context") is None
    (tmp_path / "bad").write_text("{not yaml: [")
    assert read_plain_kubeconfig(str(tmp_path / "bad"), None) is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("apiVersion: v1\nclusters: [\n  - name: c\n", 3),
        ("apiVersion: v1\ncurrent-context: a: b\n", 2),
        ("{not yaml: [", 1),
    ],
)
def test_a_kubeconfig_that_is_not_yaml_is_one_line_naming_the_file(
    tmp_path: Path, text: str, line: int
) -> None:
    bad = tmp_path / "config"
    bad.write_text(text)
    with pytest.raises(KubeconfigError) as raised:
        connect(str(bad), probe=False)
    assert isinstance(raised.value, KgitError)
    message = str(raised.value)
    assert message.startswith(f"{bad}:{line}: the kubeconfig is not valid YAML: "), message
    assert "\n" not in message


def test_a_merged_kubeconfig_names_the_file_that_is_not_yaml(tmp_path: Path) -> None:
    good = kubeconfig(tmp_path, {"token": "abc"})
    bad = tmp_path / "broken"
    bad.write_text("users: [\n")
    with pytest.raises(KubeconfigError) as raised:
        connect(f"{good}{os.pathsep}{bad}", probe=False)
    assert str(raised.value).startswith(f"{bad}:2: the kubeconfig is not valid YAML: ")


@pytest.mark.parametrize(
    "text",
    [
        "- a list\n",
        "just text\n",
        "current-context: x\ncontexts:\n- name: x\n  context: 5\n",
    ],
)
def test_a_kubeconfig_of_the_wrong_shape_is_a_kubeconfig_error(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "config"
    bad.write_text(text)
    with pytest.raises(KubeconfigError) as raised:
        connect(str(bad), probe=False)
    assert str(raised.value).startswith(f"{bad}: current context: ")
