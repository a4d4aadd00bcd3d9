"""Shared helpers for the benchmarks: statistics, machine and version info, the embedded agent
server in a subprocess, and appending a dated row under a `## name` section of BENCHMARKS.md.

Imports nothing from Textual or wsdash at module level, so every benchmark (and `check.py` /
`tiers.py`, should they adopt it) can import it cheaply:

    from bench.common import ROOT, append_row, machine, median, percentile
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"
if str(ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first on the path, not the repo
    sys.path.insert(0, str(ROOT))


# ---- bytecode ---------------------------------------------------------------------------------

def compile_bytecode() -> None:
    """Write wsdash's (and the benchmarks') .pyc files before timing a fresh process.

    An installed wsdash has them (pip compiles at install; an editable install writes them on its
    first run), as do Textual and every baseline's libraries in site-packages. Where
    PYTHONDONTWRITEBYTECODE is set (this VM sets it) nothing would ever write them, and every
    measured start-up would compile ~60 modules from source: ~100 ms that no user pays."""
    import compileall

    for package in ("wsdash", "bench"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


# ---- statistics -------------------------------------------------------------------------------

def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 1] (the same rule as bench/tiers.py)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def spread(values: Sequence[float]) -> str:
    """`min–max` of a sample, for showing how noisy a median is."""
    return f"{min(values):,.0f}–{max(values):,.0f}" if values else "-"


def rotations(names: Sequence[str], rounds: int) -> list[list[str]]:
    """Alternating order: round i starts at names[i % len]. Every variant sees every position,
    so a machine that slows down (or warms up) over a run does not favour one of them."""
    k = len(names)
    return [[names[(i + j) % k] for j in range(k)] for i in range(rounds)]


def machine_speed_ms() -> float:
    """Milliseconds a fixed pure-Python loop takes (best of three): the machine's speed right now.

    This VM switches between two speeds about 1.4x apart, in phases of a few seconds (the loop
    takes 19-22 ms in one and 27-31 in the other, at idle). Two figures taken in different phases
    compare the phases, not the programs; printing this beside each one shows when that happened."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(100_000):
            total += i * i
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# ---- machine and versions ---------------------------------------------------------------------

def version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def versions() -> dict[str, str]:
    from wsdash import __version__

    return {
        "python": platform.python_version(),
        "wsdash": __version__,
        "textual": version_of("textual"),
        "websockets": version_of("websockets"),
    }


def machine() -> str:
    """One cell for the BENCHMARKS.md tables: OS, CPU count, Python and library versions."""
    v = versions()
    load = ""
    if hasattr(os, "getloadavg"):
        try:
            load = f", load {os.getloadavg()[0]:.1f}"
        except OSError:
            pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpu{load}, Python {v['python']}, "
            f"textual {v['textual']}, websockets {v['websockets']}")


def today() -> str:
    return dt.date.today().isoformat()


# ---- BENCHMARKS.md ----------------------------------------------------------------------------

def append_row(section: str, header: str, row: str, intro: str = "", path: Path = BENCHMARKS) -> None:
    """Add `row` (one markdown table line) to the last table of the `## <section>` section.

    `header` is the table's two header lines; `intro` the paragraph written when the section is
    created. Other sections are left byte-for-byte as they were.
    """
    title = f"## {section}"
    row = row.rstrip("\n") + "\n"
    header = header.rstrip("\n") + "\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == title), None)
    if start is None:
        body = f"\n{title}\n\n" + (intro.strip() + "\n\n" if intro else "") + header + row
        path.write_text(text.rstrip("\n") + "\n" + body, encoding="utf-8")
        print(f"appended to {path}")
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    last = max((i for i in range(start, end) if lines[i].startswith("|")), default=None)
    if last is None:
        insert = ["\n", header, row] if lines[end - 1].strip() else [header, row]
        lines[end:end] = insert
    else:
        first = last
        while first > start and lines[first - 1].startswith("|"):
            first -= 1
        # New columns start a new table below the old one: old rows keep the header they were written under.
        lines[last + 1:last + 1] = [row] if lines[first] == header.split("\n")[0] + "\n" else ["\n", header, row]
    path.write_text("".join(lines), encoding="utf-8")
    print(f"appended to {path}")


def table_row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table_header(columns: Sequence[str]) -> str:
    return table_row(columns) + "\n" + "|" + "---|" * len(columns)


def common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="fewer events and rounds (what `python -m bench` uses)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch BENCHMARKS.md")


# ---- the embedded agent server in its own process ---------------------------------------------

_URL = re.compile(r"(ws://\S+)")


