"""Registry credentials: Docker's config file or a Kubernetes pull Secret.

Both hold a dockerconfigjson document: ``{"auths": {"<host>": {"auth": base64(user:pass)}}}``
(or ``username``/``password``; the older ``.dockercfg`` form without ``auths`` is read too).
Hosts are matched by registry name, however the key was written (``https://host/v1/``,
``host:port``); Docker Hub's keys (``https://index.docker.io/v1/``) count for ``docker.io``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kgit.cluster.client import SECRET
from kgit.images.errors import ImageError
from kgit.images.refs import DOCKER_HUB

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from kgit.cluster.client import Cluster

_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
_DOCKER_CFG = "kubernetes.io/dockercfg"
_HUB_ALIASES = frozenset({"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (or token) for one registry."""

    username: str
    password: str = ""

    def __repr__(self) -> str:
        # Never show a password in a traceback or a log.
        return f"Credentials(username={self.username!r}, password=***)"


def registry_key(text: str) -> str:
    """A config key or image registry as one host name: scheme, path and Hub aliases gone."""
    host = text.strip()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0].lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


def parse_docker_config(data: bytes | str, source: str) -> dict[str, Credentials]:
    """The credentials per registry in a dockerconfigjson document.

    ``source`` names the document in messages. Raises :class:`ImageError` when it is not
    JSON or an entry cannot be read. Entries without credentials (a credential helper's)
    are left out.
    """
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ImageError(f"{source}: not a Docker config (JSON): {err}") from err
    if not isinstance(doc, dict):
        raise ImageError(f"{source}: not a Docker config (expected a JSON object)")
    auths = doc.get("auths", doc if "auths" not in doc and "credsStore" not in doc else {})
    if not isinstance(auths, dict):
        raise ImageError(f"{source}: auths must be an object")
    found: dict[str, Credentials] = {}
    for key, entry in auths.items():
        credentials = _entry(entry, f"{source}: {key}")
        if credentials is not None:
            found[registry_key(key)] = credentials
    return found


def _entry(entry: Any, where: str) -> Credentials | None:
    if not isinstance(entry, dict):
        raise ImageError(f"{where}: expected an object")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise ImageError(f"{where}: auth is not base64 of user:password") from err
        if not sep:
            raise ImageError(f"{where}: auth is not base64 of user:password")
        return Credentials(user, password)
    if isinstance(entry.get("username"), str) and entry["username"]:
        return Credentials(entry["username"], str(entry.get("password", "")))
    return None


def parse_pull_secret(secret: Mapping[str, Any], source: str) -> dict[str, Credentials]:
    """The credentials in a Secret of type ``kubernetes.io/dockerconfigjson`` (or dockercfg).

    Reads ``data`` (base64) or ``stringData``. Raises :class:`ImageError` naming
    ``source`` for another type or a missing key.
    """
    kind = secret.get("type")
    if kind not in (_DOCKER_CONFIG_JSON, _DOCKER_CFG):
        raise ImageError(
            f"{source}: type {kind!r} is not {_DOCKER_CONFIG_JSON} (nor {_DOCKER_CFG})"
        )
    key = ".dockerconfigjson" if kind == _DOCKER_CONFIG_JSON else ".dockercfg"
    string_data = secret.get("stringData") or {}
    data = secret.get("data") or {}
    if isinstance(string_data, dict) and key in string_data:
        return parse_docker_config(str(string_data[key]), source)
    if isinstance(data, dict) and key in data:
        try:
            raw = base64.b64decode(str(data[key]), validate=True)
        except binascii.Error as err:
            raise ImageError(f"{source}: data.{key} is not base64") from err
        return parse_docker_config(raw, source)
    raise ImageError(f"{source}: has no {key}")


def load_credentials_file(path: Path) -> dict[str, Credentials]:
    """Credentials from a Docker config file, or from a pull Secret's manifest (YAML/JSON)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImageError(f"{path}: cannot read: {err.strerror}") from err
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Secret":
        return parse_pull_secret(doc, str(path))
    return parse_docker_config(data, str(path))


def default_docker_config() -> Path | None:
    """Docker's own config file (``$DOCKER_CONFIG/config.json`` or ``~/.docker``), if any."""
    base = os.environ.get("DOCKER_CONFIG")
    path = Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"
    return path if path.is_file() else None


def fetch_pull_secret(cluster: Cluster, namespace: str, name: str) -> dict[str, Credentials]:
    """The credentials in the pull Secret ``namespace/name`` of the cluster.

    Raises :class:`ImageError` when it does not exist or is not a dockerconfigjson Secret.
    """
    secret = cluster.get(SECRET, namespace, name)
    if secret is None:
        raise ImageError(f"Secret/{namespace}/{name}: not found")
    return parse_pull_secret(secret, f"Secret/{namespace}/{name}")


def collect_credentials(
    files: Sequence[Path],
    secrets: Sequence[str],
    connect: Callable[[], Cluster] | None = None,
) -> dict[str, Credentials]:
    """Credentials by registry from Docker config files (Docker's own when none are
    given) and pull Secrets named ``namespace/name`` (read through ``connect()``'s
    cluster). Later sources win for the same registry. Raises :class:`ImageError`.
    """
    found: dict[str, Credentials] = {}
    default = default_docker_config()
    for path in files or ([default] if default is not None else []):
        found.update(load_credentials_file(path))
    if secrets:
        if connect is None:
            raise ImageError("--pull-secret: no cluster to read Secrets from")
        cluster = connect()
        try:
            for text in secrets:
                namespace, sep, name = text.partition("/")
                if not sep or not namespace or not name or "/" in name:
                    raise ImageError(f"{text}: name a pull Secret as namespace/name")
                found.update(fetch_pull_secret(cluster, namespace, name))
        finally:
            cluster.close()
    return found
