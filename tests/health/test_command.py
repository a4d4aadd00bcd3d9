"""`wsdash check`: parsing, exit codes, JSON-only output, the table, colour rules, no secrets,
and the import budget of the module the CLI loads on every start."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from health_fakes import REFUSE_S, SECRET, free_port

from wsdash.services.agent_server import AgentServer, ServerThread
from wsdash.core.auth import mint_token
from wsdash.commands.check import print_table, register, run_check
from wsdash.services.health.model import DEGRADED, DOWN, UP, ProbeResult

REPO = Path(__file__).resolve().parents[2]
# Explicit, and refused on every OS (a unix:// host goes to the CLI on Windows): no CLI fallback.
NO_DOCKER = {"WSDASH_DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"}
T = str(REFUSE_S)  # --timeout for runs that include a refused port (Windows takes ~2 s to refuse)


@pytest.fixture(scope="module")
def srv() -> Iterator[AgentServer]:
    with ServerThread(host="127.0.0.1", secret=SECRET) as server:
        yield server


def write_config(directory: Path, srv: AgentServer, *, staging_port: int | None = None) -> Path:
    staging = f"ws://127.0.0.1:{staging_port or free_port()}/ws"
    path = directory / "wsdash.toml"
    path.write_text(f"""
[targets.local]
ws_url = "{srv.url}"
health_url = "{srv.http_url}/health"
secret_env = "TEST_SECRET"
required = true

