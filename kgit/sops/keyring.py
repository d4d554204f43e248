"""kgit's own age key, kept in a Secret of the cluster (``kgit sops-key``).

The Secret ``kgit-sops-age`` holds the current key under ``age.agekey`` and the keys it
replaced under ``age-<time>.agekey``: a rotation keeps them, so files encrypted to the
old or the new recipient both decrypt until the old key is removed (``--remove-old``,
once every file is re-encrypted). Keys are made by ``age-keygen``; every ``*.agekey``
entry is read by ``--sops-age-secret`` (:mod:`kgit.sops.keys`).
"""

from __future__ import annotations

import base64
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgit.cluster import SECRET, AlreadyExistsError, ConflictError
from kgit.errors import ClusterError, ConfigError
from kgit.identity import ensure_namespace, own_secret
from kgit.sops.keys import KEY_SUFFIX, parse_key_file

if TYPE_CHECKING:
    from kgit.cluster import Cluster

SOPS_KEY_SECRET = "kgit-sops-age"
CURRENT_ENTRY = "age" + KEY_SUFFIX


@dataclass(frozen=True, slots=True)
class SopsKey:
    """The recipients of kgit's age key: the current one and those kept from rotations.

    ``created`` when this call made the current key; ``removed`` the old recipients it
    removed.
    """

    namespace: str
    recipient: str
    old_recipients: tuple[str, ...] = ()
    created: bool = False
    removed: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        """``Secret/<namespace>/kgit-sops-age``, for messages."""
        return f"Secret/{self.namespace}/{SOPS_KEY_SECRET}"


def generate_age_key() -> tuple[str, str]:
    """A new age key: (the key file text, its public recipient), made by ``age-keygen``."""
    try:
        done = subprocess.run(
            ["age-keygen"], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError as err:
        raise ConfigError("age-keygen: not found; install age (Debian's age package)") from err
    if done.returncode != 0:
        raise ConfigError(f"age-keygen failed (exit {done.returncode})")
    recipients = parse_key_file(done.stdout, "age-keygen").recipients
    if len(recipients) != 1:
        raise ConfigError("age-keygen: its output names no public key")
    return done.stdout, recipients[0]


def ensure_sops_key(
    cluster: Cluster, namespace: str, *, regenerate: bool = False, remove_old: bool = False
) -> SopsKey:
    """kgit's age key in ``namespace``: the existing one, or a new one (always with
    ``regenerate``, the current key kept as an old one); ``remove_old`` drops the old.

    Creates the namespace and the Secret when missing. Writes are conditional: of two
    concurrent calls, one writes and the other fails (or, creating, returns the key).
    Raises :class:`ClusterError` when the Secret can't be read or written.
    """
    secret = cluster.get(SECRET, namespace, SOPS_KEY_SECRET)
    data: dict[str, str] = dict((secret or {}).get("data") or {})
    created = regenerate or not data.get(CURRENT_ENTRY)
    if created:
        if data.get(CURRENT_ENTRY):
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            data[f"age-{stamp}{KEY_SUFFIX}"] = data[CURRENT_ENTRY]
        text, _ = generate_age_key()
        data[CURRENT_ENTRY] = base64.b64encode(text.encode()).decode()
    old_entries = sorted(e for e in data if e.endswith(KEY_SUFFIX) and e != CURRENT_ENTRY)
    removed = tuple(r for e in old_entries for r in _recipients(data[e])) if remove_old else ()
    if remove_old:
        for entry in old_entries:
            del data[entry]
    if created or removed:
        _write(cluster, namespace, secret, data)
    return SopsKey(
        namespace=namespace,
        recipient=_recipients(data[CURRENT_ENTRY])[0],
        old_recipients=()
        if remove_old
        else tuple(r for e in old_entries for r in _recipients(data[e])),
        created=created,
        removed=removed,
    )


def _recipients(entry: str) -> tuple[str, ...]:
    return parse_key_file(base64.b64decode(entry).decode(), SOPS_KEY_SECRET).recipients


def _write(
    cluster: Cluster, namespace: str, secret: dict[str, Any] | None, data: dict[str, str]
) -> None:
    subject = f"Secret/{namespace}/{SOPS_KEY_SECRET}"
    if secret is None:
        ensure_namespace(cluster, namespace)
        try:
            cluster.create(SECRET, own_secret(SOPS_KEY_SECRET, namespace, data))
        except AlreadyExistsError as err:
            raise ClusterError(f"{subject}: created by someone else meanwhile; run again") from err
        return
    # The read resourceVersion stays in the body: a concurrent change fails the PUT.
    try:
        cluster.update(SECRET, {**secret, "data": data})
    except ConflictError as err:
        raise ClusterError(f"{subject}: changed while the key was written; run again") from err
