"""Tokens, redaction and configuration: the pieces every command leans on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wsdash.core.auth import TokenError, TokenInfo, mint_token, resolve_token, unverified_claims, verify_token
from wsdash.core.config import ConfigError, load_config
from wsdash.core.redact import mask, redact_url, scrub

SECRET = "unit-secret-0123456789abcdef0123456789"


def test_minted_token_has_the_strict_claims() -> None:
    claims = verify_token(mint_token(SECRET), SECRET)
    assert {"sub", "iat", "exp", "jti", "iss", "token_type"} <= set(claims)
    assert claims["iss"] == "netra-auth-service" and claims["token_type"] == "access"


def test_strict_validation_rejects_a_type_claim_alone() -> None:
    import jwt

    loose = jwt.encode({"sub": "u", "iat": int(time.time()), "exp": int(time.time()) + 60, "type": "access"}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError, match="jti|iss|token_type"):
        verify_token(loose, SECRET)


def test_token_info_counts_down_without_verifying() -> None:
    token = mint_token("other-secret-not-known-here-0123456789", ttl_s=120, sub="alice")
    info = TokenInfo.of(token)
    assert info.subject == "alice" and 100 < info.seconds_left() <= 120
    assert "EXPIRED" in info.describe(now=info.expires_at + 5)
    assert unverified_claims("garbage") is None


def test_resolve_token_order_and_errors(tmp_path: Path) -> None:
    assert resolve_token(token="abc.def.ghi") == "abc.def.ghi"
    assert resolve_token(token_env="T", env={"T": "x.y.z"}) == "x.y.z"
    (tmp_path / "s").write_text(SECRET + "\n")
    assert verify_token(resolve_token(secret_file=str(tmp_path / "s")), SECRET)
    assert resolve_token(env={}) is None
    with pytest.raises(TokenError, match="cannot read"):
        resolve_token(secret_file=str(tmp_path / "missing"))


def test_scrub_removes_registered_secrets_and_any_jwt() -> None:
    token = mint_token(SECRET)
    text = f"secret={SECRET} token={token}"
    out = scrub(text)
    assert SECRET not in out and token not in out and "redacted" in out
    foreign = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    assert foreign not in scrub(f"Bearer {foreign}")
    assert mask("short") == "•••(redacted)" and "short" not in mask("short")


def test_redact_url_masks_query_tokens_and_userinfo() -> None:
    url = redact_url("wss://user:pw@host.test/ws?token=abcdefghijkl&scenario=golden")
    assert "abcdefghijkl" not in url and "pw" not in url and "scenario=golden" in url
    shown = redact_url("ws://h/ws?scenario=burst:100000&access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefghijklmno")
    assert shown == "ws://h/ws?scenario=burst:100000&access_token=eyJhbG…(redacted)"  # readable, not percent-encoded


@pytest.mark.parametrize(("text", "secrets"), [
    ("token=EnvTok123", ["EnvTok123"]),  # a tier's output
    ("export AWS_SECRET_ACCESS_KEY=abcd1234efgh", ["abcd1234efgh"]), ("--password=hunter22", ["hunter22"]),
    ("X-Api-Key=zz9988", ["zz9988"]), ("ws://h/ws?api_key=K1sec&scenario=golden", ["K1sec"]), ("ws://h/ws?apikey=K2sec", ["K2sec"]),
    ("https://h/x?client_secret=CSsec", ["CSsec"]),
    ("https://b.s3.test/o?X-Amz-Signature=AMZsec&X-Amz-Security-Token=AMZtok", ["AMZsec", "AMZtok"]),
    ("https://h/?sig=SIGsec&signature=S2sec", ["SIGsec", "S2sec"]),
])
def test_scrub_masks_a_value_whatever_secret_name_it_goes_by(text: str, secrets: list[str]) -> None:
    out = scrub(text)
    assert not [s for s in secrets if s in out] and "(redacted)" in out, out
    assert "scenario=golden" in out or "scenario" not in text


@pytest.mark.parametrize("text", ["ws://h/ws?keyword=hello&author=me&max_tokens=512&scenario=burst:100",
                                  "monkey=banana", "ws 3 ms · token accepted", "git@github.com:x/y.git"])
def test_scrub_leaves_names_that_hold_no_secret(text: str) -> None:
    assert scrub(text) == text


def test_scrub_masks_the_userinfo_of_a_url_anywhere_in_text() -> None:
    out = scrub("watching ws://u:WatchPW@127.0.0.1:8002/ws · done: 1 run of wss://admin:S3cret@h/ws")
    assert "WatchPW" not in out and "S3cret" not in out and "ws://•••@127.0.0.1:8002/ws" in out


def test_config_merges_file_over_builtins_and_env_over_file(tmp_path: Path) -> None:
    (tmp_path / "wsdash.toml").write_text(
        '[targets.local]\nws_url = "ws://127.0.0.1:9/ws"\n[targets.dev]\nws_url = "ws://127.0.0.1:8000/ws"\n[docker]\nrequired = true\n',
        encoding="utf-8")
    cfg = load_config(cwd=tmp_path, env={"WSDASH_LOCAL_WS_URL": "ws://127.0.0.1:7/ws"})
    assert cfg.target("local").ws_url == "ws://127.0.0.1:7/ws"
    assert cfg.target("local").health_url == "http://127.0.0.1:7/health"  # merged key by key; health follows its ws_url
    assert cfg.target("dev").ws_url.endswith(":8000/ws") and cfg.docker.required
    assert cfg.source("targets.local.ws_url") == "env WSDASH_LOCAL_WS_URL"
    assert cfg.source("targets.dev.ws_url").endswith("wsdash.toml")


@pytest.mark.parametrize("text, needle", [
    ("[targets.local]\nws_url = 'http://x'\n", "ws:// or wss://"),
    ("[targets.local]\nauth = 'cookie'\n", "auth must be one of"),
    ("[targets.new]\nhealth_url = 'http://x'\n", "needs a ws_url"),
    ("default_target = 'nowhere'\n", "is not a target"),
    ("[targets\n", "not valid TOML"),
    ("colour = 'red'\n", "unknown top-level key"),
    # a target `check` could not probe (it means the daemon), or one no flag or variable can name
    ("[targets.docker]\nws_url = 'ws://127.0.0.1:9/ws'\n", r"\[targets.'docker'\]: 'docker' is the Docker daemon's name"),
    ("[targets.'']\nws_url = 'ws://127.0.0.1:9/ws'\n", r"\[targets.''\]: a target's name is one word without commas"),
    ("[targets.'a,b']\nws_url = 'ws://127.0.0.1:9/ws'\n", r"\[targets.'a,b'\]: a target's name is one word without commas"),
    ("[targets.'eu prod']\nws_url = 'ws://127.0.0.1:9/ws'\n", "one word without commas"),
])
def test_wrong_config_says_what_and_where(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "wsdash.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_config(cwd=tmp_path, env={})


def test_a_binary_frame_is_scrubbed_in_a_recording(tmp_path: Path) -> None:
    import base64
    import json

    from wsdash.core.recording import Recorder

    token = mint_token(SECRET)
    with Recorder(tmp_path / "r.jsonl") as rec:
        rec.record("recv", 1.0, data=b"\x00\x01 token=" + token.encode() + b" \xff")
    line = json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()[1])
    payload = base64.b64decode(line["b64"])
    assert token.encode() not in payload and payload.startswith(b"\x00\x01 token=") and payload.endswith(b" \xff")


def test_a_health_url_on_the_websockets_port_follows_an_overridden_ws_url() -> None:
    cfg = load_config(env={"WSDASH_LOCAL_WS_URL": "ws://127.0.0.1:9000/ws"})
    assert cfg.targets["local"].health_url == "http://127.0.0.1:9000/health"
    assert cfg.provenance["targets.local.health_url"] == "env WSDASH_LOCAL_WS_URL (follows ws_url)"
    # said outright (on the old WebSocket port, applied first): kept
    both = load_config(env={"WSDASH_LOCAL_WS_URL": "ws://127.0.0.1:9000/ws", "WSDASH_LOCAL_HEALTH_URL": "http://127.0.0.1:8002/healthz"})
    assert both.targets["local"].health_url == "http://127.0.0.1:8002/healthz"


@pytest.mark.parametrize(("var", "says"), [
    ("WSDASH_STAGNG_WS_URL", "there is no target 'stagng' (known targets: local, staging); did you mean WSDASH_STAGING_WS_URL?"),
    ("WSDASH_PROD_WS_URL", "there is no target 'prod' (known targets: local, staging); add [targets.prod] to a config file"),
    ("WSDASH_HISTORY_PATHH", "[history] has no key 'pathh' (known: enabled, keep_days, max_runs, path); did you mean WSDASH_HISTORY_PATH?"),
    ("WSDASH_WATCH_EVERY", "[watch] has no key 'every' (known: every_s); did you mean WSDASH_WATCH_EVERY_S?"),
    ("WSDASH_DOCKER_HOTS", "[docker] has no key 'hots' (known: host, required); did you mean WSDASH_DOCKER_HOST?"),
    ("WSDASH_DEFAULTTARGET", "did you mean WSDASH_DEFAULT_TARGET?"),
    ("WSDASH_LOCAL_TOKEN", "did you mean WSDASH_LOCAL_TOKEN_ENV (it holds the name of the variable with the secret, not the secret)?"),
])
def test_a_wsdash_variable_that_configures_nothing_is_named_with_the_likely_fix(var: str, says: str) -> None:
    """WSDASH_STAGNG_WS_URL was silently ignored: the run went to the built-in staging, and was
    judged as if the override had worked."""
    cfg = load_config(None, env={var: "ws://127.0.0.1:9/ws"}, cwd=Path("/nonexistent"))
    assert len(cfg.ignored_env) == 1 and cfg.ignored_env[0].startswith(f"{var} is not read: {says}"), cfg.ignored_env


def test_variables_wsdash_reads_are_never_reported_as_ignored() -> None:
    """Every WSDASH_ name in wsdash's own source (its hand-offs to tiers and the demo suite, the
    built-in token variables) and a variable a target names for its token stay quiet."""
    import re

    import wsdash

    root = Path(wsdash.__file__).parent
    names = {m for f in root.rglob("*.py") for m in re.findall(r"\bWSDASH_[A-Z0-9_]*[A-Z0-9]\b", f.read_text(encoding="utf-8"))}
    assert {"WSDASH_TIER_STREAM", "WSDASH_DEMO_SECRET_FILE", "WSDASH_WATCH_TOKEN", "WSDASH_STAGING_TOKEN"} <= names
    named = {"WSDASH_STAGING_TOKEN_ENV": "WSDASH_PROD_TOKEN"}
    for name in sorted(names - {"WSDASH_CONFIG"}) + ["WSDASH_PROD_TOKEN"]:
        try:
            cfg = load_config(None, env={name: "1"} | named, cwd=Path("/nonexistent"))
        except ConfigError:  # read, and its value "1" refused: a configuration key
            continue
        assert cfg.ignored_env == [], name


def test_an_empty_target_name_is_no_target_not_the_default() -> None:
    """`--target ""` (an unset shell variable: --target "$ENV") ran against the default target."""
    cfg = load_config(None, env={}, cwd=Path("/nonexistent"))
    assert cfg.target(None).name == "local"
    with pytest.raises(ConfigError, match="unknown target '': known targets are local, staging"):
        cfg.target("")


def test_a_token_variable_holding_more_than_one_word_is_named_not_sent() -> None:
    """`check` sent it as a subprotocol and reported "websocket unknown (ValueError: invalid
    subprotocol …): check the server's logs", blaming the server for a pasted token with a space."""
    with pytest.raises(TokenError, match="the token in WSDASH_STAGING_TOKEN holds a space"):
        resolve_token(token_env="WSDASH_STAGING_TOKEN", env={"WSDASH_STAGING_TOKEN": "eyJ a b"})