[targets.staging]
ws_url = "{staging}"
health_url = "{staging.replace('ws://', 'http://').replace('/ws', '/health')}"
token_env = "STAGING_TOKEN"
required = false
""", encoding="utf-8")
    return path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wsdash")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["check", *argv])


def test_parser_defaults_and_validation(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse()
    assert args.func is run_check and args.only is None and args.timeout == 5.0 and not args.json
    assert parse("--only", "docker, local", "--timeout", "1.5").only == ["docker", "local"]
    for bad, message in ((["--timeout", "0"], "positive number"), (["--timeout", "soon"], "expected seconds"),
                         (["--only", ","], "comma-separated")):
        with pytest.raises(SystemExit) as exc:
            parse(*bad)
        assert exc.value.code == 2 and message in capsys.readouterr().err


def test_exit_0_when_required_targets_are_up_even_with_docker_and_staging_down(
        srv: AgentServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(tmp_path, srv)
    code = run_check(parse("--timeout", T), env={"TEST_SECRET": SECRET, **NO_DOCKER})
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["TARGET", "STATUS", "LATENCY", "DETAIL"]
    assert lines[1].split()[:2] == ["docker", "down"] and lines[2].split()[:3] == ["local", "*", "up"]
    assert "token accepted" in lines[2] and "staging" in lines[3] and "refused" in lines[3]
    assert "\x1b[" not in out  # not a TTY: no colour
    assert "Docker and staging are down: Unit & configuration, Business-value protection and the local target still work" in out


def test_exit_1_when_a_required_target_is_down(srv: AgentServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(tmp_path, srv)
    assert run_check(parse("--timeout", T), env={"TEST_SECRET": "wrong", **NO_DOCKER}) == 1
    assert "token" in capsys.readouterr().out


def test_only_named_targets_decide_the_exit_code(srv: AgentServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(tmp_path, srv)
    assert run_check(parse("--only", "staging", "--timeout", T), env={**NO_DOCKER}) == 1  # asked for it: it counts
    capsys.readouterr()
    assert run_check(parse("--only", "local", "--timeout", "2"), env={"TEST_SECRET": SECRET}) == 0
    table = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in table[1:]] == ["local", "*"]  # only what was asked for, and the legend


def test_json_prints_only_the_document_and_no_secret(srv: AgentServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(tmp_path, srv)
    token = mint_token("some-other-secret-abcdef")
    code = run_check(parse("--json", "--timeout", T),
                     env={"TEST_SECRET": SECRET, "STAGING_TOKEN": token, **NO_DOCKER})
    out, err = capsys.readouterr()
    doc = json.loads(out)  # nothing but one JSON document on stdout
    assert set(doc) == {"ok", "targets"} and doc["ok"] is True and code == 0
    assert [t["name"] for t in doc["targets"]] == ["docker", "local", "staging"]
    for t in doc["targets"]:
        assert {"name", "status", "latency_ms", "hint", "checks", "required"} <= set(t)
        for c in t["checks"]:
            assert set(c) >= {"name", "status", "latency_ms", "error"}
            assert c["error"] is None or set(c["error"]) == {"kind", "message", "hint"}
    assert SECRET not in out + err and token not in out + err


def test_unknown_name_in_only_is_a_usage_error_listing_the_known_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_check(parse("--only", "docker,prod"), env={}) == 2
    err = capsys.readouterr().err
    assert "unknown target 'prod'" in err and "docker, local, staging" in err


def test_config_error_exits_2_with_its_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "wsdash.toml").write_text("[targets.local]\nws_url = 'http://wrong'\n")
    assert run_check(parse(), env={}) == 2
    assert "ws_url must start with ws:// or wss://" in capsys.readouterr().err
    assert run_check(parse("--config", str(tmp_path / "missing.toml")), env={}) == 2
    assert "does not exist" in capsys.readouterr().err


def rows() -> list[ProbeResult]:
    from wsdash.core.errors import ClassifiedError

    err = ClassifiedError("refused", "refused", "no service is listening on 127.0.0.1:8002")
    return [ProbeResult("docker", UP, 3.2, detail="Docker 27.1.1"), ProbeResult("local", DOWN, 1500.0, err.hint, error=err),
            ProbeResult("staging", DEGRADED, 12.0, "health says degraded", detail="ws 3 ms")]


def read_all(master: int) -> str:
    """Everything written to the pty (one os.read may return only the first chunk)."""
    import select

    data = b""
    try:
        while select.select([master], [], [], 0.5)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            data += chunk
    except OSError:  # EIO: the slave side is closed and drained
        pass
    finally:
        os.close(master)
    return data.decode()


def test_table_is_coloured_on_a_real_tty_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(os, "openpty"):
        pytest.skip("no pty on this platform")
    for no_color, expect_colour in (("", True), ("1", False)):
        monkeypatch.setenv("NO_COLOR", no_color)
        master, slave = os.openpty()
        with open(slave, "w", encoding="utf-8") as out:
            print_table(rows(), {"local"}, ["note"], out)
        text = read_all(master)
        assert ("\x1b[31" in text) is expect_colour
        assert "1.50 s" in text and "3 ms" in text and "local *" in text


def test_the_cli_wires_check_and_stays_cheap_to_import() -> None:
    code = ("import sys; from wsdash.cli import build_parser; p = build_parser(); "
            "a = p.parse_args(['check', '--only', 'docker']); print(a.func.__module__); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'websockets', 'jwt', 'textual') "
            "or m.startswith('wsdash.services.health.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.splitlines() == ["wsdash.commands.check", "[]"]


def test_the_health_core_never_imports_textual() -> None:
    code = ("import sys, wsdash.services.health.check, wsdash.services.health.docker, wsdash.services.health.service, wsdash.services.health.model, "
            "wsdash.commands.check; print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip() == "False"


def test_wsdash_check_as_a_real_process(srv: AgentServer, tmp_path: Path) -> None:
    write_config(tmp_path, srv)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TEST_SECRET": SECRET, "NO_COLOR": "1", **NO_DOCKER}
    proc = subprocess.run([sys.executable, "-m", "wsdash", "check", "--only", "local", "--json", "--timeout", "3"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["targets"][0]["status"] == "up"


def test_a_timeout_too_short_for_any_check_leaves_no_python_warning(srv: AgentServer, tmp_path: Path) -> None:
    """A probe cancelled before its HTTP check started left that coroutine never awaited:
    "RuntimeWarning: coroutine 'http_check' was never awaited", three lines on stderr, every time."""
    write_config(tmp_path, srv)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TEST_SECRET": SECRET, "NO_COLOR": "1", **NO_DOCKER}
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-m", "wsdash", "check", "--only", "local", "--timeout", "0.0001"],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
        assert proc.returncode == 1 and "deadline" in proc.stdout, proc.stdout + proc.stderr
        assert "Warning" not in proc.stderr, proc.stderr
