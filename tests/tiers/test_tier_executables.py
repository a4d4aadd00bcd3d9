"""Tier executables resolve the same on every OS (issue 10 point 7): a relative `python` is the
config file's neighbour; argv[0] is found through PATH (and PATHEXT on Windows: `npm` is
`npm.cmd`); a relative program path starts from the tier's working directory."""

from __future__ import annotations

import ntpath
import os
import posixpath
import shutil
import sys
from pathlib import Path

import pytest

from wsdash.services.tiers import spec as spec_module
from wsdash.services.tiers.process import resolve_program
from wsdash.services.tiers.runner import run_tier
from wsdash.services.tiers.spec import TierSpec


def test_relative_python_is_taken_from_the_config_files_folder(tmp_path: Path) -> None:
    table = {"name": "unit", "pytest": ["tests"], "python": "../backend/.venv/bin/python", "cwd": "../backend"}
    spec = TierSpec.from_table(table, base_dir=tmp_path / "cfg")
    assert spec.python == str(tmp_path / "backend" / ".venv" / "bin" / "python")
    assert spec.cwd == str(tmp_path / "backend")
    assert TierSpec.from_table({"name": "u", "pytest": [], "python": "python3"}, base_dir=tmp_path).python == "python3"


def test_windows_venv_python_is_taken_from_the_config_files_folder() -> None:
    """The README's Windows form, resolved with Windows path rules."""
    assert spec_module._from_config_dir(r".venv\Scripts\python.exe", r"C:\work\app", ntpath) == r"C:\work\app\.venv\Scripts\python.exe"
    assert spec_module._from_config_dir(r"..\backend\.venv\Scripts\python.exe", r"C:\work\app", ntpath) == r"C:\work\backend\.venv\Scripts\python.exe"
    assert spec_module._from_config_dir(r"C:\Python312\python.exe", r"C:\work\app", ntpath) == r"C:\Python312\python.exe"
    assert spec_module._from_config_dir("py", r"C:\work\app", ntpath) == "py"  # the launcher, from PATH
    assert spec_module._from_config_dir("bin/python", "/work/app", posixpath) == "/work/app/bin/python"


def test_a_bare_name_goes_through_pathext_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`npm` is `npm.cmd` on Windows; CreateProcess itself only appends .exe."""
    shim = tmp_path / "npm.cmd"
    shim.write_text("@echo off\r\n")
    shim.chmod(0o755)
    if not sys.platform.startswith("win"):
        # shutil.which's Windows branch, with this OS's path separator and (case-sensitive file
        # system) Windows' PATHEXT in lower case.
        monkeypatch.setattr(sys, "platform", "win32")
        monkeypatch.setenv("PATHEXT", os.pathsep.join([".com", ".exe", ".bat", ".cmd"]))
    found = resolve_program("npm", None, {"PATH": str(tmp_path)})
    assert os.path.normcase(found) == os.path.normcase(str(shim))


def test_relative_program_starts_from_the_tier_cwd(tmp_path: Path) -> None:
    assert resolve_program(os.path.join("scripts", "check"), str(tmp_path), {}) == str(tmp_path / "scripts" / "check")
    assert resolve_program(sys.executable, str(tmp_path), {}) == sys.executable
    assert resolve_program("no-such-program-wsdash", None, {"PATH": str(tmp_path)}) == "no-such-program-wsdash"


async def test_a_command_tier_runs_a_program_found_on_the_tiers_path(tmp_path: Path) -> None:
    """The child's PATH (the tier's env) decides, not wsdash's own."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if os.name == "nt":
        (bin_dir / "hello.cmd").write_text(f'@"{sys.executable}" -c "print(\'hello from PATH\')"\r\n')
    else:
        (bin_dir / "hello").write_text(f"#!/bin/sh\nexec '{sys.executable}' -c \"print('hello from PATH')\"\n")
        (bin_dir / "hello").chmod(0o755)
    env = {"PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])}
    spec = TierSpec.from_table({"name": "cmd", "command": ["hello"], "env": env, "cwd": str(tmp_path)})
    assert shutil.which("hello") is None  # not on wsdash's own PATH
    result = await run_tier(spec)
    assert result.status == "passed", (result.message, result.returncode)
    assert result.argv[0] == str(bin_dir / ("hello.cmd" if os.name == "nt" else "hello"))
