"""The decryption stage of reading a source: encrypted files in, plaintext files out.

It runs after a commit's files are read and before they are rendered or loaded, so
everything downstream sees plain manifests; the plaintext lives in the returned
:class:`Source` only, in memory. Only Secrets may be encrypted unless ``kgit.yaml``'s
``sops.kinds`` allows a kind; such an object's ``data`` and ``binaryData`` values are
then masked like a Secret's, by a sensitive rule made for it here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import yaml

from kgit.errors import DecryptionError, KgitError
from kgit.manifests.keys import group_of
from kgit.manifests.normalize import SensitiveRule, is_secret
from kgit.sops.binary import decrypt
from kgit.sops.detect import parse_documents, read_encrypted
from kgit.source.git import SourceFile

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.sops.detect import EncryptedFile
    from kgit.sops.keys import AgeKeys
    from kgit.source.read import Source

# Where an encrypted value of an allowed kind may be: its identity, which every plan
# shows anyway, or the value maps kgit masks.
_MASKED_FIELDS = ("data", "binaryData")
_IDENTITY_FIELDS = ("apiVersion", "kind", "metadata")


def decrypt_source(source: Source, keys: Callable[[], AgeKeys]) -> Source:
    """``source`` with its SOPS-encrypted files decrypted (itself when none is).

    ``keys`` is called once, at the first encrypted file. Raises
    :class:`DecryptionError` naming the file and its recipients (never its content)
    when a file cannot be decrypted or holds a kind that may not be encrypted.
    """
    allowed = source.config.sops_kinds
    files: list[SourceFile] = []
    rules: list[SensitiveRule] = []
    given: AgeKeys | None = None
    for file in source.files:
        encrypted = read_encrypted(file.path, file.data)
        if encrypted is None:
            files.append(file)
            continue
        for document in encrypted.documents:
            _check_kind(file.path, document.api_version, document.kind, allowed)
        try:
            given = given or keys()
            plain = SourceFile(
                file.path, decrypt(file.data, encrypted.fmt, age_keys=given.identities)
            )
        except KgitError as err:
            keys_text = f"; {given.describe()}" if given is not None else ""
            raise DecryptionError(
                f"{file.path}: cannot decrypt it (SOPS, encrypted for "
                f"{encrypted.recipients_text}): {err}{keys_text}"
            ) from err
        rules.extend(_masking_rules(plain, encrypted, allowed))
        files.append(plain)
    if given is None:
        return source
    config = dataclasses.replace(source.config, sensitive=(*source.config.sensitive, *rules))
    return dataclasses.replace(source, files=tuple(files), config=config)


def kind_allowed(api_version: str | None, kind: str, allowed: tuple[str, ...]) -> bool:
    """True for a Secret, and for a kind ``allowed`` names (``Kind`` or ``Kind.group``)."""
    if kind == "Secret" and api_version in (None, "v1"):
        return True
    group = group_of(api_version or "")
    return any(entry.partition(".") == (kind, "." if group else "", group) for entry in allowed)


def _check_kind(
    path: str, api_version: str | None, kind: str | None, allowed: tuple[str, ...]
) -> None:
    """Refuse a kind that may not be encrypted (a List's items are checked once decrypted)."""
    if kind is None or kind.endswith("List") or kind_allowed(api_version, kind, allowed):
        return
    name = kind if not group_of(api_version or "") else f"{kind}.{group_of(api_version or '')}"
    raise DecryptionError(
        f"{path}: a SOPS-encrypted {kind}: only Secrets are decrypted unless kgit.yaml "
        f"allows the kind (sops: {{kinds: [{name}]}})"
    )


def _masking_rules(
    plain: SourceFile, encrypted: EncryptedFile, allowed: tuple[str, ...]
) -> list[SensitiveRule]:
    """A rule masking each decrypted object of an allowed kind; Secrets are masked anyway.

    Raises :class:`DecryptionError` for an object of a kind not allowed (its kind was
    encrypted too), and for one with encrypted values outside the maps kgit masks.
    """
    try:
        values = parse_documents(plain.data, encrypted.fmt)
    except (ValueError, yaml.YAMLError) as err:
        raise DecryptionError(f"{plain.path}: sops gave no valid {encrypted.fmt}") from err
    rules = []
    for document, obj in zip(encrypted.documents, values, strict=False):
        kind = str(obj.get("kind"))
        if is_secret(obj):
            continue
        if kind.endswith("List"):
            # A List's items are masked only if Secrets: its paths are not the items'.
            for item in obj.get("items") or ():
                if not (isinstance(item, dict) and is_secret(item)):
                    raise DecryptionError(
                        f"{plain.path}: a SOPS-encrypted {kind} may hold only Secrets: "
                        "encrypt other kinds as documents of their own"
                    )
            continue
        _check_kind(plain.path, obj.get("apiVersion"), kind, allowed)
        meta = obj.get("metadata") or {}
        outside = [
            path
            for path in document.encrypted
            if path.split(".", 1)[0].split("[", 1)[0] not in (*_MASKED_FIELDS, *_IDENTITY_FIELDS)
        ]
        if outside:
            raise DecryptionError(
                f"{plain.path}: {kind}/{meta.get('name')}: SOPS-encrypted values outside "
                f"data and binaryData ({', '.join(outside)}) would be shown in plans: "
                "encrypt only those (sops --encrypted-regex '^(data|binaryData)$')"
            )
        rules.append(
            SensitiveRule(
                group=group_of(str(obj.get("apiVersion") or "")),
                kind=kind,
                namespace=str(meta.get("namespace") or "*"),
                name=str(meta.get("name")),
                reason=f"SOPS-encrypted in {plain.path}",
            )
        )
    return rules
