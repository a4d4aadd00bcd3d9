"""Configuration files as Windows tools write them (issue 10 point 6), through real `wsdash config
show` and `wsdash check` processes: exit 2, a message naming the file and the real cause, no traceback.

The bytes are what the tools write: Notepad's "UTF-8 with BOM" (and every Notepad before Windows 10
1903), Windows PowerShell 5.1's `>` / Out-File (UTF-16 LE with a BOM, CRLF), a BOM-less UTF-16 file,
an ANSI (Windows-1252) file, and double-quoted Windows paths, whose tomllib errors (or silent
escapes) were checked on CPython 3.11–3.13.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from wsdash.core.config import ConfigError, load_config

GOOD = '[targets.local]\r\nws_url = "ws://127.0.0.1:9911/ws"\r\n'


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "wsdash.toml"
    path.write_bytes(data)
    return path


def show(path: Path, *extra: str):
    return run_cli("--config", str(path), "config", "show", *extra, cwd=path.parent)


def assert_usage_error(out, *needles: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "UnicodeDecodeError" not in out.stderr, out.stderr
    for needle in needles:
        assert needle in out.stderr, (needle, out.stderr)


def test_utf8_with_bom_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff".encode() + GOOD.encode())  # Notepad "UTF-8 with BOM"
    out = show(path, "--json")
    assert out.returncode == 0, out.stderr
    values = {v["key"]: v for v in json.loads(out.stdout)["values"]}
    assert values["targets.local.ws_url"]["value"] == "ws://127.0.0.1:9911/ws"
    assert values["targets.local.ws_url"]["source"] == str(path)


@pytest.mark.parametrize(("data", "name"), [
    (b"\xff\xfe" + GOOD.encode("utf-16-le"), "UTF-16 LE"),  # PowerShell 5.1: `... > wsdash.toml`
    (b"\xfe\xff" + GOOD.encode("utf-16-be"), "UTF-16 BE"),
], ids=["powershell-5.1-utf16le", "utf16be"])
def test_utf16_with_bom_is_a_config_error_naming_file_and_encoding(tmp_path: Path, data: bytes, name: str) -> None:
    path = write(tmp_path, data)
    assert_usage_error(show(path), str(path), f"is {name} text", "PowerShell 5.1", "save it as UTF-8")
    assert_usage_error(run_cli("--config", str(path), "check", "--only", "local", cwd=tmp_path), str(path), name)


def test_utf16_without_bom(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.encode("utf-16-le"))
    assert_usage_error(show(path), str(path), "looks like UTF-16 LE text without a byte order mark")


def test_ansi_code_page_file_names_itself(tmp_path: Path) -> None:
    path = write(tmp_path, ('# Équipe\r\n' + GOOD).encode("cp1252"))
    assert_usage_error(show(path), str(path), "not UTF-8 text (byte 0xc9 on line 1", "Windows-1252")


def test_the_demo_fallback_sees_a_config_error_not_a_decode_error(tmp_path: Path) -> None:
    """`wsdash demo` falls back to the built-in configuration on a ConfigError: a
    UnicodeDecodeError used to escape that and end the demo with an error."""
    path = write(tmp_path, b"\xff\xfe" + GOOD.encode("utf-16-le"))
    with pytest.raises(ConfigError):
        load_config(path, env={})


@pytest.mark.parametrize(("line", "tomllib_says"), [
    ('python = "C:\\Users\\me\\backend\\.venv\\Scripts\\python.exe"', "Invalid hex value"),
    ('cwd = "D:\\work\\backend"', "Unescaped '\\'"),
])
def test_windows_path_in_double_quotes_gets_the_single_quote_hint(tmp_path: Path, line: str, tomllib_says: str) -> None:
    path = write(tmp_path, f'[[tiers]]\nname = "unit"\npytest = ["tests"]\n{line}\n'.encode())
    out = show(path)
    assert_usage_error(out, str(path), tomllib_says, "single quotes", "python = 'C:\\work\\.venv\\Scripts\\python.exe'")
    assert_usage_error(run_cli("--config", str(path), "tiers", "list", cwd=tmp_path), str(path), "single quotes")


@pytest.mark.parametrize(("value", "what"), [
    ('"C:\\temp\\backend"', "\\t (a TAB)"),
    ('"C:\\backend"', "\\b (a backspace)"),
    ('"C:\\new-backend"', "\\n (a line break)"),
])
def test_silently_escaped_windows_path_is_caught(tmp_path: Path, value: str, what: str) -> None:
    path = write(tmp_path, f'[[tiers]]\nname = "unit"\npytest = ["tests"]\ncwd = {value}\n'.encode())
    assert_usage_error(show(path), str(path), "tiers[0].cwd", what, "single quotes")


def test_single_quoted_windows_paths_load(tmp_path: Path) -> None:
    path = write(tmp_path, b"[[tiers]]\nname = 'unit'\npytest = ['tests']\ncwd = 'C:\\temp\\backend'\n"
                           b"python = 'C:\\Users\\me\\.venv\\Scripts\\python.exe'\n")
    cfg = load_config(path, env={})
    assert cfg.tiers == [{"name": "unit", "pytest": ["tests"], "cwd": "C:\\temp\\backend",
                          "python": "C:\\Users\\me\\.venv\\Scripts\\python.exe"}]


def test_a_multiline_string_may_hold_line_breaks(tmp_path: Path) -> None:
    path = write(tmp_path, b'[[tiers]]\nname = "unit"\npytest = ["tests"]\nenv = { NOTE = """one\ntwo""" }\n')
    assert load_config(path, env={}).tiers is not None


@pytest.mark.parametrize(("data", "said"), [(b"\xff\xfes\x00e\x00c\x00r\x00e\x00t\x00", "UTF-16"), (b"s\xe9cret", "not UTF-8")])
def test_an_undecodable_secret_file_names_itself(tmp_path: Path, data: bytes, said: str) -> None:
    from wsdash.core.auth import TokenError, read_secret_file

    (tmp_path / "secret").write_bytes(data)
    with pytest.raises(TokenError, match=said) as info:
        read_secret_file(tmp_path / "secret")
    assert str(tmp_path / "secret") in str(info.value)
    (tmp_path / "secret").write_bytes(b"\xef\xbb\xbfbom-secret-0123456789\r\n")
    assert read_secret_file(tmp_path / "secret") == "bom-secret-0123456789"
