"""The house rules of docs/architecture.md, held by tests: a wrong import fails CI."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "wsdash"


def test_import_linter_contracts_hold() -> None:
    """The layers, sibling services that do not know each other, a headless core and services,
    and a self-contained pytest plugin (contracts in pyproject.toml)."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(REPO / "pyproject.toml")) == 0


def test_the_core_and_services_import_without_textual() -> None:
    """Every core and service module, imported for real in a fresh interpreter."""
    modules = sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts)
        for layer in ("core", "services")
        for p in (PACKAGE / layer).rglob("*.py")
        if p.name != "__init__.py" and "pytest_stream" not in p.parts  # the plugin imports pytest
    )
    code = f"import sys; [__import__(m) for m in {modules!r}]; print(sorted({{m.split('.')[0] for m in sys.modules}} & {{'textual', 'rich'}}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip() == "[]"


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wsdash"):
            found.extend((node.module, alias.name) for alias in node.names)
    return found


def test_no_private_name_crosses_a_module() -> None:
    crossing = [
        f"{path.relative_to(REPO)} imports {name} from {module}"
        for path in PACKAGE.rglob("*.py")
        for module, name in _imports(path)
        if name.startswith("_") and not name.startswith("__")
    ]
    assert crossing == []


def test_every_subcommand_lives_in_commands_and_is_registered() -> None:
    """One door: cli.COMMANDS names a module in commands/ for every subcommand, and no module
    outside commands/ and cli.py touches argparse."""
    from wsdash import cli

    for name in cli.COMMANDS:
        assert (PACKAGE / "commands" / f"{name}.py").is_file(), name
    outside = [
        str(p.relative_to(REPO))
        for p in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(import argparse|from argparse import)", p.read_text(encoding="utf-8"), re.M)
        and p.parent.name != "commands" and p.name != "cli.py"
    ]
    assert outside == []


def test_exit_codes_have_one_home() -> None:
    """core/exit_codes.py defines them; nobody else assigns an EXIT_* name."""
    assigns = re.compile(r"^\s*EXIT_\w+(\s*,\s*EXIT_\w+)*\s*=", re.M)
    defined = [str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py") if assigns.search(p.read_text(encoding="utf-8"))]
    assert defined == []
