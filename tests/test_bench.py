"""The benchmarks stay runnable (a refactor once broke `bench/tiers.py`'s imports unnoticed) and
their rows land where BENCHMARKS.md's reader expects them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import append_row, table_header

ROOT = Path(__file__).resolve().parents[1]
# Every runnable benchmark; helpers (common.py, terminal.py, ui_terminal.py) have no __main__.
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("*.py")
                 if p.stem not in ("__init__", "__main__") and 'if __name__ == "__main__":' in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", BENCHES)
def test_every_benchmark_starts(name: str) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / f"{name}.py"), "--help"],
                          capture_output=True, text=True, encoding="utf-8", timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "--no-write" in proc.stdout


def test_rows_go_to_their_section_and_new_columns_start_a_new_table(tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\n## other\n\n| a |\n|---|\n| 1 |\n", encoding="utf-8")
    old, new = table_header(["date", "x"]), table_header(["date", "x", "y"])

    append_row("speed", old, "| d1 | 1 |", intro="What speed means.", path=md)
    append_row("speed", old, "| d2 | 2 |", path=md)
    append_row("speed", new, "| d3 | 3 | 4 |", path=md)
    append_row("speed", new, "| d4 | 5 | 6 |", path=md)

    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\n## other\n\n| a |\n|---|\n| 1 |\n")  # untouched
    speed = text.split("## speed\n", 1)[1]
    assert speed == ("\nWhat speed means.\n\n" + old + "\n| d1 | 1 |\n| d2 | 2 |\n\n" + new + "\n| d3 | 3 | 4 |\n| d4 | 5 | 6 |\n")
