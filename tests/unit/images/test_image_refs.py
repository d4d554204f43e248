"""Image references, normalised as Docker does for registry requests."""

from __future__ import annotations

import pytest

from kgit.images.refs import ImageRefError, parse_image

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "api_host"),
    [
        ("nginx", "docker.io", "library/nginx", None, None, "registry-1.docker.io"),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None, "registry-1.docker.io"),
        ("stefanprodan/podinfo:3.1.0", "docker.io", "stefanprodan/podinfo", "3.1.0", None, "registry-1.docker.io"),
        ("ghcr.io/org/app:v1", "ghcr.io", "org/app", "v1", None, "ghcr.io"),
        ("127.0.0.1:5000/team/app:v1.0.0", "127.0.0.1:5000", "team/app", "v1.0.0", None, "127.0.0.1:5000"),
        ("localhost/app", "localhost", "app", None, None, "localhost"),
        ("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", None, "registry-1.docker.io"),
        ("reg:5000/a@sha256:" + "0" * 64, "reg:5000", "a", None, "sha256:" + "0" * 64, "reg:5000"),
    ],
)  # fmt: skip
def test_parse_image(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None, api_host: str
) -> None:
    ref = parse_image(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.api_host == api_host


def test_with_tag_keeps_the_name_as_written() -> None:
    assert parse_image("nginx:1.0").with_tag("1.1") == "nginx:1.1"
    assert parse_image("127.0.0.1:5000/app").with_tag("v2") == "127.0.0.1:5000/app:v2"


@pytest.mark.parametrize("bad", ["", ":v1", "Upper/Case:1", "app:bad tag", "app:-x"])
def test_bad_references(bad: str) -> None:
    with pytest.raises(ImageRefError):
        parse_image(bad)
