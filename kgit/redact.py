"""Credentials never leave kgit through a URL: one function masks them wherever a URL is
printed or recorded (errors, watch logs, plan files, the state, the status ConfigMap).

``https://user:password@host/repo.git`` and ``https://TOKEN@host/repo.git`` (hosts take
tokens as the user name) both become ``https://***@host/repo.git``; another scheme keeps
its user name and loses its password (``ssh://git:***@host``); ``git@host:path`` has no
secret and stays.
"""

from __future__ import annotations

import re

MASK = "***"
# A scheme, then userinfo up to the first "@" before any "/" (the authority's end).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s'\"]+)@")


def redact_url(text: str) -> str:
    """``text`` (a URL, or a message holding URLs) with every URL's credentials masked."""
    return _USERINFO.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    user, has_password, _ = match.group("userinfo").partition(":")
    if scheme.lower().startswith("http"):
        return f"{scheme}{MASK}@"
    if has_password:
        return f"{scheme}{user}:{MASK}@"
    return match.group(0)
