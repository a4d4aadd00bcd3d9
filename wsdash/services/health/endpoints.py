"""A target's side checks: its TLS certificate (days to expiry) and its HTTP health endpoints.

Split from `service.py`, which owns the WebSocket itself. Both take an absolute loop deadline so
that they share the probe's one time budget.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from wsdash.core.connection import proxy_configured, is_loopback, ssl_context
from wsdash.core.errors import HTTP, TLS, ClassifiedError, classify
from wsdash.services.health.model import DEGRADED, DOWN, SKIPPED, UP, CheckResult
from wsdash.core.redact import redact_url

CERT_WARN_DAYS = 14  # Gatus-style: a certificate this close to expiry degrades the target
HEALTHY = {"ok", "healthy", "ready", "up", "pass", "passing"}
DEGRADED_WORDS = {"degraded", "warn", "warning"}


def left(deadline: float) -> float:
    """Seconds until `deadline` (loop time), never zero: a timeout of 0 would not even try."""
    return max(0.01, deadline - asyncio.get_running_loop().time())


def tls_context(verify: bool) -> ssl.SSLContext:
    """The contexts `wsdash.core.connection` uses, so "trusted" means the same for HTTP and WebSocket."""
    ctx = ssl_context("wss://", verify)
    assert ctx is not None
    return ctx


# -- TLS certificate ----------------------------------------------------------------------------
async def tls_check(url: str, host: str, port: int, verify: bool, deadline: float) -> tuple[CheckResult, float | None]:
    """(check, days left or None). With verification on and failing, still reads the expiry
    without verifying: an expired certificate is often *why* verification fails."""
    if not is_loopback(host) and proxy_configured("wss"):
        return CheckResult("tls", SKIPPED, None, None, "behind a proxy: the certificate is not reachable directly"), None
    t0 = time.perf_counter()
    try:
        der = await _peer_cert(host, port, verify, left(deadline))
    except Exception as exc:  # noqa: BLE001 - every failure becomes a value
        err = classify(exc, url)
        days = None
        if isinstance(exc, ssl.SSLCertVerificationError):
            try:
                days = days_left(await _peer_cert(host, port, False, left(deadline)))
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
        ms = (time.perf_counter() - t0) * 1000
        return CheckResult("tls", DOWN, ms, err, "" if days is None else expiry_text(days)), days
    ms = (time.perf_counter() - t0) * 1000
    days = days_left(der)
    text = expiry_text(days) + ("" if verify else " (not verified: tls_verify = false)")
    if days < 0:
        err = ClassifiedError(TLS, f"certificate expired {-days:.0f} days ago", "renew the server's certificate")
        return CheckResult("tls", DOWN, ms, err, text), days
    if days < CERT_WARN_DAYS:
        err = ClassifiedError(TLS, f"certificate expires in {days:.0f} days", "renew the server's certificate soon")
        return CheckResult("tls", DEGRADED, ms, err, text), days
    return CheckResult("tls", UP, ms, None, text), days


async def _peer_cert(host: str, port: int, verify: bool, timeout: float) -> bytes:
    async with asyncio.timeout(timeout):
        _, writer = await asyncio.open_connection(host, port, ssl=tls_context(verify), server_hostname=host)
    try:
        # The DER form is available even unverified (the dict form is empty under CERT_NONE).
        return writer.get_extra_info("ssl_object").getpeercert(binary_form=True) or b""
    finally:
        writer.transport.abort()


def days_left(der: bytes, now: float | None = None) -> float:
    """Days until the certificate's notAfter, read from DER (no `cryptography` dependency)."""
    def tlv(i: int) -> tuple[int, int, int]:  # tag, content start, content end
        tag, length, i = der[i], der[i + 1], i + 2
        if length & 0x80:
            n = length & 0x7F
            length, i = int.from_bytes(der[i:i + n], "big"), i + n
        return tag, i, i + length

    _, cert, _ = tlv(0)
    _, i, _ = tlv(cert)  # tbsCertificate
    tag, _, end = tlv(i)
    if tag == 0xA0:  # explicit version
        i = end
    for _ in range(3):  # serialNumber, signature, issuer
        i = tlv(i)[2]
    _, validity, _ = tlv(i)
    _, _, not_before_end = tlv(validity)
    tag, s, e = tlv(not_before_end)  # notAfter: UTCTime (YYMMDD…) or GeneralizedTime (YYYYMMDD…)
    text = der[s:e].decode("ascii").rstrip("Z")
    fmt = "%y%m%d%H%M%S" if tag == 0x17 else "%Y%m%d%H%M%S"
    expiry = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
    return (expiry - (time.time() if now is None else now)) / 86400


def expiry_text(days: float) -> str:
    return f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"


# -- HTTP health endpoints ------------------------------------------------------------------------
async def http_check(name: str, url: str, verify: bool, deadline: float) -> CheckResult:
    """GET `url`: up on 2xx with a healthy (or no) JSON `status`, degraded on "degraded"."""
    import httpx

    parts = urlsplit(url)
    # http:// needs no context at all; https reuses the shared one (building one costs ~30 ms).
    tls: ssl.SSLContext | bool = tls_context(verify) if parts.scheme == "https" else False
    async with httpx.AsyncClient(verify=tls, trust_env=not is_loopback(parts.hostname or ""),
                                 follow_redirects=True, timeout=left(deadline),
                                 headers={"User-Agent": "wsdash"}) as client:
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(left(deadline)):
                resp = await client.get(url)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a value
            return CheckResult(name, DOWN, (time.perf_counter() - t0) * 1000, classify(exc, url))
    ms = (time.perf_counter() - t0) * 1000
    try:
        body = resp.json()
    except ValueError:
        body = None
    said = str(body["status"]) if isinstance(body, dict) and body.get("status") is not None else None
    detail = f"HTTP {resp.status_code}" + (f" {said}" if said else "")
    if resp.is_success and (said is None or said.lower() in HEALTHY):
        return CheckResult(name, UP, ms, None, detail)
    if resp.is_success and said and said.lower() in DEGRADED_WORDS:
        err = ClassifiedError(HTTP, f"{redact_url(url)} says {said!r}",
                              "the service reports itself degraded: see its health body and logs", resp.status_code)
        return CheckResult(name, DEGRADED, ms, err, detail)
    return CheckResult(name, DOWN, ms, _health_error(url, resp.status_code, said), detail)


def _health_error(url: str, status: int, said: str | None) -> ClassifiedError:
    message = f"GET {redact_url(url)} → HTTP {status}" + (f", status {said!r}" if said else "")
    if status == 404:
        hint = "no health route there: check health_url in wsdash.toml"
    elif status in (401, 403):
        hint = "the health route wants credentials: point health_url at a public route"
    elif status == 503 or (said and 200 <= status < 300):
        hint = "the service reports itself unhealthy (a dependency such as its database may be down): see its logs"
    else:
        hint = "the health endpoint is failing: see the service's logs"
    return ClassifiedError(HTTP, message, hint, status)
