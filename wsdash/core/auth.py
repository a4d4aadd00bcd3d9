"""Tokens: where they come from, minting dev tokens, reading claims without verifying, redaction.

PROTOCOL.md §2: HS256 tokens with the strict claims (sub, iat, exp, jti, iss, token_type).
Every token and secret that passes through here is registered with `redact` so that it can
never appear in full in anything wsdash writes.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from wsdash.core.private_files import open_private
from wsdash.core.redact import register_secret
from wsdash.core.undecodable import not_text

ISSUER = "netra-auth-service"
AUDIENCE = "netra-platform"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "jti", "iss", "token_type")


class TokenError(ValueError):
    """A token or secret could not be obtained: the message says which source and what to do."""


def mint_token(
    secret: str,
    *,
    sub: str = "wsdash-user",
    ttl_s: int = 300,
    email: str | None = "wsdash@example.com",
    env: str = "test",
    now: float | None = None,
) -> str:
    """A valid access token for the strict validator (§2), signed with `secret`."""
    import jwt

    register_secret(secret)
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_type": "access",
        "permissions": ["read", "write"],
        "env": env,
    }
    if email:
        claims["email"] = email
    with warnings.catch_warnings():  # short dev secrets are the user's choice, not news
        warnings.simplefilter("ignore")
        token = jwt.encode(claims, secret, algorithm="HS256")
    register_secret(token)
    return token


def verify_token(token: str, secret: str, *, now: float | None = None) -> dict[str, Any]:
    """Strict server-side validation (used by the embedded server). Raises TokenError."""
    import jwt

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"require": list(REQUIRED_CLAIMS[:3]), "verify_aud": False},
                leeway=0,
            )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token signature does not match the server's secret") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"token invalid: {exc}") from None
    missing = [c for c in REQUIRED_CLAIMS if c not in claims]
    if missing:
        raise TokenError(f"token lacks required claim(s): {', '.join(missing)}")
    if claims.get("iss") != ISSUER:
        raise TokenError(f"token issuer {claims.get('iss')!r} is not {ISSUER!r}")
    if claims.get("token_type") != "access":
        raise TokenError(f"token_type {claims.get('token_type')!r} is not 'access'")
    return claims


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The token's claims decoded without a signature check (for display), or None."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        data = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: who and until when — never the token."""

    subject: str | None
    expires_at: float | None
    issuer: str | None

    @classmethod
    def of(cls, token: str | None) -> "TokenInfo | None":
        if not token:
            return None
        claims = unverified_claims(token) or {}
        exp = claims.get("exp")
        return cls(
            subject=str(claims["sub"]) if "sub" in claims else None,
            expires_at=float(exp) if isinstance(exp, (int, float)) else None,
            issuer=claims.get("iss"),
        )

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (now if now is not None else time.time())

    def describe(self, now: float | None = None) -> str:
        left = self.seconds_left(now)
        who = self.subject or "unknown subject"
        if left is None:
            return f"token for {who} (no expiry)"
        if left <= 0:
            return f"token for {who} EXPIRED {format_duration(-left)} ago"
        return f"token for {who}, expires in {format_duration(left)}"


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def read_secret_file(path: str | os.PathLike[str]) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise TokenError(f"cannot read secret file {path}: {exc.strerror or exc}") from None
    try:  # utf-8-sig: Notepad and PowerShell 5.1's -Encoding utf8 write a BOM
        secret = raw.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        kind = "UTF-16 text (PowerShell 5.1's `>` writes that)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "not UTF-8 text"
        raise TokenError(f"secret file {path} is {kind}: save it as UTF-8") from None
    if not secret:
        raise TokenError(f"secret file {path} is empty")
    register_secret(secret)
    return secret


E2E_PATH = "/auth/e2e/test-auth"


def fetch_e2e_token(auth_url: str, bypass_key: str, *, timeout: float = 10.0, tls_verify: bool = True) -> str:
    """A test token from the auth service (PROTOCOL.md §2): POST {auth}/auth/e2e/test-auth with
    X-E2E-Bypass-Key. Raises TokenError saying what went wrong and what to check."""
    import httpx

    from wsdash.core.connection import ssl_context
    from wsdash.core.errors import classify
    from wsdash.core.redact import redact_url

    register_secret(bypass_key)
    url = auth_url.rstrip("/") + E2E_PATH
    where = redact_url(url)
    try:
        # The WebSocket's own TLS context (the OS trust store), not httpx's certifi bundle: behind
        # TLS inspection both must trust the same CA, or health is green and the token fails.
        tls = ssl_context(url, tls_verify)
        response = httpx.post(url, headers={"X-E2E-Bypass-Key": bypass_key}, timeout=timeout,
                              verify=tls if tls is not None else False)
    except httpx.HTTPError as exc:
        err = classify(exc, url)
        raise TokenError(f"no test token from {where}: {err.kind}: {err.message} — {err.hint}") from None
    if response.status_code in (401, 403):
        raise TokenError(f"{where} refused the E2E bypass key (HTTP {response.status_code}): check the variable that holds it")
    if response.status_code != 200:
        raise TokenError(f"{where} answered HTTP {response.status_code}: is the auth service healthy?")
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise TokenError(f"{where} answered without an access_token") from None
    if not isinstance(token, str) or not token:
        raise TokenError(f"{where} answered an empty access_token")
    register_secret(token)
    return token


def token_for(target: Any, *, env: Mapping[str, str] | None = None, ttl_s: int = 300) -> str | None:
    """A fresh token for a configured target, from the first source it names: its token
    variable, the E2E auth endpoint (when the bypass-key variable is set), or a signing secret."""
    env = os.environ if env is None else env
    key_env = getattr(target, "e2e_key_env", None)
    auth_url = getattr(target, "e2e_auth_url", None)
    if not (target.token_env and env.get(target.token_env)) and auth_url and key_env and env.get(key_env):
        return fetch_e2e_token(auth_url, env[key_env], tls_verify=getattr(target, "tls_verify", True))
    return resolve_token(token_env=target.token_env, secret_env=target.secret_env,
                         secret_file=target.secret_file, env=env, ttl_s=ttl_s)


def token_text_problem(token: str) -> str | None:
    """Why `token` cannot travel in an HTTP header or a subprotocol (docs/protocol.md §2), or None."""
    if not_text(token):
        return "holds bytes that are not text (an undecodable byte)"
    if not all("\x21" <= c <= "\x7e" for c in token):
        return "holds a space, a line break or a character outside ASCII: a token is one printable word"
    return None


def resolve_token(
    *,
    token: str | None = None,
    token_env: str | None = None,
    secret: str | None = None,
    secret_file: str | None = None,
    secret_env: str | None = None,
    env: Mapping[str, str] | None = None,
    ttl_s: int = 300,
) -> str | None:
    """The first available token: given, from an env var, or minted from a secret. None if none."""
    env = os.environ if env is None else env
    if token:
        register_secret(token)
        return token
    if token_env:
        value = env.get(token_env)
        if value:
            register_secret(value)
            if (problem := token_text_problem(value)) is not None:  # the server would be blamed for it
                raise TokenError(f"the token in {token_env} {problem}")
            return value
    if secret:
        return mint_token(secret, ttl_s=ttl_s)
    if secret_file:
        return mint_token(read_secret_file(secret_file), ttl_s=ttl_s)
    if secret_env and env.get(secret_env):
        return mint_token(env[secret_env], ttl_s=ttl_s)
    return None


def write_secret_file(path: Path, secret: str) -> None:
    """Write a secret readable by the current user only (0600 on POSIX)."""
    register_secret(secret)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder: user-only, as the file
    with open_private(path, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
