"""The tier core is headless and the CLI module is cheap to import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_core_never_imports_textual() -> None:
    out = _python(
        "import sys\n"
        "import wsdash.tiers, wsdash.tiers.model, wsdash.tiers.runner, wsdash.tiers.junit, wsdash.tiers.state, wsdash.tiers.command\n"
        "from wsdash.tiers import run_tier, TierSpec\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    assert out == "[]"


def test_command_module_import_is_cheap() -> None:
    out = _python(
        "import sys\n"
        "import wsdash.tiers.command\n"
        "heavy = ('asyncio', 'wsdash.tiers.runner', 'wsdash.tiers.model', 'platformdirs', 'xml.etree.ElementTree', 'json')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    assert out == "[]"
