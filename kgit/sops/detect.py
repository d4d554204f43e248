"""Recognise a SOPS-encrypted manifest file and read what may be said of it without a key.

A file is encrypted when one of its documents (YAML) or its value (JSON) is a mapping
with a ``sops`` mapping holding a ``mac``: the layout ``sops`` writes. What is readable
without a key is the metadata: the recipients the data key was encrypted for, the values
left in clear (``kind`` when only ``data`` was encrypted) and where the ``ENC[...]``
values are, which is all an error message or a kind check may use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

ENCRYPTED_PREFIX = "ENC["
# The fields of sops metadata that name a recipient, by key type.
_RECIPIENT_FIELDS = (
    ("age", "recipient"),
    ("pgp", "fp"),
    ("kms", "arn"),
    ("gcp_kms", "resource_id"),
    ("azure_kv", "vault_url"),
    ("hc_vault", "vault_address"),
)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# sops's formats by file name; any other file is stored as a binary one (JSON).
_FORMATS = {".env": "dotenv", ".ini": "ini", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
# dotenv and ini files flatten the metadata: ``sops_age__list_0__map_recipient=age1…``.
_FLAT_MAC = re.compile(rb"^(sops_mac=|mac\s*=\s*)ENC\[", re.MULTILINE)
_FLAT_AGE = re.compile(r"^(?:sops_)?age__list_\d+__map_recipient\s*=\s*(\S+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class EncryptedDocument:
    """One document of an encrypted file, as far as it can be read without a key.

    ``kind`` and ``api_version`` are None when encrypted; ``encrypted`` lists the dotted
    paths of the encrypted values (``data.password``).
    """

    kind: str | None
    api_version: str | None
    encrypted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EncryptedFile:
    """A SOPS-encrypted file: its format for ``sops`` (yaml or json), recipients, documents."""

    path: str
    fmt: str
    recipients: tuple[str, ...]
    documents: tuple[EncryptedDocument, ...]

    @property
    def recipients_text(self) -> str:
        """The recipients for a message: ``age1…, pgp:ABCD…`` or ``no recipients``."""
        return ", ".join(self.recipients) or "no recipients"


def read_encrypted(path: str, data: bytes) -> EncryptedFile | None:
    """The file's SOPS metadata, or None for a plain file (or one that isn't YAML/JSON).

    Pure and cheap for plain files: they are parsed only when they mention ``sops``.
    A file that cannot be parsed is left to the manifest loader to report.
    """
    if b"sops" not in data or b"mac" not in data:
        return None
    fmt = format_of(path)
    try:
        values = parse_documents(data, fmt)
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
    metas = [meta for value in values if (meta := _sops_metadata(value)) is not None]
    if not metas:
        return None
    recipients: list[str] = []
    for meta in metas:
        recipients.extend(r for r in _recipients(meta) if r not in recipients)
    documents = tuple(_document(value) for value in values)
    return EncryptedFile(path, fmt, tuple(recipients), documents)


def read_encrypted_data(path: str, data: bytes) -> EncryptedFile | None:
    """Like :func:`read_encrypted` for a file of any format sops writes (a generator's env
    file, an ini file, a binary file), or None when it is not encrypted."""
    fmt = next((f for suffix, f in _FORMATS.items() if path.endswith(suffix)), "binary")
    if fmt in ("dotenv", "ini"):
        if not _FLAT_MAC.search(data):
            return None
        text = data.decode("utf-8", errors="replace")
        return EncryptedFile(path, fmt, tuple(dict.fromkeys(_FLAT_AGE.findall(text))), ())
    found = read_encrypted(path, data)
    if found is None:
        return None
    return EncryptedFile(path, fmt, found.recipients, found.documents)


def format_of(path: str) -> str:
    """The format ``sops`` reads a manifest file in: json for ``.json``, else yaml."""
    return "json" if path.endswith(".json") else "yaml"


def parse_documents(data: bytes, fmt: str) -> list[Any]:
    """The mappings of a file: every YAML document, or the one JSON value.

    Raises ValueError or :class:`yaml.YAMLError` when it is not valid.
    """
    text = data.decode("utf-8-sig")
    values = [json.loads(text)] if fmt == "json" else list(yaml.load_all(text, _LOADER))
    return [value for value in values if isinstance(value, dict)]


def _sops_metadata(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    meta = value.get("sops")
    if isinstance(meta, dict) and "mac" in meta:
        return meta
    return None


def _recipients(meta: dict[str, Any]) -> list[str]:
    """Who can decrypt: age recipients as they are, other key types prefixed by theirs."""
    groups = [meta, *(g for g in meta.get("key_groups") or () if isinstance(g, dict))]
    found: list[str] = []
    for group in groups:
        for key_type, field in _RECIPIENT_FIELDS:
            for entry in group.get(key_type) or ():
                if isinstance(entry, dict) and entry.get(field):
                    value = str(entry[field])
                    found.append(value if key_type == "age" else f"{key_type}:{value}")
    return found


def _document(value: dict[str, Any]) -> EncryptedDocument:
    def clear(field: str) -> str | None:
        found = value.get(field)
        return found if isinstance(found, str) and not is_encrypted(found) else None

    paths = tuple(_encrypted_paths({k: v for k, v in value.items() if k != "sops"}, ""))
    return EncryptedDocument(kind=clear("kind"), api_version=clear("apiVersion"), encrypted=paths)


def _encrypted_paths(value: Any, prefix: str) -> list[str]:
    if isinstance(value, dict):
        return [
            path
            for key, item in value.items()
            for path in _encrypted_paths(item, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(value, list):
        return [
            path
            for i, item in enumerate(value)
            for path in _encrypted_paths(item, f"{prefix}[{i}]")
        ]
    return [prefix] if isinstance(value, str) and is_encrypted(value) else []


def is_encrypted(value: str) -> bool:
    """True for a value ``sops`` encrypted (``ENC[AES256_GCM,data:…]``)."""
    return value.startswith(ENCRYPTED_PREFIX)
