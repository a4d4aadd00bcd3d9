"""The E2E token source (docs/protocol.md §2) against a real local HTTP server: POST
/auth/e2e/test-auth with X-E2E-Bypass-Key → access_token."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from tests.conftest import SECRET, run_cli
from tests.core.auth_service import auth_service as serve_auth
from wsdash.core.auth import TokenError, fetch_e2e_token, mint_token, token_for
from wsdash.core.config import TargetConfig

KEY = "bypass-key-for-tests-0123456789"


@pytest.fixture
def auth_service() -> Iterator[str]:
    with serve_auth(KEY, {"access_token": mint_token(SECRET, ttl_s=1800), "expires_in": 1800}) as url:
        yield url


def test_fetches_a_token_with_the_bypass_key(auth_service: str) -> None:
    token = fetch_e2e_token(auth_service, KEY)
    assert token.startswith("eyJ")


def test_a_wrong_key_is_a_clear_token_error(auth_service: str) -> None:
    with pytest.raises(TokenError, match="refused the E2E bypass key"):
        fetch_e2e_token(auth_service, "wrong")


def test_an_unreachable_auth_service_is_classified() -> None:
    with pytest.raises(TokenError, match="refused"):
        fetch_e2e_token("http://127.0.0.1:1", KEY, timeout=6)  # Windows takes ~2 s to refuse


def test_a_target_fetches_a_fresh_token_when_its_key_variable_is_set(auth_service: str) -> None:
    target = TargetConfig("staging", "ws://127.0.0.1:9/ws", token_env="NO_TOKEN_HERE", e2e_auth_url=auth_service, e2e_key_env="KEY_VAR")
    assert token_for(target, env={"KEY_VAR": KEY}).startswith("eyJ")
    assert token_for(target, env={}) is None  # no key: no E2E fetch, no token


def test_golden_path_on_a_target_with_an_e2e_token(auth_service: str, server_thread, tmp_path) -> None:
    (tmp_path / "wsdash.toml").write_text(
        f'[targets.stage]\nws_url = "{server_thread.url}"\ne2e_auth_url = "{auth_service}"\ne2e_key_env = "KEY_VAR"\n', encoding="utf-8")
    out = run_cli("golden-path", "--target", "stage", "--json", cwd=tmp_path, env={"KEY_VAR": KEY})
    assert out.returncode == 0, out.stdout + out.stderr
    shown = json.dumps(json.loads(out.stdout), ensure_ascii=False)  # --json escapes non-ASCII: compare the values
    assert KEY not in shown and "eyJ" not in shown.replace("eyJhbG…(redacted)", "")
