"""The decryption stage as the planning verbs run it: the keys they were given, lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.services.options import IDENTITY_NAMESPACE
from kgit.sops.keys import AgeKeys, combine, parse_secret_ref, read_key_file, read_key_secret
from kgit.sops.stage import decrypt_source

if TYPE_CHECKING:
    from kgit.cluster.client import Cluster
    from kgit.services.options import DecryptionOptions
    from kgit.source.read import Source


def age_keys(cluster: Cluster, options: DecryptionOptions) -> AgeKeys:
    """The age keys of ``--sops-age-key-file`` and ``--sops-age-secret``, in that order.

    Raises :class:`ConfigError` for an unreadable key file, :class:`DecryptionError`
    for a missing key Secret.
    """
    found: list[AgeKeys] = []
    if options.sops_age_key_file is not None:
        found.append(read_key_file(options.sops_age_key_file))
    if options.sops_age_secret:
        namespace, name = parse_secret_ref(options.sops_age_secret, IDENTITY_NAMESPACE)
        found.append(read_key_secret(cluster, namespace, name))
    return combine(found)


def decrypted(cluster: Cluster, source: Source, options: DecryptionOptions) -> Source:
    """``source`` with its SOPS-encrypted files decrypted in memory (the keys are read
    only when a file is encrypted). Raises :class:`DecryptionError` naming the file."""
    return decrypt_source(source, lambda: age_keys(cluster, options))
