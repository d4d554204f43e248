"""The decryption stage's pure decisions: which kinds may be encrypted, what sops's errors mean."""

from __future__ import annotations

import pytest

from kgit.errors import ConfigError
from kgit.sops.binary import reason_of
from kgit.sops.keys import AgeKeys, combine, parse_key_file, parse_secret_ref
from kgit.sops.stage import kind_allowed

pytestmark = pytest.mark.unit

KEY_FILE = (
    "# created: 2026-01-01T00:00:00Z\n# public key: age1abc\n"
    "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"
)


@pytest.mark.parametrize(
    ("api_version", "kind", "allowed", "expected"),
    [
        ("v1", "Secret", (), True),
        (None, "Secret", (), True),
        ("example.com/v1", "Secret", (), False),
        ("v1", "ConfigMap", (), False),
        ("v1", "ConfigMap", ("ConfigMap",), True),
        ("example.com/v1", "ConfigMap", ("ConfigMap",), False),
        ("example.com/v1", "Widget", ("Widget.example.com",), True),
        ("other.com/v1", "Widget", ("Widget.example.com",), False),
        ("v1", "Widget", ("Widget.example.com",), False),
    ],
)
def test_only_secrets_and_allowed_kinds(
    api_version: str | None, kind: str, allowed: tuple[str, ...], expected: bool
) -> None:
    assert kind_allowed(api_version, kind, allowed) is expected


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("MAC mismatch. File has 1F, computed 2A", "its MAC does not match"),
        ("Cannot decrypt MAC: Could not decrypt with AES_GCM", "its MAC does not decrypt"),
        ("Failed to get the data key required to decrypt", "none of the keys given"),
        ("Error walking tree: Could not decrypt value: cipher", "a value does not decrypt"),
        ("line 3: password: canary", "it is not a valid SOPS file (sops exit 1)"),
    ],
)
def test_sops_errors_are_told_in_kgits_words(stderr: str, reason: str) -> None:
    told = reason_of(stderr, 1)
    assert told.startswith(reason)
    assert "canary" not in told and "1F" not in told


def test_key_files_and_their_public_keys() -> None:
    keys = parse_key_file(KEY_FILE, "keys.txt")
    assert (keys.recipients, keys.sources) == (("age1abc",), ("keys.txt",))
    assert "AGE-SECRET-KEY" not in repr(keys)
    both = combine([keys, parse_key_file(KEY_FILE.replace("age1abc", "age1def"), "Secret/a/b")])
    assert both.describe() == "the keys given (keys.txt and Secret/a/b) are for age1abc, age1def"
    assert both.identities.count("AGE-SECRET-KEY-1") == 2
    assert AgeKeys().describe().startswith("no age key was given")
    with pytest.raises(ConfigError, match=r"^keys.txt: no age identity"):
        parse_key_file("# public key: age1abc\n", "keys.txt")


def test_secret_refs() -> None:
    assert parse_secret_ref("ns/name", "kgit") == ("ns", "name")
    assert parse_secret_ref("name", "kgit") == ("kgit", "name")
    with pytest.raises(ConfigError):
        parse_secret_ref("a/b/c", "kgit")
    with pytest.raises(ConfigError):
        parse_secret_ref("ns/", "kgit")
