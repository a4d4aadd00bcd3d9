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
        "import wsdash.services.tiers, wsdash.services.tiers.model, wsdash.services.tiers.runner, wsdash.services.tiers.junit, wsdash.services.tiers.state, wsdash.commands.tiers\n"
        "from wsdash.services.tiers.runner import run_tier\nfrom wsdash.services.tiers.spec import TierSpec\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    assert out == "[]"


def test_command_module_import_is_cheap() -> None:
    out = _python(
        "import sys\n"
        "import wsdash.commands.tiers\n"
        "heavy = ('asyncio', 'wsdash.services.tiers.runner', 'wsdash.services.tiers.model', 'platformdirs', 'xml.etree.ElementTree', 'json')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    assert out == "[]"
