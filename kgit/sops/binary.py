"""Running the real ``sops``: ciphertext on stdin, plaintext on stdout, never a file.

``sops``'s own error text is never passed on: it may quote the file. A failure is told by
its kind (no key, MAC mismatch, not a valid SOPS file), recognised from that text, and
the caller names the file and its recipients.
"""

from __future__ import annotations

import os
import subprocess

from kgit.errors import DecryptionError

SOPS = "sops"
TIMEOUT = 60.0
# What sops's errors say, and what kgit says instead (first match wins).
_REASONS = (
    ("MAC mismatch", "its MAC does not match: the file was changed after it was encrypted"),
    ("Cannot decrypt MAC", "its MAC does not decrypt: the file was changed after it was encrypted"),
    ("Failed to get the data key", "none of the keys given can decrypt its data key"),
    ("Could not decrypt value", "a value does not decrypt: the file is corrupted"),
)


def decrypt(data: bytes, fmt: str, *, age_keys: str | None) -> bytes:
    """The plaintext of a SOPS-encrypted ``data`` in sops's format ``fmt`` (yaml, json,
    dotenv, ini, binary).

    ``age_keys`` (age identities, one a line) are given to sops in ``SOPS_AGE_KEY``,
    beside any of the environment's; ``SOPS_AGE_KEY_FILE`` and sops's default key file
    still count, so a user's own setup keeps working. Raises :class:`DecryptionError`
    with the reason, without the subject (the caller knows the file).
    """
    env = dict(os.environ)
    if age_keys:
        env["SOPS_AGE_KEY"] = "\n".join(filter(None, (env.get("SOPS_AGE_KEY"), age_keys)))
    args = [SOPS, "decrypt", "--input-type", fmt, "--output-type", fmt, "/dev/stdin"]
    try:
        done = subprocess.run(
            args, input=data, capture_output=True, env=env, check=False, timeout=TIMEOUT
        )
    except FileNotFoundError as err:
        raise DecryptionError(
            "sops is not on PATH: install it (scripts/setup builds the pinned version)"
        ) from err
    except subprocess.TimeoutExpired as err:
        raise DecryptionError(f"sops did not answer within {TIMEOUT:.0f} s") from err
    if done.returncode != 0:
        raise DecryptionError(reason_of(done.stderr.decode(errors="replace"), done.returncode))
    return done.stdout


def reason_of(stderr: str, returncode: int) -> str:
    """What a failed ``sops decrypt`` means, in kgit's words (never sops's text)."""
    for marker, reason in _REASONS:
        if marker.lower() in stderr.lower():
            return reason
    return f"it is not a valid SOPS file (sops exit {returncode})"