def test_a_relative_history_path_in_a_file_is_the_files_neighbour(tmp_path: Path) -> None:
    """Relative to the working directory, it split the history into one file per folder a
    command was run from; a variable's stays relative to the working directory (it has no file)."""
    (tmp_path / "wsdash.toml").write_text('[history]\npath = "runs/h.sqlite3"\n', encoding="utf-8")
    cfg = load_config(str(tmp_path / "wsdash.toml"), env={})
    assert cfg.history.path == str(tmp_path / "runs" / "h.sqlite3")
    assert load_config(str(tmp_path / "wsdash.toml"), env={"WSDASH_HISTORY_PATH": "mine.sqlite3"}).history.path == "mine.sqlite3"


def test_a_target_name_with_a_dot_or_capitals_works_and_its_variables_reach_it(tmp_path: Path) -> None:
    """The review: `[targets."eu.prod"]` worked before names were checked, and `[targets.Prod]` was
    unreachable by WSDASH_PROD_WS_URL (the variable's name was lowercased), which was then "not
    read: did you mean WSDASH_PROD_WS_URL?" — the very variable set."""
    (tmp_path / "wsdash.toml").write_text("[targets.'eu.prod']\nws_url = 'ws://127.0.0.1:9/ws'\n"
                                          "[targets.Prod]\nws_url = 'ws://127.0.0.1:9/ws'\n", encoding="utf-8")
    cfg = load_config(str(tmp_path / "wsdash.toml"), env={"WSDASH_PROD_WS_URL": "ws://127.0.0.1:7/ws"})
    assert cfg.target("eu.prod").ws_url == "ws://127.0.0.1:9/ws"
    assert cfg.target("Prod").ws_url == "ws://127.0.0.1:7/ws" and cfg.ignored_env == []
