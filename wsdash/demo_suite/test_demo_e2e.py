"""The golden path end to end against the demo server (WSDASH_DEMO_URL; its secret in WSDASH_DEMO_SECRET,
or a file named by WSDASH_DEMO_SECRET_FILE).

Run by `wsdash demo` as its "Demo E2E" tier, so the tier pane shows a real pytest run offline.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from wsdash.core.auth import mint_token, read_secret_file
from wsdash.core.contract import Budgets
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.once import run_golden_path

URL = os.environ.get("WSDASH_DEMO_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="WSDASH_DEMO_URL is not set: run through `wsdash demo`")


def judge(query: str = "", token: str | None = "mint"):
    if token == "mint":
        secret = os.environ.get("WSDASH_DEMO_SECRET") or read_secret_file(os.environ["WSDASH_DEMO_SECRET_FILE"])
        token = mint_token(secret)
    opts = SessionOptions(url=f"{URL}?pace=0.02{query}", token=token, timeout_s=5, grace_s=0.1, established_wait_s=0.05,
                          budgets=Budgets(first_event_s=2))
    return asyncio.run(run_golden_path(opts))


@pytest.mark.parametrize("envelope", ["nested", "flat", "wrapped", "payload", "demo"])
def test_golden_path_in_every_envelope(envelope: str) -> None:
    result = judge(f"&envelope={envelope}")
    assert result.ok, [v.detail for v in result.verdict.violations]


def test_nested_agents_complete_on_the_outermost() -> None:
    assert judge("&scenario=nested").ok


def test_handshake_is_acknowledged_first() -> None:
    assert judge("&handshake=1").ok


def test_a_bad_token_is_refused() -> None:
    result = judge(token="not-a-token")
    assert result.error is not None and result.error.kind == "auth"


def test_a_missing_event_is_caught() -> None:
    result = judge("&scenario=missing:agent_thinking")
    assert [v.code for v in result.verdict.violations] == ["missing"]
