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
from kgit.sops.detect import parse_documents, read_encrypted, read_encrypted_data
from kgit.sops.generators import secret_generator_files
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

    The plain manifest files, and the files renderings read (``inputs``): there only
    Secrets and the files of a Kustomize ``secretGenerator`` are decrypted, for a kind
    of another allowed kind could not be found again once rendered, to be masked.
    ``keys`` is called once, at the first encrypted file. Raises
    :class:`DecryptionError` naming the file and its recipients (never its content)
    when a file cannot be decrypted or may not be.
    """
    allowed = source.config.sops_kinds
    decrypter = _Decrypter(keys)
    files: list[SourceFile] = []
    rules: list[SensitiveRule] = []
    for file in source.files:
        encrypted = read_encrypted(file.path, file.data)
        if encrypted is None:
            files.append(file)
            continue
        for document in encrypted.documents:
            _check_kind(file.path, document.api_version, document.kind, allowed)
        plain = decrypter.decrypt(file, encrypted)
        rules.extend(_masking_rules(plain, encrypted, allowed))
        files.append(plain)
    generated = secret_generator_files(source.inputs)
    inputs = [_decrypt_input(file, file.path in generated, decrypter) for file in source.inputs]
    if not decrypter.used:
        return source
    config = dataclasses.replace(source.config, sensitive=(*source.config.sensitive, *rules))
    changed = {new.path for old, new in zip(source.inputs, inputs, strict=True) if new is not old}
    return dataclasses.replace(
        source,
        files=tuple(files),
        inputs=tuple(inputs),
        config=config,
        decrypted=source.decrypted | changed,
    )


class _Decrypter:
    """Runs ``sops`` with the keys, read at the first file; errors name the file."""

    def __init__(self, keys: Callable[[], AgeKeys]) -> None:
        self._keys = keys
        self._given: AgeKeys | None = None
        self.used = False

    def decrypt(self, file: SourceFile, encrypted: EncryptedFile) -> SourceFile:
        self.used = True
        try:
            self._given = self._given or self._keys()
            data = decrypt(file.data, encrypted.fmt, age_keys=self._given.identities)
        except KgitError as err:
            keys_text = f"; {self._given.describe()}" if self._given is not None else ""
            raise DecryptionError(
                f"{file.path}: cannot decrypt it (SOPS, encrypted for "
                f"{encrypted.recipients_text}): {err}{keys_text}"
            ) from err
        return SourceFile(file.path, data)


def _decrypt_input(file: SourceFile, generated: bool, decrypter: _Decrypter) -> SourceFile:
    """A file a rendering reads, decrypted when it is a Secret's or a secretGenerator's."""
    encrypted = read_encrypted_data(file.path, file.data)
    if encrypted is None:
        return file
    if generated:
        return decrypter.decrypt(file, encrypted)
    if encrypted.fmt not in ("yaml", "json"):
        raise DecryptionError(
            f"{file.path}: SOPS-encrypted, but not read by a secretGenerator alone: inside "
            "a Kustomize directory or a chart, kgit decrypts only Secrets and the files "
            "only secretGenerators read"
        )
    for document in encrypted.documents:
        _check_kind(file.path, document.api_version, document.kind, (), rendered=True)
    plain = decrypter.decrypt(file, encrypted)
    _masking_rules(plain, encrypted, (), rendered=True)  # Secrets only: no rule to make
    return plain


def kind_allowed(api_version: str | None, kind: str, allowed: tuple[str, ...]) -> bool:
    """True for a Secret, and for a kind ``allowed`` names (``Kind`` or ``Kind.group``)."""
    if kind == "Secret" and api_version in (None, "v1"):
        return True
    group = group_of(api_version or "")
    return any(entry.partition(".") == (kind, "." if group else "", group) for entry in allowed)


def _check_kind(
    path: str,
    api_version: str | None,
    kind: str | None,
    allowed: tuple[str, ...],
    *,
    rendered: bool = False,
) -> None:
    """Refuse a kind that may not be encrypted (a List's items are checked once decrypted)."""
    if kind is None or kind.endswith("List") or kind_allowed(api_version, kind, allowed):
        return
    if rendered:
        raise DecryptionError(
            f"{path}: a SOPS-encrypted {kind} inside a Kustomize directory or a chart: "
            "only Secrets are decrypted there (its values could not be masked once rendered)"
        )
    name = kind if not group_of(api_version or "") else f"{kind}.{group_of(api_version or '')}"
    raise DecryptionError(
        f"{path}: a SOPS-encrypted {kind}: only Secrets are decrypted unless kgit.yaml "
        f"allows the kind (sops: {{kinds: [{name}]}})"
    )


def _masking_rules(
    plain: SourceFile, encrypted: EncryptedFile, allowed: tuple[str, ...], *, rendered: bool = False
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
        if obj.get("kind") is None:
            raise DecryptionError(
                f"{plain.path}: SOPS-encrypted, but not a manifest: kgit decrypts only "
                "manifests and the files of secretGenerators"
            )
        _check_kind(plain.path, obj.get("apiVersion"), kind, allowed, rendered=rendered)
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
