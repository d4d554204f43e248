"""redact_url: no credential of a URL is ever printed or recorded."""

from __future__ import annotations

import pytest

from kgit.redact import redact_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("https://user:s3cret@git.example/r.git", "https://***@git.example/r.git"),
        ("HTTP://ghp_token@git.example/r.git", "HTTP://***@git.example/r.git"),
        ("ssh://git:pw@git.example:2222/r.git", "ssh://git:***@git.example:2222/r.git"),
        ("ssh://git@git.example/r.git", "ssh://git@git.example/r.git"),
        ("git@git.example:org/r.git", "git@git.example:org/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        ("https://git.example/a@b", "https://git.example/a@b"),
        (
            "fatal: unable to access 'https://u:p@h/r.git/': 403; https://x@h/s",
            "fatal: unable to access 'https://***@h/r.git/': 403; https://***@h/s",
        ),
    ],
)
def test_credentials_are_masked(given: str, shown: str) -> None:
    assert redact_url(given) == shown
