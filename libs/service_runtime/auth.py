"""Who may call a service: caller authentication settings and the method allow-list.

  AUTH_MODE          off (default) | token | mtls
                     token: callers send `authorization: Bearer <token>`; the token's SHA-256
                            is looked up in AUTH_TOKENS_FILE to find the caller id
                     mtls:  the caller id is the verified client certificate's subject CN
                            (else its first SAN); needs TLS_CLIENT_CA_FILE
  AUTH_TOKENS_FILE   one `<caller-id> <token>` per line (`#` comments); a token written as
                     `sha256:<64 hex>` is the hash of the real one, so the file need not hold
                     secrets. Plain tokens (>= 16 characters) are hashed on load.
  AUTH_ALLOW         optional allow-list `caller=pattern,pattern;caller2=pattern`; a pattern is
                     `*`, `package.Service/*` or `package.Service/Method`, caller `*` means any
                     authenticated caller. Unset: every authenticated caller may call every
                     method. Set: anything not listed is PERMISSION_DENIED.
  ARGO_CALLER_TOKEN  the token this service sends on its own outbound calls (engine, tracker)

grpc.health.v1.Health never needs credentials (kubelet probes carry none). Reflection is
treated like any other service: it needs an authenticated, allowed caller (decision 0016).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from service_runtime.settings import ConfigError, env_choice, env_str

MODES = ("off", "token", "mtls")
UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/",)
MIN_TOKEN_LENGTH = 16
_HASH = re.compile(r"sha256:([0-9a-fA-F]{64})")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: a valid metadata value
_CALLER = re.compile(r"[A-Za-z0-9_.@:/-]{1,128}")
_PATTERN = re.compile(r"\*|[A-Za-z_][\w.]*/(\*|[A-Za-z_]\w*)")


def token_hash(token: str) -> str:
    """Hex SHA-256 of a bearer token: what AUTH_TOKENS_FILE may hold instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, repr=False)
class AuthSettings:
    mode: str = "off"
    #: token SHA-256 (hex) -> caller id
    token_hashes: Mapping[str, str] = field(default_factory=dict)
    #: caller id (or "*") -> method patterns; None: every authenticated caller, every method
    allow: Mapping[str, tuple[str, ...]] | None = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def caller_for_token(self, token: str) -> str | None:
        return self.token_hashes.get(token_hash(token))

    def allows(self, caller: str, method: str) -> bool:
        """May `caller` call `method` ("/package.Service/Method")?"""
        if self.allow is None:
            return True
        patterns = (*self.allow.get(caller, ()), *self.allow.get("*", ()))
        service = method.lstrip("/").split("/", 1)[0]
        bare = method.lstrip("/")
        return any(p == "*" or p == bare or p == f"{service}/*" for p in patterns)

    def __repr__(self) -> str:
        callers = sorted(set(self.token_hashes.values()))
        return f"AuthSettings(mode={self.mode!r}, token_callers={callers}, allow={self.allow})"


def load_auth(environ: Mapping[str, str], *, mutual_tls: bool) -> AuthSettings:
    """Read AUTH_*; raise ConfigError naming the variable. `mutual_tls`: the server verifies
    client certificates (TLS_CLIENT_CA_FILE), which AUTH_MODE=mtls needs."""
    mode = env_choice(environ, "AUTH_MODE", "off", MODES)
    tokens_path = env_str(environ, "AUTH_TOKENS_FILE")
    allow = _parse_allow(env_str(environ, "AUTH_ALLOW"))
    if mode == "off":
        return AuthSettings()
    if mode == "mtls" and not mutual_tls:
        raise ConfigError(
            "AUTH_MODE: mtls needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE"
        )
    hashes: dict[str, str] = {}
    if mode == "token":
        if not tokens_path:
            raise ConfigError("AUTH_TOKENS_FILE: required when AUTH_MODE=token")
        hashes = _read_tokens(tokens_path)
    return AuthSettings(mode=mode, token_hashes=hashes, allow=allow)


def load_caller_token(environ: Mapping[str, str]) -> str | None:
    """ARGO_CALLER_TOKEN, checked to be a valid metadata value (never echoed in errors)."""
    token = env_str(environ, "ARGO_CALLER_TOKEN")
    if not token:
        return None
    if not _TOKEN.fullmatch(token):
        raise ConfigError("ARGO_CALLER_TOKEN: must be printable ASCII without spaces")
    return token


def _read_tokens(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"AUTH_TOKENS_FILE: cannot read {path!r} ({e})") from None
    hashes: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        where = f"AUTH_TOKENS_FILE: line {number}"  # never quote the line: it may hold a token
        if len(parts) != 2 or not _CALLER.fullmatch(parts[0]):
            raise ConfigError(f"{where}: expected `<caller-id> <token or sha256:hex>`")
        caller, secret = parts
        if match := _HASH.fullmatch(secret):
            digest = match.group(1).lower()
        elif len(secret) >= MIN_TOKEN_LENGTH and _TOKEN.fullmatch(secret):
            digest = token_hash(secret)
        else:
            raise ConfigError(f"{where}: a token needs >= {MIN_TOKEN_LENGTH} printable characters")
        if hashes.get(digest, caller) != caller:
            raise ConfigError(f"{where}: the same token is listed for two callers")
        hashes[digest] = caller
    if not hashes:
        raise ConfigError(f"AUTH_TOKENS_FILE: {path!r} lists no tokens")
    return hashes


def _parse_allow(raw: str) -> dict[str, tuple[str, ...]] | None:
    if not raw:
        return None
    allow: dict[str, tuple[str, ...]] = {}
    for entry in filter(None, (e.strip() for e in raw.split(";"))):
        caller, sep, patterns_raw = entry.partition("=")
        caller = caller.strip()
        if not sep or not (caller == "*" or _CALLER.fullmatch(caller)):
            raise ConfigError(f"AUTH_ALLOW: expected caller=pattern[,pattern], got {entry!r}")
        patterns = tuple(p.strip() for p in patterns_raw.split(",") if p.strip())
        bad = [p for p in patterns if not _PATTERN.fullmatch(p)]
        if not patterns or bad:
            raise ConfigError(
                f"AUTH_ALLOW: {caller}: patterns are *, package.Service/* or "
                f"package.Service/Method, got {patterns_raw.strip()!r}"
            )
        allow[caller] = (*allow.get(caller, ()), *patterns)
    return allow
