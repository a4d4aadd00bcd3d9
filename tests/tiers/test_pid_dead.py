"""The tier tests' "is this process gone?" works on every OS and never kills what it looks at."""

from __future__ import annotations

import subprocess
import sys

from tests.tiers.tiers_support import pid_dead


def test_pid_dead_tells_a_live_process_from_a_dead_one() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not pid_dead(proc.pid, within_s=0.3)  # looking at it must neither kill it nor miss it
        assert proc.poll() is None, "pid_dead killed the process it checked"
        proc.kill()
        assert pid_dead(proc.pid), "a killed (zombie, or reaped) process is dead"
    finally:
        proc.kill()
        proc.wait()
    assert pid_dead(proc.pid, within_s=0.3)
