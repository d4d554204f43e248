"""The registry client against real docker-registry instances: pages, auth, failures, cache."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest
from kgitlib import free_port
from registrylib import USER

from kgit.images.credentials import Credentials
from kgit.images.errors import RegistryError
from kgit.images.refs import parse_image
from kgit.images.registry import RegistryClient, TagCache, fetch_all_tags

if TYPE_CHECKING:
    from pathlib import Path

    from registrylib import Registry

pytestmark = pytest.mark.integration

CREDENTIALS = Credentials(USER.name, USER.password)


def test_tags_are_read_across_pages(registry: Registry, unique: str) -> None:
    tags = ["v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v2.0.0", "latest"]
    registry.push(f"{unique}/app", *tags)
    image = parse_image(f"{registry.host}/{unique}/app:v1.0.0")
    assert sorted(RegistryClient(page_size=2).list_tags(image)) == sorted(tags)
    assert sorted(RegistryClient().list_tags(image)) == sorted(tags)


def test_unknown_repository_and_unreachable_registry(registry: Registry, unique: str) -> None:
    client = RegistryClient(timeout=2)
    with pytest.raises(RegistryError, match=rf"^{registry.host}/{unique}/none: .* \(404\)"):
        client.list_tags(parse_image(f"{registry.host}/{unique}/none:1"))
    port = free_port()
    with pytest.raises(
        RegistryError, match=rf"^127.0.0.1:{port}/a/b: cannot reach 127.0.0.1:{port}"
    ):
        client.list_tags(parse_image(f"127.0.0.1:{port}/a/b:1"))


def test_a_silent_registry_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts connections, never answers
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(RegistryError, match=rf"{host} did not answer within 0.5 s"):
            RegistryClient(timeout=0.5).list_tags(parse_image(f"{host}/a/b:1"))
        assert time.monotonic() - started < 5


def test_basic_auth(basic_registry: Registry, unique: str) -> None:
    basic_registry.push(f"{unique}/app", "1.0", "1.1")
    image = parse_image(f"{basic_registry.host}/{unique}/app:1.0")
    with pytest.raises(RegistryError, match="asks for a user and password and none are known"):
        RegistryClient().list_tags(image)
    wrong = {basic_registry.host: Credentials(USER.name, "wrong")}
    with pytest.raises(RegistryError, match=r"refused the credentials \(401"):
        RegistryClient(wrong).list_tags(image)
    client = RegistryClient({basic_registry.host: CREDENTIALS})
    assert sorted(client.list_tags(image)) == ["1.0", "1.1"]


def test_bearer_token_auth(token_registry: Registry, unique: str) -> None:
    token_registry.push(f"{unique}/app", "3.1.0", "3.1.5")
    image = parse_image(f"{token_registry.host}/{unique}/app:3.1.0")
    with pytest.raises(RegistryError, match=r"token request refused: .* no credentials are known"):
        RegistryClient().list_tags(image)
    client = RegistryClient({token_registry.host: CREDENTIALS}, page_size=1)
    assert sorted(client.list_tags(image)) == ["3.1.0", "3.1.5"]
    tokens = token_registry.tokens
    assert tokens is not None
    asked = len(tokens.requests)
    # The token is kept for the client's next requests.
    assert sorted(client.list_tags(image)) == ["3.1.0", "3.1.5"]
    assert len(tokens.requests) == asked


def test_the_cache_answers_between_rounds(registry: Registry, unique: str, tmp_path: Path) -> None:
    registry.push(f"{unique}/cached", "1.0")
    image = parse_image(f"{registry.host}/{unique}/cached:1.0")
    down = parse_image(f"127.0.0.1:{free_port()}/x/y:1")
    cache = TagCache(tmp_path / "cache", max_age=300)
    first = fetch_all_tags([image, image, down], RegistryClient(timeout=2), cache)
    assert set(first) == {image.canonical, down.canonical}
    assert isinstance(first[down.canonical], RegistryError)
    registry.push(f"{unique}/cached", "1.1")
    second = fetch_all_tags([image], RegistryClient(), cache)[image.canonical]
    assert not isinstance(second, RegistryError)
    assert second.cached and second.tags == ("1.0",)
    fresh = fetch_all_tags([image], RegistryClient(), TagCache(tmp_path / "cache", 0))
    result = fresh[image.canonical]
    assert not isinstance(result, RegistryError)
    assert not result.cached and sorted(result.tags) == ["1.0", "1.1"]
