"""The age keys kgit hands to ``sops``: from a key file, or from a Secret in the cluster.

An age key file (``age-keygen``'s output) holds identities (``AGE-SECRET-KEY-1…``) and,
as comments, their public keys; a Secret holds such files in its entries whose names end
in ``.agekey`` (Flux's ``decryption.secretRef`` layout, and ``kgit sops-key``'s). The
identities go to ``sops`` in its environment, never to a file; the public keys name the
keys in messages.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kgit.cluster import SECRET
from kgit.errors import ConfigError, DecryptionError

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Cluster

KEY_SUFFIX = ".agekey"
_IDENTITY = re.compile(r"^AGE-(SECRET-KEY|PLUGIN-[A-Z0-9-]+)-1[0-9A-Z]+$", re.MULTILINE)
_PUBLIC = re.compile(r"^#\s*public key:\s*(age1[0-9a-z]+)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class AgeKeys:
    """Age identities for ``sops`` and where they came from (their public keys if known).

    ``identities`` is secret: it is never shown (not in ``repr`` either).
    """

    identities: str = field(default="", repr=False)
    recipients: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def describe(self) -> str:
        """The keys given, for a message: where from, and which public keys."""
        if not self.sources:
            return (
                "no age key was given (--sops-age-key-file, SOPS_AGE_KEY_FILE or --sops-age-secret)"
            )
        given = " and ".join(self.sources)
        if self.recipients:
            return f"the keys given ({given}) are for {', '.join(self.recipients)}"
        return f"keys given: {given}"


def parse_key_file(text: str, where: str) -> AgeKeys:
    """The identities of an age key file's ``text``; ``where`` names it in messages.

    Raises :class:`ConfigError` when it holds no identity.
    """
    count = len(_IDENTITY.findall(text))
    if count == 0:
        raise ConfigError(f"{where}: no age identity (AGE-SECRET-KEY-1…) in it")
    return AgeKeys(text.strip() + "\n", tuple(_PUBLIC.findall(text)), (where,))


def combine(keys: list[AgeKeys]) -> AgeKeys:
    """All of ``keys`` as one set, in order."""
    return AgeKeys(
        "".join(k.identities for k in keys),
        tuple(r for k in keys for r in k.recipients),
        tuple(s for k in keys for s in k.sources),
    )


def read_key_file(path: Path) -> AgeKeys:
    """The age identities in the file at ``path``; :class:`ConfigError` when unreadable."""
    where = f"--sops-age-key-file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}: cannot read it ({type(err).__name__})") from err
    return parse_key_file(text, where)


def parse_secret_ref(ref: str, default_namespace: str) -> tuple[str, str]:
    """``namespace/name`` (or ``name`` in ``default_namespace``) as its two parts."""
    namespace, _, name = ref.rpartition("/")
    if not name or "/" in namespace:
        raise ConfigError(f"--sops-age-secret {ref!r}: give NAMESPACE/NAME")
    return namespace or default_namespace, name


def read_key_secret(cluster: Cluster, namespace: str, name: str) -> AgeKeys:
    """The age identities in the ``*.agekey`` entries of Secret ``namespace/name``.

    Raises :class:`DecryptionError` when the Secret is missing or holds no age key (so
    a watcher's round fails naming it), :class:`ClusterError` when it cannot be read.
    """
    subject = f"Secret/{namespace}/{name}"
    secret = cluster.get(SECRET, namespace, name)
    if secret is None:
        raise DecryptionError(f"{subject}: not found: it should hold the age keys (*{KEY_SUFFIX})")
    entries = sorted((secret.get("data") or {}).items())
    texts = [
        base64.b64decode(value).decode("utf-8", errors="replace")
        for entry, value in entries
        if entry.endswith(KEY_SUFFIX) and value
    ]
    if not texts:
        raise DecryptionError(f"{subject}: holds no age key (no entry named *{KEY_SUFFIX})")
    return parse_key_file("\n".join(texts), subject)
