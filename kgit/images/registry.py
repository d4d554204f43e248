"""A client of the Docker Registry HTTP API v2 that lists tags, and a file cache of the lists.

Only the tag list is read (``GET /v2/<name>/tags/list``, following ``Link: <…>; rel="next"``
pages): one request per image and page, never one per tag, so polling stays within
registries' rate limits. Authentication follows the registry's ``WWW-Authenticate``
challenge: ``Bearer`` (a token from the named realm, asked for with the registry's
credentials when there are some, anonymously otherwise) or ``Basic``. Loopback registries
are spoken to over plain ``http``, every other one over ``https``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgit.images.credentials import registry_key
from kgit.images.errors import RegistryError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from email.message import Message

    from kgit.images.credentials import Credentials
    from kgit.images.refs import ImageRef

DEFAULT_TIMEOUT = 10.0
# A registry that keeps answering "next" must not keep kgit busy forever.
MAX_PAGES = 1000
_MAX_BODY = 32 * 1024 * 1024
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_USER_AGENT = "kgit-image-automation"


@dataclass(frozen=True, slots=True)
class Tags:
    """An image's tags and when they were fetched (seconds since the epoch)."""

    image: str
    tags: tuple[str, ...]
    fetched_at: float
    cached: bool = False


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses, with or without a port."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or "]" in host else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """Lists tags of images; one instance keeps its bearer tokens for its lifetime.

    ``credentials`` maps registry names (see :func:`registry_key`) to credentials.
    ``page_size`` asks for pages of that many tags (``n=``); None lets the registry choose.
    """

    def __init__(
        self,
        credentials: Mapping[str, Credentials] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int | None = None,
    ) -> None:
        self._credentials = dict(credentials or {})
        self._timeout = timeout
        self._page_size = page_size
        self._tokens: dict[tuple[str, str, str], str] = {}
        self._direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._proxied = urllib.request.build_opener()

    def list_tags(self, image: ImageRef) -> tuple[str, ...]:
        """Every tag of ``image``'s repository, in the registry's order.

        Raises :class:`RegistryError` (starting with the image's name) when the registry
        is unreachable, times out, refuses the credentials or answers with an error.
        """
        host = image.api_host
        scheme = "http" if is_loopback(host) else "https"
        query = f"?n={self._page_size}" if self._page_size else ""
        url: str | None = f"{scheme}://{host}/v2/{image.repository}/tags/list{query}"
        tags: list[str] = []
        pages = 0
        while url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise RegistryError(f"{image.canonical}: more than {MAX_PAGES} pages of tags")
            body, headers = self._get(image, url)
            try:
                doc = json.loads(body)
                page = doc.get("tags") or []
            except (ValueError, AttributeError) as err:
                raise RegistryError(f"{image.canonical}: the tag list is not JSON") from err
            tags.extend(str(tag) for tag in page)
            url = _next_page(url, headers.get_all("Link") or [])
        return tuple(tags)

    def _get(self, image: ImageRef, url: str) -> tuple[bytes, Message]:
        authorization = self._cached_authorization(image)
        status, body, headers = self._request(image, url, authorization)
        if status == 401:
            # No token yet, or it expired: answer the challenge once.
            authorization = self._answer(image, headers.get("WWW-Authenticate", ""))
            status, body, headers = self._request(image, url, authorization)
        if status == 200:
            return body, headers
        detail = _describe(status, body, image.api_host)
        if status == 401 and self._credentials_for(image) is None:
            detail += f"; no credentials are known for {image.registry}"
        raise RegistryError(f"{image.canonical}: {detail}")

    def _request(
        self, image: ImageRef, url: str, authorization: str | None
    ) -> tuple[int, bytes, Message]:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        request.add_header("Accept", "application/json")
        if authorization:
            request.add_header("Authorization", authorization)
        opener = self._direct if is_loopback(image.api_host) else self._proxied
        try:
            with opener.open(request, timeout=self._timeout) as response:
                return int(response.status), response.read(_MAX_BODY), response.headers
        except urllib.error.HTTPError as err:
            with err:
                return int(err.code), err.read(_MAX_BODY), err.headers
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise self._timed_out(image) from err
            raise RegistryError(
                f"{image.canonical}: cannot reach {image.api_host}: {_reason(err)}"
            ) from err
        except TimeoutError as err:
            raise self._timed_out(image) from err
        except OSError as err:
            raise RegistryError(
                f"{image.canonical}: cannot reach {image.api_host}: {err.strerror or err}"
            ) from err

    def _timed_out(self, image: ImageRef) -> RegistryError:
        return RegistryError(
            f"{image.canonical}: {image.api_host} did not answer within {self._timeout:g} s"
        )

    def _credentials_for(self, image: ImageRef) -> Credentials | None:
        return self._credentials.get(registry_key(image.registry))

    def _cached_authorization(self, image: ImageRef) -> str | None:
        for (host, _, scope), token in self._tokens.items():
            if host == image.api_host and scope == _scope(image):
                return f"Bearer {token}"
        return None

    def _answer(self, image: ImageRef, challenge: str) -> str:
        """The Authorization header that answers ``challenge`` for ``image``."""
        scheme, _, params_text = challenge.strip().partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        credentials = self._credentials_for(image)
        if scheme.lower() == "basic":
            if credentials is None:
                raise RegistryError(
                    f"{image.canonical}: {image.api_host} asks for a user and password "
                    f"and none are known for it (--docker-config or --pull-secret)"
                )
            return _basic(credentials)
        if scheme.lower() == "bearer" and params.get("realm"):
            return f"Bearer {self._token(image, params, credentials)}"
        raise RegistryError(
            f"{image.canonical}: {image.api_host} answered 401 with an unknown challenge "
            f"{challenge!r}"
        )

    def _token(
        self, image: ImageRef, params: Mapping[str, str], credentials: Credentials | None
    ) -> str:
        realm = params["realm"]
        scope = _scope(image)
        query = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        url = f"{realm}{'&' if '?' in realm else '?'}{urllib.parse.urlencode(query)}"
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise RegistryError(f"{image.canonical}: token realm {realm!r} is not an http URL")
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if credentials is not None:
            headers["Authorization"] = _basic(credentials)
        request = urllib.request.Request(url, headers=headers)
        realm_host = urllib.parse.urlsplit(url).hostname or ""
        opener = self._direct if is_loopback(realm_host) else self._proxied
        try:
            with opener.open(request, timeout=self._timeout) as response:
                doc = json.loads(response.read(_MAX_BODY))
        except urllib.error.HTTPError as err:
            with err:
                detail = _describe(int(err.code), err.read(_MAX_BODY), realm_host)
            if credentials is None:
                detail += f"; no credentials are known for {image.registry}"
            raise RegistryError(f"{image.canonical}: token request refused: {detail}") from err
        except (urllib.error.URLError, OSError) as err:
            raise RegistryError(
                f"{image.canonical}: cannot reach the token service {realm}: {_reason(err)}"
            ) from err
        except ValueError as err:
            raise RegistryError(f"{image.canonical}: the token answer is not JSON") from err
        token = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{image.canonical}: the token service gave no token")
        self._tokens[(image.api_host, params.get("service", ""), scope)] = token
        return token


def _scope(image: ImageRef) -> str:
    return f"repository:{image.repository}:pull"


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _next_page(url: str, links: Iterable[str]) -> str | None:
    for link in links:
        found = _LINK_NEXT.search(link)
        if found:
            return urllib.parse.urljoin(url, str(found.group(1)))
    return None


def _reason(err: BaseException) -> str:
    reason: Any = getattr(err, "reason", None) or err
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return str(reason)


def _describe(status: int, body: bytes, host: str) -> str:
    """A registry's error answer in one line: status, and the first error it gave."""
    detail = ""
    try:
        errors = json.loads(body).get("errors") or []
        if errors and isinstance(errors[0], dict):
            first = errors[0]
            detail = f": {first.get('code', '')} {first.get('message', '')}".rstrip()
    except (ValueError, AttributeError):
        pass
    if status == 401:
        return f"{host} refused the credentials (401 Unauthorized){detail}"
    if status == 404:
        return f"{host} has no such repository (404){detail}"
    if status == 429:
        return f"{host} rate-limits kgit (429 Too Many Requests){detail}; try again later"
    return f"{host} answered {status}{detail}"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/kgit/images``, else ``~/.cache/kgit/images``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "kgit" / "images"


class TagCache:
    """Tag lists kept in files between rounds, one JSON file per image repository.

    A list younger than ``max_age`` seconds is used instead of asking the registry.
    Unreadable entries count as missing; write failures are ignored (a cache must never
    fail a round).
    """

    def __init__(self, directory: Path, max_age: float) -> None:
        self.directory = directory
        self.max_age = max_age

    def _file(self, canonical: str) -> Path:
        return self.directory / f"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}.json"

    def load(self, canonical: str, now: float) -> Tags | None:
        """The cached tags of ``canonical`` if younger than ``max_age``, else None."""
        try:
            doc = json.loads(self._file(canonical).read_text())
            fetched = float(doc["fetched_at"])
            tags = tuple(str(t) for t in doc["tags"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if doc.get("image") != canonical or not 0 <= now - fetched < self.max_age:
            return None
        return Tags(canonical, tags, fetched, cached=True)

    def store(self, tags: Tags) -> None:
        """Keep ``tags`` for the next rounds (atomically: a reader sees old or new)."""
        doc = {"image": tags.image, "tags": list(tags.tags), "fetched_at": tags.fetched_at}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.directory, suffix=".tmp", delete=False
            ) as out:
                json.dump(doc, out)
            os.replace(out.name, self._file(tags.image))
        except OSError:
            return


def fetch_all_tags(
    images: Iterable[ImageRef],
    client: RegistryClient,
    cache: TagCache | None,
    *,
    workers: int = 4,
) -> dict[str, Tags | RegistryError]:
    """The tags of each image repository (by canonical name), or why they could not be had.

    Repositories are asked in parallel, each once however many containers use it; a
    failure stays with its repository.
    """
    unique = {image.canonical: image for image in images}
    now = time.time()
    results: dict[str, Tags | RegistryError] = {}
    missing = []
    for canonical, image in unique.items():
        cached = cache.load(canonical, now) if cache is not None else None
        if cached is not None:
            results[canonical] = cached
        else:
            missing.append(image)

    def fetch(image: ImageRef) -> Tags | RegistryError:
        try:
            tags = Tags(image.canonical, client.list_tags(image), time.time())
        except RegistryError as err:
            return err
        if cache is not None:
            cache.store(tags)
        return tags

    if missing:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(missing)))) as pool:
            for image, result in zip(missing, pool.map(fetch, missing), strict=True):
                results[image.canonical] = result
    return results
