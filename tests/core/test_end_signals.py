"""Every command ends on SIGTERM (a CI job's timeout) and SIGHUP (a closed terminal) as it does on
Ctrl+C, its own cleanup included: `wsdash check` with a Docker CLI that hangs used to die at once
and leave the CLI running (it is started in a process group of its own, so nothing else reaps it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals to a child process; a shell-script docker")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_check_ended_by_a_signal_kills_the_docker_cli_it_started(tmp_path: Path, sig: signal.Signals) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    started = tmp_path / "docker.pid"
    docker = bin_dir / "docker"
    docker.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 60\n")  # a daemon that never answers
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("WSDASH_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "check"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (started.exists() and started.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, "the fake docker never ran"
            time.sleep(0.05)
        cli = int(started.read_text())
        assert psutil.pid_exists(cli)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err  # as Ctrl+C: interrupted, not killed by the signal
    deadline = time.monotonic() + 5
    while psutil.pid_exists(cli) and psutil.Process(cli).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the docker CLI outlived wsdash check"
        time.sleep(0.05)
