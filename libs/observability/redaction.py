"""Secret redaction for log lines, span attributes and error messages.

Hand-written because no maintained library redacts both structured values (by key name)
and free text (credentials inside URLs, bearer tokens, `apiKey=` query parameters, and the
exact values of configured secrets) in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"(api[_-]?key|secret|password|passwd|token|authorization|credential|apikey)", re.I
)
# The user may be empty: `redis://:password@host` is how Redis `requirepass` URLs look.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@", re.I)
_QUERY_SECRET = re.compile(
    r"(?P<key>(?:api[_-]?key|apikey|token|secret|password)=)[^&\s\"']+", re.I
)
_BEARER = re.compile(r"(?P<key>bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)


class Redactor:
    """Masks known secret values and secret-shaped substrings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        merged = {s for s in (*self._secrets, *secrets) if s and len(s) >= 4}
        # Longest first so a secret that contains another is masked whole.
        self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        value = _URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{REDACTED}@", value)
        value = _QUERY_SECRET.sub(rf"\g<key>{REDACTED}", value)
        return _BEARER.sub(rf"\g<key>{REDACTED}", value)

    def value(self, key: str, value: Any) -> Any:
        if _SECRET_KEY.search(key) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(key, v) for v in value]
        return value


def secrets_from_environ(environ: Mapping[str, str]) -> list[str]:
    """Values of variables that hold credentials (API keys, secrets, URLs with passwords)."""
    found: list[str] = []
    for name, value in environ.items():
        if not value:
            continue
        if _SECRET_KEY.search(name):
            found.append(value)
        elif match := re.search(r"://[^:/@\s]*:([^@/\s]+)@", value):
            found.append(match.group(1))
    return found
