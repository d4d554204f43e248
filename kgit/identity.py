"""The deploy key: an ed25519 key pair kept in a Secret, used for SSH sources.

``kgit identity`` creates it once (``--regenerate`` rotates it) in the Secret
``kgit-identity`` of its namespace, with the private key under ``identity`` and the
public key under ``identity.pub`` (Flux v1's layout). The key is made by ``ssh-keygen``:
``ssh`` must be installed for SSH sources anyway, so it costs no dependency.

A source that needs the key gets it through :func:`ssh_with_identity`, which writes the
private key to a private temporary file for as long as Git needs it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgit.cluster import NAMESPACE, SECRET, AlreadyExistsError, ConflictError
from kgit.errors import ClusterError, SourceError
from kgit.source.remote import parse_git_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kgit.cluster import Cluster
    from kgit.source.remote import SshOptions

IDENTITY_SECRET = "kgit-identity"
PRIVATE_KEY = "identity"
PUBLIC_KEY = "identity.pub"
DEFAULT_NAMESPACE = "kgit"


@dataclass(frozen=True, slots=True)
class Identity:
    """A deploy key as kept in the cluster; ``created`` when this call made it."""

    namespace: str
    private_key: bytes
    public_key: str
    created: bool = False

    @property
    def subject(self) -> str:
        """``Secret/<namespace>/kgit-identity``, for messages."""
        return f"Secret/{self.namespace}/{IDENTITY_SECRET}"


def generate_key_pair(comment: str) -> tuple[bytes, str]:
    """A new ed25519 key pair: (OpenSSH private key, ``ssh-ed25519 AAAA… comment``)."""
    with tempfile.TemporaryDirectory(prefix="kgit-keygen-") as tmp:
        key = Path(tmp) / "id_ed25519"
        _ssh_keygen("-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key))
        return key.read_bytes(), key.with_suffix(".pub").read_text().strip()


def public_key_of(private_key: bytes) -> str:
    """The OpenSSH public key line of an OpenSSH private key."""
    with _key_file(private_key) as path:
        return _ssh_keygen("-y", "-f", str(path)).strip()


def _ssh_keygen(*args: str) -> str:
    try:
        done = subprocess.run(
            ["ssh-keygen", *args], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError as err:
        raise SourceError(
            "ssh-keygen: not found; install OpenSSH's client (openssh-client)"
        ) from err
    if done.returncode != 0:
        raise SourceError(f"ssh-keygen: {done.stderr.strip() or 'failed'}")
    return done.stdout


def load_identity(cluster: Cluster, namespace: str) -> Identity | None:
    """The deploy key in ``namespace``, or None when its Secret is missing or still empty."""
    secret = cluster.get(SECRET, namespace, IDENTITY_SECRET)
    if secret is None:
        return None
    return _identity_of(secret, namespace)


def _identity_of(secret: dict[str, Any], namespace: str) -> Identity | None:
    data = secret.get("data") or {}
    if not data.get(PRIVATE_KEY):
        return None
    private = base64.b64decode(data[PRIVATE_KEY])
    public = base64.b64decode(data.get(PUBLIC_KEY) or b"").decode().strip()
    return Identity(namespace, private, public or public_key_of(private))


def ensure_identity(cluster: Cluster, namespace: str, *, regenerate: bool = False) -> Identity:
    """The deploy key in ``namespace``: the existing one, or a new one (and always with
    ``regenerate``).

    Creates the namespace and the Secret when missing, and fills the empty Secret
    ``kgit install`` leaves. Writes are conditional: of two concurrent calls, one
    creates the key and the other returns it (or, when rotating, fails and says so).
    Raises :class:`ClusterError` when the Secret can't be read or written.
    """
    secret = cluster.get(SECRET, namespace, IDENTITY_SECRET)
    if secret is not None and not regenerate:
        found = _identity_of(secret, namespace)
        if found is not None:
            return found
    private, public = generate_key_pair(f"kgit@{namespace}")
    data = {
        PRIVATE_KEY: base64.b64encode(private).decode(),
        PUBLIC_KEY: base64.b64encode(public.encode() + b"\n").decode(),
    }
    subject = f"Secret/{namespace}/{IDENTITY_SECRET}"
    if secret is None:
        ensure_namespace(cluster, namespace)
        try:
            cluster.create(SECRET, own_secret(IDENTITY_SECRET, namespace, data))
        except AlreadyExistsError:
            # Someone else created it between our read and write: theirs is the key.
            return ensure_identity(cluster, namespace)
    else:
        # The read resourceVersion stays in the body: a concurrent change fails the PUT.
        updated = {**secret, "data": {**(secret.get("data") or {}), **data}}
        try:
            cluster.update(SECRET, updated)
        except ConflictError as err:
            raise ClusterError(f"{subject}: changed while the key was written; run again") from err
    return Identity(namespace, private, public, created=True)


def own_secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    """A Secret of kgit's own (a key it keeps), labelled as kgit's, holding ``data``."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "kgit", "app.kubernetes.io/managed-by": "kgit"},
        },
        "data": data,
    }


def ensure_namespace(cluster: Cluster, namespace: str) -> None:
    """Create ``namespace`` unless it exists (or someone creates it meanwhile)."""
    if cluster.get(NAMESPACE, None, namespace) is not None:
        return
    with contextlib.suppress(AlreadyExistsError):
        cluster.create(
            NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )


@contextlib.contextmanager
def _key_file(private_key: bytes) -> Iterator[Path]:
    """``private_key`` in a file only this user can read, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kgit-key-") as tmp:
        path = Path(tmp) / "identity"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            # ssh refuses a key file whose last line has no newline.
            out.write(private_key if private_key.endswith(b"\n") else private_key + b"\n")
        yield path


@contextlib.contextmanager
def ssh_with_identity(
    cluster: Cluster, url: str, ssh: SshOptions, namespace: str = DEFAULT_NAMESPACE
) -> Iterator[SshOptions]:
    """``ssh``, with the deploy key of ``namespace`` when ``url`` is SSH and no key is given.

    The key is in a private temporary file until the block ends. Raises
    :class:`SourceError` when an SSH URL has neither ``--ssh-key`` nor a deploy key.
    """
    if not parse_git_url(url).is_ssh or ssh.key_file is not None:
        yield ssh
        return
    identity = load_identity(cluster, namespace)
    if identity is None:
        raise SourceError(
            f"{url}: no deploy key: run `kgit identity --namespace {namespace}` and add the "
            "public key it prints to the repository, or give --ssh-key FILE"
        )
    with _key_file(identity.private_key) as path:
        yield dataclasses.replace(ssh, key_file=path)
