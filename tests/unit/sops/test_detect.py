"""Recognising SOPS-encrypted files without a key: recipients, clear kinds, encrypted paths."""

from __future__ import annotations

import json
import textwrap

import pytest

from kgit.sops.detect import EncryptedDocument, read_encrypted, read_encrypted_data

pytestmark = pytest.mark.unit

ENC = "ENC[AES256_GCM,data:abc=,iv:x=,tag:y==,type:str]"
META = textwrap.dedent(
    f"""\
    sops:
        age:
            - recipient: age1one
              enc: x
        pgp:
            - fp: ABCD
        key_groups:
            - kms:
                - arn: arn:aws:kms:key
              age:
                - recipient: age1one
        lastmodified: "2026-01-01T00:00:00Z"
        mac: {ENC}
        version: 3.13.3
    """
)


def test_a_yaml_file_with_a_sops_block_is_encrypted() -> None:
    text = textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Secret
        metadata:
            name: db
        stringData:
            password: {ENC}
            user: app
        """
    )
    found = read_encrypted("db.yaml", (text + META).encode())
    assert found is not None
    assert (found.path, found.fmt) == ("db.yaml", "yaml")
    assert found.recipients == ("age1one", "pgp:ABCD", "kms:arn:aws:kms:key")
    assert found.recipients_text == "age1one, pgp:ABCD, kms:arn:aws:kms:key"
    assert found.documents == (EncryptedDocument("Secret", "v1", ("stringData.password",)),)


def test_a_fully_encrypted_json_file_hides_its_kind() -> None:
    value = {
        "apiVersion": ENC,
        "kind": ENC,
        "metadata": {"name": ENC},
        "data": {"a": ENC},
        "items": [ENC],
        "sops": {"age": [{"recipient": "age1two"}], "mac": ENC},
    }
    found = read_encrypted("x.json", json.dumps(value).encode())
    assert found is not None and found.fmt == "json"
    assert found.documents == (
        EncryptedDocument(
            None, None, ("apiVersion", "kind", "metadata.name", "data.a", "items[0]")
        ),
    )


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sops}\ndata: {mac: x}\n",
        "sops: {version: 3}\nmac: 1\n",  # no mac in the sops block
        "sops:\n  mac: [unclosed\n",  # not YAML: the loader reports it
        "just text mentioning sops and mac\n",
        "- sops\n- mac\n",
    ],
)
def test_plain_files_are_not_encrypted(text: str) -> None:
    assert read_encrypted("a.yaml", text.encode()) is None


def test_a_dotenv_file_flattens_its_metadata() -> None:
    text = (
        "TOKEN=ENC[AES256_GCM,data:x,type:str]\nsops_age__list_0__map_recipient=age1one\n"
        "sops_age__list_0__map_enc=x\nsops_mac=ENC[AES256_GCM,data:y,type:str]\n"
    )
    found = read_encrypted_data("app/api.env", text.encode())
    assert found is not None
    assert (found.fmt, found.recipients) == ("dotenv", ("age1one",))
    assert read_encrypted_data("app/api.env", b"TOKEN=plain\n") is None


def test_other_files_are_binary_for_sops() -> None:
    value = {"data": ENC, "sops": {"age": [{"recipient": "age1two"}], "mac": ENC}}
    found = read_encrypted_data("tls.key", json.dumps(value).encode())
    assert found is not None and (found.fmt, found.recipients) == ("binary", ("age1two",))