class ServerProcess:
    """`wsdash serve --no-auth --port 0 --pace 0` in a subprocess, so that the client under test
    has its interpreter (and, on two cores, a core) to itself.

        with ServerProcess() as srv:
            srv.url           # ws://127.0.0.1:PORT/ws
            srv.cpu_seconds() # the server's user+system CPU so far (None where unknown)
    """

    def __init__(self, *args: str, timeout: float = 20.0) -> None:
        self.args = list(args)
        self.timeout = timeout
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._err = tempfile.TemporaryFile(mode="w+", encoding="utf-8")

    def __enter__(self) -> "ServerProcess":
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        env.pop("WSDASH_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wsdash", "serve", "--no-auth", "--port", "0", "--pace", "0", *self.args],
            stdout=subprocess.PIPE, stderr=self._err, stdin=subprocess.DEVNULL, text=True, encoding="utf-8", cwd=ROOT, env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the first line names the URL
        match = _URL.search(line)
        if match is None:
            self._err.seek(0)
            self.__exit__()
            raise RuntimeError(f"the agent server did not start: {line!r} {self._err.read()[-2000:]}")
        self.url = match.group(1)
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        self._err.close()

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process (Linux /proc; None elsewhere)."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, AttributeError):
            return None


def burst_url(url: str, events: int) -> str:
    return f"{url}?scenario=burst:{events}"


class Stopwatch:
    """Wall and own-process CPU time of a block."""

    def __enter__(self) -> "Stopwatch":
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def peak_rss_mb() -> float | None:
    """This process's peak resident set size in MB (None where unknown).

    Linux: VmHWM, the high-water mark of this process's own memory. Not getrusage's ru_maxrss,
    which also counts the pages of the process that spawned this one, resident when it forked
    (a benchmark's parent holding 70 MB made every child "peak" at 70 MB)."""
    hwm = vm_hwm_mb("self")
    if hwm is not None:
        return hwm
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def vm_hwm_mb(pid: int | str) -> float | None:
    """VmHWM of a process from /proc (Linux), in MB; None elsewhere or once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# ---- the same wire as wsdash, and the server on its own ---------------------------------------

def raw_connect(url: str) -> Any:
    """A plain `websockets` client connection, opened as wsdash opens its own (`core.connection.
    open_ws`: no permessage-deflate, 64 MiB frames), so a baseline and wsdash receive the same bytes
    and the baseline is not charged for inflating frames that wsdash never has to."""
    from websockets.asyncio.client import connect

    return connect(url, max_size=64 * 1024 * 1024, open_timeout=10, compression=None)


def drain_burst(url: str, frames_after_message: int, timeout: float = 300.0) -> float:
    """The server alone: seconds from sending the chat message until `frames_after_message` text
    frames have arrived, read by a client that does nothing per frame but step over its header
    (no parsing of payloads, no JSON, no event loop). Opened like wsdash (no extensions)."""
    import json
    import socket

    from websockets.client import ClientProtocol
    from websockets.frames import Frame, Opcode
    from websockets.uri import parse_uri

    from wsdash.core.protocol import user_message

    uri = parse_uri(url)
    proto = ClientProtocol(uri, max_size=None)
    with socket.create_connection((uri.host, uri.port), timeout=timeout) as sock:
        proto.send_request(proto.connect())
        sock.sendall(b"".join(proto.data_to_send()))
        established = False
        while not established:  # the 101 response, then connection_established
            data = sock.recv(65536)
            if not data:
                raise RuntimeError(f"the server closed the connection during the handshake: {proto.handshake_exc!r}")
            proto.receive_data(data)
            established = any(isinstance(e, Frame) and e.opcode is Opcode.TEXT for e in proto.events_received())
        proto.send_text(json.dumps(user_message("burst", None, "bench")).encode())
        t0 = time.perf_counter()
        sock.sendall(b"".join(proto.data_to_send()))
        counted, skip, pending = 0, 0, b""
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError(f"the server closed after {counted:,} of {frames_after_message:,} frames")
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            data = pending + chunk[skip:] if pending else chunk[skip:] if skip else chunk
            i, end = 0, len(data)
            while i + 2 <= end:  # server frames: FIN/opcode byte, unmasked length, payload
                size = data[i + 1] & 0x7F
                head = 2
                if size == 126:
                    if i + 4 > end:
                        break
                    size, head = int.from_bytes(data[i + 2:i + 4], "big"), 4
                elif size == 127:
                    if i + 10 > end:
                        break
                    size, head = int.from_bytes(data[i + 2:i + 10], "big"), 10
                if data[i] & 0x0F == 1:
                    counted += 1
                i += head + size
            if i >= end:
                skip, pending = i - end, b""
                if counted >= frames_after_message and skip == 0:
                    return time.perf_counter() - t0
            else:
                skip, pending = 0, data[i:]
            if counted >= frames_after_message and skip == 0 and not pending:
                return time.perf_counter() - t0
