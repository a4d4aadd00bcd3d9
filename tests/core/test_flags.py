"""Flags mean what they say wherever a user puts them: before the subcommand or after it, and
after it wins. Parsing is checked for every subcommand; the effect through real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SECRET
from wsdash.cli import build_parser

# (subcommand argv, the shared flags it takes)
SUBCOMMANDS = [
    (["golden-path"], ("config", "target", "record")),
    (["watch"], ("config", "target", "record")),
    (["check"], ("config", "target")),
    (["tiers", "list"], ("config",)),
    (["tiers", "run"], ("config",)),
    (["report"], ("config", "target")),
    (["history"], ("config", "target")),
    (["diff", "1", "2"], ("config", "target")),
    (["demo"], ("config", "record")),
    (["config", "show"], ("config",)),
]
CASES = [(argv, flag) for argv, flags in SUBCOMMANDS for flag in flags]
# What each subcommand reads of the shared flags (beyond `--no-history`, which every one takes).
READS = {
    "golden-path": {"config", "target", "record"}, "watch": {"config", "target", "record"}, "check": {"config", "target"},
    "tiers list": {"config"}, "tiers run": {"config", "target"}, "report": {"config", "target"},
    "history": {"config", "target"}, "diff 1 2": {"config", "target"}, "demo": {"config", "record", "present"},
    "replay run.jsonl": {"present"}, "serve": set(), "web": set(), "config show": {"config"}, "config path": {"config"},
}
VALUES = {"config": ["--config", "x.toml"], "target": ["--target", "t"], "record": ["--record", "runs"], "present": ["--present"]}


@pytest.mark.parametrize(("argv", "flag"), CASES, ids=[f"{' '.join(a)} --{f}" for a, f in CASES])
def test_a_shared_flag_works_in_both_positions_and_after_wins(argv: list[str], flag: str) -> None:
    parser = build_parser()
    before = parser.parse_args([f"--{flag}", "top", *argv])
    after = parser.parse_args([*argv, f"--{flag}", "sub"])
    both = parser.parse_args([f"--{flag}", "top", *argv, f"--{flag}", "sub"])
    neither = parser.parse_args(argv)
    assert getattr(before, flag) == "top"
    assert getattr(after, flag) == "sub"
    assert getattr(both, flag) == "sub"
    assert getattr(neither, flag, None) is None


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "elsewhere.toml"
    path.write_text(f'[targets.dev]\nws_url = "{url}"\nsecret_env = "WSDASH_TEST_SECRET"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("order", ["top", "sub", "mixed"])
def test_config_and_target_reach_golden_path(order: str, server_thread, cli, tmp_path: Path) -> None:
    cfg = str(_config(tmp_path, server_thread.url))
    argv = {
        "top": ["--config", cfg, "--target", "dev", "golden-path", "--json"],
        "sub": ["golden-path", "--config", cfg, "--target", "dev", "--json"],
        "mixed": ["--config", cfg, "golden-path", "--target", "dev", "--json"],
    }[order]
    out = cli(*argv, cwd=tmp_path, env={"WSDASH_TEST_SECRET": SECRET})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["url"] == server_thread.url


def test_config_show_reads_the_top_level_file(cli, tmp_path: Path) -> None:
    cfg = _config(tmp_path, "ws://127.0.0.1:9/ws")
    out = cli("--config", str(cfg), "config", "show", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files"] == [str(cfg)]


def test_config_show_masks_a_token_in_a_url(cli, tmp_path: Path) -> None:
    cfg = _config(tmp_path, "ws://127.0.0.1:9/ws?token=sk-live-abcdef0123456789&scenario=golden")
    for argv in (["config", "show"], ["config", "show", "--json"]):
        out = cli("--config", str(cfg), *argv, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "sk-live-abcdef0123456789" not in out.stdout and "abcdef" not in out.stdout
        # --json is ASCII (non-ASCII escaped): read it as JSON, not as text.
        shown = json.dumps(json.loads(out.stdout), ensure_ascii=False) if "--json" in argv else out.stdout
        assert "token=•••(redacted)" in shown and "scenario=golden" in shown


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "soon"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(value: str, cli) -> None:
    out = cli("golden-path", "--url", "ws://127.0.0.1:9/ws", "--timeout", value)
    assert out.returncode == 2
    assert "--timeout" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_serve_with_an_impossible_port_is_a_usage_error(port: str, cli) -> None:
    out = cli("serve", "--port", port)
    assert out.returncode == 2
    assert "--port" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", list(READS))
def test_a_shared_flag_a_command_does_not_read_is_refused_before_it_not_ignored(command: str) -> None:
    """`wsdash --record runs/ history` ran and recorded nothing; `--present golden-path` printed
    text. Each flag given before a command that does not read it is now an error naming both."""
    from wsdash.commands.common import unused_shared_flag

    parser = build_parser()
    argv = command.split()
    for flag, given in VALUES.items():
        args = parser.parse_args([*given, *argv])
        refused = flag in ("record", "present") and flag not in READS[command]  # --config, --target: an alias's, harmless
        assert unused_shared_flag(args) == (f"--{flag}" if refused else None), (command, flag)
    assert unused_shared_flag(parser.parse_args(["--no-history", *argv])) is None
    if command not in ("serve", "web", "config path"):
        assert parser.parse_args([*argv, "--no-history"]).no_history is True  # after it too: nothing to leave out is no error


def test_the_refusal_names_the_flag_and_the_command(cli, tmp_path: Path) -> None:
    out = cli("--record", "runs", "history", cwd=tmp_path)
    assert out.returncode == 2 and "--record does not apply to `wsdash history`" in out.stderr, out.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv", [["history"], ["tiers", "run"], ["diff", "last", "last"], ["golden-path"], []])
def test_an_empty_target_is_refused_before_any_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--target "$UNSET"`: history listed every target's runs, tiers run ran every tier and diff
    took the newest run's target (the review found the empty check in one home of three)."""
    for where in ([*argv, "--target", ""], ["--target", "", *argv]):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args(where)
        assert exit_.value.code == 2 and "expected a target's name" in capsys.readouterr().err
