"""The headless commands as a user runs them: real subprocesses against the embedded server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, isolated_dirs, run_cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_version(cli) -> None:
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("wsdash ")


def test_golden_path_json_is_one_object(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url, "--secret", SECRET, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # nothing else on stdout
    assert data["ok"] is True and data["error"] is None and data["violations"] == []
    assert set(data) >= {"ok", "url", "events", "violations", "timings", "frames", "error"}
    assert set(data["timings"]) >= {"connect_ms", "first_event_ms", "total_ms"}
    assert data["frames"]["received"] >= 6
    assert SECRET not in out.stdout and "eyJ" not in out.stdout


def test_human_output_shows_checkpoints_and_verdict(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url + "?scenario=missing:tool_completed", "--secret", SECRET)
    assert out.returncode == 1
    assert "FAILED" in out.stdout and "missing [tool_completed]: tool_completed never arrived" in out.stdout
    assert "✓ agent_started" in out.stdout and "+" in out.stdout


def test_token_in_the_url_is_redacted(server_thread, cli) -> None:
    from wsdash.core.auth import mint_token

    token = mint_token(SECRET)
    out = cli("golden-path", "--url", server_thread.url, "--token", token, "--auth", "query", "--json")
    assert out.returncode == 0, out.stdout
    assert token not in out.stdout and token[:20] not in out.stdout.replace(token[:6], "")


def test_refused_is_exit_3_with_a_hint(cli) -> None:
    port = free_port()
    out = cli("golden-path", "--url", f"ws://127.0.0.1:{port}/ws", "--json")
    assert out.returncode == 3
    err = json.loads(out.stdout)["error"]
    assert err["kind"] == "refused" and f"127.0.0.1:{port}" in err["hint"]


def test_dns_failure_is_exit_3(cli) -> None:
    out = cli("golden-path", "--url", "ws://wsdash-nowhere.invalid/ws", "--json", timeout=60)
    assert out.returncode == 3 and json.loads(out.stdout)["error"]["kind"] == "dns"


def test_not_a_websocket(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url.replace("/ws", "/health"), "--json")
    assert out.returncode == 3 and json.loads(out.stdout)["error"]["kind"] == "not_websocket"


def test_connected_but_silent_is_the_timeout_violation(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url + "?scenario=slow-first:5", "--secret", SECRET, "--timeout", "0.5", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 1 and [v["code"] for v in data["violations"]] == ["timeout"]


@pytest.mark.parametrize("args", [["--url", "http://x/ws"], ["--timeout", "0"], ["--target", "nope"], ["--token-env", "WSDASH_TEST_UNSET_VAR"]])
def test_usage_errors_are_exit_2(cli, args) -> None:
    base = ["golden-path"] + ([] if "--url" in args or "--target" in args else ["--url", "ws://127.0.0.1:1/ws"])
    out = cli(*base, *args)
    assert out.returncode == 2 and "error" in out.stderr


def test_target_from_config_with_secret_env(server_thread, cli, tmp_path: Path) -> None:
    (tmp_path / "wsdash.toml").write_text(
        f'default_target = "mine"\n[targets.mine]\nws_url = "{server_thread.url}"\nsecret_env = "MY_SECRET"\n', encoding="utf-8")
    out = cli("golden-path", "--json", cwd=tmp_path, env={"MY_SECRET": SECRET})
    assert out.returncode == 0, out.stdout + out.stderr


def test_record_then_replay_gives_the_same_json(server_thread, cli, tmp_path: Path) -> None:
    rec = tmp_path / "run.jsonl"
    live = cli("golden-path", "--url", server_thread.url + "?scenario=malformed", "--secret", SECRET, "--json", "--record", str(rec))
    replayed = cli("replay", str(rec), "--headless", "--json")
    assert live.returncode == replayed.returncode == 0
    assert json.loads(live.stdout) == json.loads(replayed.stdout)
    text = rec.read_text(encoding="utf-8")
    assert SECRET not in text and "eyJ" not in text
    kinds = [json.loads(line)["k"] for line in text.splitlines()]
    assert kinds[0] == "format" and "send" in kinds and kinds.count("recv") == 12 and kinds[-1] == "end"


def test_replay_of_a_violation_keeps_its_exit_code(server_thread, cli, tmp_path: Path) -> None:
    rec = tmp_path / "bad.jsonl"
    cli("golden-path", "--url", server_thread.url + "?scenario=reorder", "--secret", SECRET, "--record", str(rec))
    out = cli("replay", str(rec), "--headless", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["violations"][0]["code"] == "out_of_order"


def test_replay_of_a_bad_file_is_a_clear_usage_error(cli, tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text("hello\n", encoding="utf-8")
    out = cli("replay", str(bad), "--headless")
    assert out.returncode == 2 and "not a wsdash recording" in out.stderr and str(bad) in out.stderr
    assert cli("replay", str(tmp_path / "none.jsonl"), "--headless").returncode == 2


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child console process")
def test_serve_prints_a_runnable_command_and_never_the_secret(cli, tmp_path: Path) -> None:
    env = {**os.environ, **isolated_dirs(tmp_path / "state"), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "serve", "--port", "0", "--pace", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        command = next(line for line in lines if "wsdash golden-path" in line).split(":  ", 1)[1].split()
        secret_file = Path(command[command.index("--secret-file") + 1])
        assert secret_file.is_file() and (sys.platform == "win32" or secret_file.stat().st_mode & 0o077 == 0)
        assert secret_file.read_text().strip() not in "".join(lines)
        out = cli(*command[1:], "--json", env=isolated_dirs(tmp_path / "state"))
        assert out.returncode == 0, out.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_serve_on_a_taken_port_says_so(cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        out = cli("serve", "--port", str(s.getsockname()[1]), "--no-auth")
    assert out.returncode == 2 and "--port 0" in out.stderr


def test_serve_rejects_an_unknown_scenario(cli) -> None:
    out = cli("serve", "--scenario", "chaos", "--port", "0")
    assert out.returncode == 2 and "choose one of" in out.stderr


def test_config_show_names_sources(cli, tmp_path: Path) -> None:
    (tmp_path / "wsdash.toml").write_text('[targets.local]\nws_url = "ws://127.0.0.1:9000/ws"\n', encoding="utf-8")
    out = cli("config", "show", cwd=tmp_path, env={"WSDASH_STAGING_WS_URL": "wss://stage.example.test/ws"})
    assert out.returncode == 0
    assert "ws://127.0.0.1:9000/ws" in out.stdout and "wsdash.toml" in out.stdout
    assert "env WSDASH_STAGING_WS_URL" in out.stdout
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "wsdash.toml").write_text("[targets.local]\nwsurl = 1\n", encoding="utf-8")
    out = cli("config", "show", cwd=bad)
    assert out.returncode == 2 and "unknown key(s) wsurl" in out.stderr


def test_the_core_never_imports_textual() -> None:
    code = ("import sys, wsdash.cli, wsdash.services.session.once, wsdash.core.recording, wsdash.services.agent_server, wsdash.core.config, "
            "wsdash.commands.golden_path, wsdash.commands.replay; "
            "wsdash.cli.build_parser(); print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_demo_falls_back_to_a_free_port_when_8002_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    import wsdash.commands.demo as demo

    # The demo's port held by this test: a port of its own standing in for 8002, so that another
    # process (a parallel test's demo, the Docker test stack) can neither hold it first nor let go.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    monkeypatch.setattr(demo, "DEMO_PORT", taken)
    try:
        thread, server, _, note = demo.start_demo_server(pace=0)
        try:
            assert server.port != taken and note and f"port {taken} is taken" in note
        finally:
            thread.__exit__(None, None, None)
    finally:
        blocker.close()


@pytest.mark.parametrize(("url", "says"), [
    ("ws://127.0.0.1:99999/ws", "Port out of range"), ("ws://[::1", "Invalid IPv6"), ("http://127.0.0.1/ws", "ws://host"),
    ("ws://127.0.0.1:0/ws", "port 0"),  # was dialled as port 80
    ("ws://127.0.0.1:8002/ws#frag", "#fragment"), ("ws://a..b:8002/ws", "host name"),  # were "unknown" errors, exit 3
])
def test_a_malformed_url_is_a_usage_error_not_a_traceback(cli, url: str, says: str) -> None:
    out = cli("golden-path", "--url", url)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "--url" in out.stderr and says in out.stderr, out.stderr


@pytest.mark.parametrize("url", ["ws://127.0.0.1:99999/ws", "ws://127.0.0.1:0/ws"])
def test_a_config_ws_url_no_server_can_have_is_named_with_its_file(cli, tmp_path: Path, url: str) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[targets.local]\nws_url = "{url}"\n', encoding="utf-8")
    for argv in (["check"], ["golden-path"]):
        out = cli("--config", str(cfg), *argv, cwd=tmp_path, env=isolated_dirs(tmp_path))
        assert out.returncode == 2 and "p.toml" in out.stderr and "targets.local.ws_url" in out.stderr, (argv, out.stderr)


@pytest.mark.parametrize("line, says", [
    ('{"k": "recv", "t": "x", "data": "{}"}', "the 'recv' record's 't' is \"x\""),
    ('{"k": "error", "t": 1.0, "error": "boom"}', "the 'error' record's 'error' is \"boom\""),
    ('{"k": "recv", "t": 1.0, "b64": "abc"}', "the 'recv' record's 'b64' is \"abc\""),
    ('{"k": "start", "t": 1.0, "url": "ws://h/ws", "budgets": {"connect_s": "x"}}', "the 'start' record's 'budgets.connect_s' is \"x\""),
])
def test_a_damaged_recording_is_named_not_a_traceback(cli, tmp_path: Path, line: str, says: str) -> None:
    rec = tmp_path / "bad.jsonl"
    rec.write_text('{"k": "format", "format": "wsdash-recording/1"}\n' + line + "\n", encoding="utf-8")
    out = cli("replay", str(rec), "--headless", "--json")
    assert out.returncode == 2 and f"{rec}:2: {says}" in out.stderr  # which file, line, record and key
    assert "Traceback" not in out.stderr, out.stderr


def test_two_servers_keep_their_own_secrets(cli, tmp_path: Path) -> None:
    """The command `serve` prints keeps working when another server starts (each has its own file)."""
    import re

    env = {**os.environ, **isolated_dirs(tmp_path), "PYTHONUNBUFFERED": "1"}
    env.pop("WSDASH_CONFIG", None)
    procs, commands = [], []
    try:
        for _ in range(2):
            proc = subprocess.Popen([sys.executable, "-m", "wsdash", "serve", "--port", "0"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True, env=env, encoding="utf-8")
            procs.append(proc)
            lines = [proc.stdout.readline() for _ in range(3)]
            command = next(line for line in lines if "golden-path" in line)
            commands.append(re.search(r"golden-path (--url \S+ --secret-file \S+)", command).group(1).split())
        for args in commands:  # the first server's instructions still hold after the second started
            out = cli("golden-path", *args, "--json", env=isolated_dirs(tmp_path))
            assert out.returncode == 0, out.stdout + out.stderr
        assert commands[0][3] != commands[1][3]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    if sys.platform != "win32":  # stopped by a signal, each takes its secret file with it
        assert not [c[3] for c in commands if Path(c[3]).exists()]


def test_a_token_that_is_not_a_jwt_is_named_as_such(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url, "--token", "abc.def.ghi")
    assert out.returncode == 3
    assert "token for an unknown subject (not a JWT wsdash can read)" in out.stdout and "None" not in out.stdout


def test_wss_to_a_plain_server_points_at_the_scheme(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url.replace("ws://", "wss://"), "--json")
    err = json.loads(out.stdout)["error"]
    assert out.returncode == 3 and err["kind"] == "tls"
    assert "use " + server_thread.url in err["hint"]


def test_watch_and_config_show_never_print_a_url_password_or_key(cli, tmp_path: Path) -> None:
    (tmp_path / "wsdash.toml").write_text(
        '[targets.local]\nws_url = "ws://admin:S3cretPW@127.0.0.1:9/ws?api_key=KEY999"\n'
        'health_url = "http://u:HealthPW@127.0.0.1:9/health"\n', encoding="utf-8")
    env = isolated_dirs(tmp_path)
    shown = cli("config", "show", cwd=tmp_path, env=env)
    watched = cli("watch", "--url", "ws://u:WatchPW@127.0.0.1:9/ws?apikey=AK1AK1", "--runs", "1", "--timeout", "2", "--json",
                  cwd=tmp_path, env=env)
    assert shown.returncode == 0 and "127.0.0.1:9" in shown.stdout, shown.stderr
    assert '"target"' in watched.stdout, watched.stderr
    for out in (shown, watched):
        for secret in ("S3cretPW", "KEY999", "HealthPW", "WatchPW", "AK1AK1"):
            assert secret not in out.stdout + out.stderr, (secret, out.stdout, out.stderr)


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--token", ""], {}, "--token is empty"), (["--secret", ""], {}, "--secret is empty"),
    (["--token-env", ""], {}, "--token-env is empty"),  # each used to connect with no token and fail as auth, exit 3
    (["--token", "a b\nc"], {}, "--token holds a space"),  # was 'unknown: ValueError: invalid subprotocol', exit 3
    (["--token-env", "WSDASH_TEST_TOKEN"], {"WSDASH_TEST_TOKEN": "tok én"}, "environment variable WSDASH_TEST_TOKEN holds"),
])
def test_a_token_that_cannot_travel_is_a_usage_error_naming_its_flag(cli, args: list[str], env: dict[str, str], says: str) -> None:
    out = cli("golden-path", "--url", "ws://127.0.0.1:9/ws", *args, env=env)
    assert out.returncode == 2 and says in out.stderr and "Traceback" not in out.stderr, out.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pipe with its reader gone")
def test_a_reader_gone_from_stdout_ends_the_command_quietly(tmp_path: Path) -> None:
    """`wsdash config show | head -1`: no 'wsdash: error: [Errno 32] Broken pipe', exit 141 as for SIGPIPE."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write: every write gets EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "wsdash", "config", "show"], stdout=write, stderr=subprocess.PIPE,
                              cwd=tmp_path, env={**os.environ, **isolated_dirs(tmp_path)}, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == b"", proc.stderr


