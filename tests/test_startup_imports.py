"""`wsdash --version` stays under 150 ms (bench/startup.py) because building the parser imports
only argparse and the cheap core: not the event loop, the network or the UI, nor
dataclasses (10 ms of inspect and ast, a third of the whole start-up)."""

from __future__ import annotations

import subprocess
import sys


def test_building_the_parser_imports_nothing_heavy() -> None:
    code = ("import sys; from wsdash.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('asyncio', 'websockets', 'textual', 'rich', 'httpx', 'ssl', 'dataclasses', 'secrets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"imported at start-up: {out}"
