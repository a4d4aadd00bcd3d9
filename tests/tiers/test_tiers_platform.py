"""Process-group and signal choices per platform (the Windows branch is exercised here by
faking the platform), and the plugin's helpers."""

from __future__ import annotations

import ast
import os
import signal
from pathlib import Path
from typing import Any

import pytest

import wsdash.services.tiers.pytest_stream as plugin
from wsdash.services.tiers import process, stream


def test_popen_kwargs_per_platform() -> None:
    assert process.popen_kwargs("linux") == {"start_new_session": True}
    assert process.popen_kwargs("darwin") == {"start_new_session": True}
    assert process.popen_kwargs("win32") == {"creationflags": 0x00000200}  # CREATE_NEW_PROCESS_GROUP


def test_interrupt_and_kill_per_platform() -> None:
    assert process.interrupt_call("win32") == (os.kill, 1)  # CTRL_BREAK_EVENT to the group
    assert process.kill_call("win32") == ["taskkill", "/F", "/T", "/PID"]
    if hasattr(os, "killpg"):
        assert process.interrupt_call("linux") == (os.killpg, signal.SIGINT)
        assert process.kill_call("linux") == (os.killpg, signal.SIGKILL)


def test_windows_stop_path_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(process.os, "kill", lambda pid, sig: calls.append(("kill", pid, sig)))
    monkeypatch.setattr(process.subprocess, "Popen", lambda argv, **kw: calls.append(("spawn", argv)))
    process.interrupt_tree(4242, "win32")
    process.kill_tree(4242, "win32")  # started, not waited for: the event loop must not block
    assert calls == [("kill", 4242, 1), ("spawn", ["taskkill", "/F", "/T", "/PID", "4242"])]


def test_posix_stop_path_tolerates_a_vanished_group(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(pid: int, sig: int) -> None:
        raise ProcessLookupError

    monkeypatch.setattr(process.os, "killpg", gone, raising=False)
    process.interrupt_tree(4242, "linux")
    process.kill_tree(4242, "linux")


class FakeSignal:
    SIGBREAK = 21

    def __init__(self, fail: bool = False) -> None:
        self.installed: dict[int, Any] = {}
        self.fail = fail

    def signal(self, signum: int, handler: Any) -> Any:
        if self.fail:
            raise ValueError("signal only works in main thread")
        self.installed[signum] = handler


def test_plugin_turns_sigbreak_into_keyboard_interrupt() -> None:
    fake = FakeSignal()
    assert plugin.install_break_handler(fake) is True
    handler = fake.installed[21]
    with pytest.raises(KeyboardInterrupt):
        handler(21, None)
    assert plugin.install_break_handler(FakeSignal(fail=True)) is False

    class NoBreak:  # POSIX: there is no SIGBREAK, nothing is installed
        def signal(self, *a: Any) -> None:
            raise AssertionError("must not be called")

    assert plugin.install_break_handler(NoBreak()) is False


def test_plugin_and_runner_agree_on_the_protocol() -> None:
    assert (plugin.ENV_ADDR, plugin.ENV_TOKEN, plugin.ENV_ONLY) == (stream.ENV_ADDR, stream.ENV_TOKEN, stream.ENV_ONLY)
    assert stream.plugin_source() == Path(plugin.__file__).read_bytes()


def test_plugin_is_self_contained() -> None:
    tree = ast.parse(Path(plugin.__file__).read_text())
    imports = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imports |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "pytest" in imports and "json" in imports
    # The standard library and pytest, nothing else: it runs in the project's interpreter.
    assert imports <= {"__future__", "json", "os", "signal", "socket", "sys", "time", "typing", "pytest"}


@pytest.mark.parametrize(
    ("nodeid", "only", "expected"),
    [
        ("t.py::test_a", {"t.py::test_a"}, True),
        ("t.py::test_a", {"t.py::test_b"}, False),
        ("t.py::TestC::test_a", {"t.py::TestC"}, True),
        ("t.py::test_a", {"t.py"}, True),
        ("u.py::test_a", {"t.py"}, False),
        ("t.py::test_p[1]", {"t.py::test_p"}, True),
        ("t.py::test_p[x::y]", {"t.py::test_p[x::y]"}, True),
        ("t.py::test_p[2]", {"t.py::test_p[1]"}, False),
        ("anything.py::t", {""}, True),  # a rootdir-level collection error reruns everything
    ],
)
def test_plugin_node_id_filter(nodeid: str, only: set[str], expected: bool) -> None:
    assert plugin.selected(nodeid, only) is expected


def test_plugin_truncation() -> None:
    assert plugin.truncate_tail("abc", 5) == "abc"
    cut = plugin.truncate_tail("x" * 100 + "END", 10)
    assert cut.endswith("x" * 7 + "END") and "93 characters cut" in cut
    mid = plugin.truncate_middle("HEAD" + "x" * 1000 + "TAIL", 100)
    assert mid.startswith("HEAD") and mid.endswith("TAIL") and "908 characters cut" in mid


class FakePluginManager:
    def __init__(self) -> None:
        self.registered: list[str] = []

    def register(self, plugin: Any, name: str) -> None:
        self.registered.append(name)


class FakeConfig:
    def __init__(self, worker: bool) -> None:
        self.pluginmanager = FakePluginManager()
        if worker:
            self.workerinput = {"workerid": "gw0"}


def test_xdist_workers_do_not_report_but_do_filter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    connects: list[str] = []
    monkeypatch.setattr(plugin, "_connect", lambda addr, token: connects.append(addr) or object())
    only = tmp_path / "only.json"
    only.write_text('["t.py::a"]')
    monkeypatch.setenv(plugin.ENV_ADDR, "127.0.0.1:9")
    monkeypatch.setenv(plugin.ENV_ONLY, str(only))

    worker = FakeConfig(worker=True)
    plugin.pytest_configure(worker)  # type: ignore[arg-type]
    # A worker filters and tracks what it collected (for the controller), but never connects.
    assert worker.pluginmanager.registered == ["wsdash-only-filter", "wsdash-collection-tracker"] and connects == []

    controller = FakeConfig(worker=False)
    plugin.pytest_configure(controller)  # type: ignore[arg-type]
    assert controller.pluginmanager.registered == ["wsdash-only-filter", "wsdash-collection-tracker", "wsdash-stream-reporter"]
    assert connects == ["127.0.0.1:9"]