def test_a_config_path_that_is_a_folder_is_named_as_one_and_dev_null_is_no_file(cli, tmp_path: Path) -> None:
    folder = cli("--config", str(tmp_path), "config", "show", cwd=tmp_path)  # said "does not exist"
    assert folder.returncode == 2 and f"config file {tmp_path} is a folder, not a file" in folder.stderr, folder.stderr
    if sys.platform != "win32":
        empty = cli("--config", os.devnull, "config", "show", cwd=tmp_path)  # "no config file", as for other tools
        assert empty.returncode == 0 and "built-in" in empty.stdout, empty.stderr


@pytest.mark.parametrize("speed", ["-1", "nan", "inf", "1e-300", "fast"])  # -1 and nan played at full speed; 1e-300 froze
def test_a_replay_speed_no_replay_can_have_is_a_usage_error(cli, tmp_path: Path, speed: str) -> None:
    out = cli("replay", str(tmp_path / "x.jsonl"), f"--speed={speed}")
    assert out.returncode == 2 and "--speed" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_mistyped_override_is_noted_before_the_run_and_listed_by_config_show(server_thread, tmp_path: Path) -> None:
    """WSDASH_LOCL_WS_URL (a typo) did nothing, silently: the run went to the configured local
    target and its verdict read as the override's. Now the command says so on stderr, once, and
    `config show` lists it; the run itself is unchanged (a variable may be meant for another config)."""
    env = {"WSDASH_LOCL_WS_URL": "ws://127.0.0.1:9/ws", "WSDASH_LOCAL_WS_URL": server_thread.url, "WSDASH_LOCAL_SECRET_ENV": "S", "S": SECRET}
    out = run_cli("golden-path", "--config", os.devnull, "--json", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    note = "wsdash: note: WSDASH_LOCL_WS_URL is not read: there is no target 'locl' (known targets: local, staging); did you mean WSDASH_LOCAL_WS_URL?"
    assert out.stderr.count(note) == 1, out.stderr
    shown = run_cli("config", "show", "--config", os.devnull, "--json", env=env, cwd=tmp_path)
    assert json.loads(shown.stdout)["ignored_env"] == [note.removeprefix("wsdash: note: ")]
    assert run_cli("config", "show", "--config", os.devnull, env=env, cwd=tmp_path).stdout.endswith(
        "variables not read:\n  ! " + note.removeprefix("wsdash: note: ") + "\n")


def test_a_variable_named_by_token_env_is_not_noted_as_unread(server_thread, tmp_path: Path) -> None:
    """The review: `--token-env WSDASH_LOCAL_TOKEN` read it, and the run passed, under a note that
    it was "not read: did you mean WSDASH_LOCAL_TOKEN_ENV"."""
    from wsdash.core.auth import mint_token

    env = {"WSDASH_LOCAL_TOKEN": mint_token(SECRET)}
    out = run_cli("golden-path", "--url", server_thread.url, "--token-env", "WSDASH_LOCAL_TOKEN", "--config", os.devnull, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "WSDASH_LOCAL_TOKEN" not in out.stderr, out.stderr
