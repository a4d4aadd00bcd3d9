"""What would break on Windows, caught here on Linux: a POSIX-only import at the top of any wsdash
module, and snapshots/fixtures checked out with CRLF line endings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Modules CPython's Windows build does not have (or refuses to import there). Only wsdash's own
# imports are refused: the libraries it uses pick their platform's modules themselves.
POSIX_ONLY = ("fcntl", "termios", "tty", "pty", "resource", "grp", "pwd", "posix", "syslog", "crypt", "nis",
              "spwd", "_posixsubprocess", "_posixshmem", "readline", "curses", "_curses", "asyncio.unix_events")

IMPORT_ALL = r"""
import builtins, importlib, json, os, pkgutil, sys

BLOCKED = set(os.environ["WSDASH_BLOCKED"].split(","))
real_import = builtins.__import__

def refuse_posix_only(name, globals=None, locals=None, fromlist=(), level=0):
    # builtins.__import__ sees every import statement, even of a module already in sys.modules.
    importer = (globals or {}).get("__name__", "")
    if level == 0 and (importer == "wsdash" or importer.startswith("wsdash.")):
        wanted = {name} | {f"{name}.{f}" for f in fromlist or ()}
        if wanted & BLOCKED:
            raise ImportError(f"{importer} imports {sorted(wanted & BLOCKED)[0]}, which Windows does not have")
    return real_import(name, globals, locals, fromlist, level)

builtins.__import__ = refuse_posix_only
import wsdash
names = sorted(m.name for m in pkgutil.walk_packages(wsdash.__path__, "wsdash.") if not m.name.endswith("__main__"))
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"imported": names, "failed": failed}))
"""


def test_every_module_imports_without_posix_only_modules() -> None:
    env = {**os.environ, "WSDASH_BLOCKED": ",".join(POSIX_ONLY)}
    proc = subprocess.run([sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report["imported"]) > 50, report["imported"]  # every module was really tried
    assert "wsdash.ui.app" in report["imported"] and "wsdash.commands.serve" in report["imported"]
    assert report["failed"] == {}, report["failed"]


@pytest.mark.parametrize("path", ["tests/ui/__snapshots__/test_snapshots/test_help_screen.svg", "screenshots/docker-down.svg",
                                  "tests/conftest.py", "pyproject.toml"])
def test_snapshots_and_text_fixtures_stay_lf_on_every_checkout(path: str) -> None:
    """A Windows runner's git has core.autocrlf=true: without .gitattributes every SVG snapshot
    would be checked out with CRLF and compare unequal."""
    try:
        proc = subprocess.run(["git", "check-attr", "eol", "text", "--", path], capture_output=True, text=True, cwd=REPO, timeout=30)
    except FileNotFoundError:
        pytest.skip("git is not installed")
    if proc.returncode != 0:
        pytest.skip(f"not a git checkout: {proc.stderr.strip()}")
    assert f"{path}: eol: lf" in proc.stdout, proc.stdout


def test_isolated_dirs_reach_platformdirs_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that isolate wsdash's user directories set XDG_* — which platformdirs ignores on
    Windows — and the WIN_PD_OVERRIDE_* variables it does read there (a fully qualified path)."""
    from pathlib import PureWindowsPath

    from platformdirs.windows import Windows

    from tests.conftest import isolated_dirs

    for var, value in isolated_dirs(PureWindowsPath(r"C:\t")).items():  # type: ignore[arg-type]
        monkeypatch.setenv(var, value)
    dirs = Windows("wsdash", appauthor=False)
    for path in (dirs.user_config_dir, dirs.user_cache_dir, dirs.user_state_dir):
        assert path.startswith("C:\\t\\local-appdata"), path
