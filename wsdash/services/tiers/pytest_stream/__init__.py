"""Live test results from pytest to wsdash: a self-contained pytest plugin (a package).

The runner copies this package, every module of it, onto the child's PYTHONPATH as
``wsdash_pytest_stream`` (stream.plugin_files) and loads it in the *project under test's*
interpreter (``-p wsdash_pytest_stream``). So its modules import only the standard library,
pytest and each other, relatively: never wsdash, which is usually not installed there.

- ``selection.py``: the rerun filter and what the selection collected (workers too)
- ``reporter.py``: the hooks → JSON lines on the socket, batched (the controller only)
- ``report_text.py``: a report's message, traceback and output, bounded
- ``windows.py``: Ctrl+Break stops pytest like Ctrl-C (imported on Windows only)

Transport: one loopback TCP connection to the address in ``WSDASH_TIER_STREAM`` ("host:port"),
JSON lines, ASCII only, Nagle disabled. The first line is a ``hello`` carrying the secret from
``WSDASH_TIER_TOKEN``, so that no other local process can inject results.

Events, in order: ``hello``, ``session_start``, ``report`` for failed/skipped collectors,
``collected`` (count + deselected), ``collection`` (files, files the selection emptied,
deselected ``no_skip`` tests), then per test ``start``, one ``report`` per report pytest
*counts* in its summary line (category from pytest's own ``pytest_report_teststatus``; a skip
of a test marked ``WSDASH_TIER_NO_SKIP`` says so), ``finish``; finally ``session_end``.
Under pytest-xdist only the controller reports; workers filter (``WSDASH_TIER_ONLY``) and hand
their collection summary back through ``workeroutput``.

The runner copies the plugin into a new directory for each run, so each module is compiled on
every run, in the tested project's time: hence PYTEST_DONT_REWRITE (pytest would rewrite the
asserts of a ``-p`` plugin, and it has none) and no module imported where it has nothing to do.
"""

from __future__ import annotations

import json
import os
import socket
import sys

import pytest

from .reporter import StreamReporter
from .selection import CollectionTracker, OnlyFilter, load_only

ENV_ADDR = "WSDASH_TIER_STREAM"
ENV_TOKEN = "WSDASH_TIER_TOKEN"
ENV_ONLY = "WSDASH_TIER_ONLY"  # path of a JSON list of node ids: run only those (rerun-failed)
ENV_NO_SKIP = "WSDASH_TIER_NO_SKIP"  # the marker of tests that must not skip ("" or unset: none)
PROTOCOL = 1


def _is_xdist_worker(config: pytest.Config) -> bool:
    # Not the PYTEST_XDIST_WORKER variable: a pytest started *by* a worker inherits it.
    return hasattr(config, "workerinput")


def _connect(addr: str, token: str) -> socket.socket:
    host, _, port = addr.rpartition(":")
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay per event
    sock.settimeout(30)  # a stuck reader must not hang the test run forever
    hello = {"ev": "hello", "token": token, "protocol": PROTOCOL, "pid": os.getpid(), "pytest": pytest.__version__}
    sock.sendall((json.dumps(hello) + "\n").encode("ascii"))
    return sock


def pytest_configure(config: pytest.Config) -> None:
    if sys.platform == "win32":  # imported only where it does something: every import is compiled anew
        from . import windows

        windows.install()
    only_path = os.environ.get(ENV_ONLY)
    only = OnlyFilter(load_only(only_path)) if only_path else None
    if only is not None:
        config.pluginmanager.register(only, "wsdash-only-filter")
    addr = os.environ.get(ENV_ADDR)
    tracker = None
    if addr or _is_xdist_worker(config):
        tracker = CollectionTracker(config, only, os.environ.get(ENV_NO_SKIP, ""))
        config.pluginmanager.register(tracker, "wsdash-collection-tracker")
    if not addr or _is_xdist_worker(config):
        return
    try:
        sock = _connect(addr, os.environ.get(ENV_TOKEN, ""))
    except (OSError, ValueError) as exc:
        # Say so on stderr (wsdash keeps the tail of it) but let the tests run.
        print(f"wsdash: cannot connect the live results stream to {addr}: {exc}", file=sys.stderr)
        return
    config.pluginmanager.register(StreamReporter(config, sock, tracker), "wsdash-stream-reporter")
