"""The pytest plugin's parts tested in this process: the Windows console handler (against a
recording kernel32), the node-id filter, truncation, what pytest_configure registers in an xdist
worker and controller, and that the runner carries the whole plugin and it stands alone."""

from __future__ import annotations

import ast
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

import wsdash.services.tiers.pytest_stream as plugin
from wsdash.services.tiers import stream
from wsdash.services.tiers.pytest_stream import report_text, selection, windows

# --------------------------------------------------------------------------------------------
# The plugin's console control handler: Ctrl+Break raises SIGINT in the main thread


class FakeConsoleKernel32:
    def __init__(self, ok: bool = True) -> None:
        self.registered: list[tuple[Any, Any]] = []
        self.ok = ok

    def SetConsoleCtrlHandler(self, handler: Any, add: Any) -> int:
        self.registered.append((handler, add))
        return 1 if self.ok else 0


def test_plugin_console_handler_raises_sigint_on_ctrl_break(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes
    import threading
    import time

    monkeypatch.setattr(windows, "_CONSOLE_HANDLER", None)
    k32 = FakeConsoleKernel32()
    # A real C callback (CFUNCTYPE here, WINFUNCTYPE(BOOL, DWORD) on Windows: the same ABI on x64).
    assert windows.install_console_handler(k32, ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint32)) is True
    [(handler, add)] = k32.registered
    assert add is True and windows._CONSOLE_HANDLER is handler  # kept alive: Windows holds a raw pointer
    assert windows.install_console_handler(k32, ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint32)) is True
    assert len(k32.registered) == 1  # once per process

    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        answers: list[int] = []

        def windows_calls(event: int) -> None:  # Windows runs the handler on a thread of its own
            thread = threading.Thread(target=lambda: answers.append(handler(event)))
            thread.start()
            thread.join()

        windows_calls(2)  # CTRL_CLOSE_EVENT: not ours, passed on
        time.sleep(0.3)  # room for a (wrong) SIGINT to arrive
        assert answers == [0] and received == []
        windows_calls(1)  # CTRL_BREAK_EVENT
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert answers == [0, 1]  # TRUE: handled, the C runtime's handler never turns it into an exit
        assert received == [signal.SIGINT]  # ...and the main thread got SIGINT (KeyboardInterrupt by default)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_plugin_console_handler_is_windows_only_and_tolerates_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    monkeypatch.setattr(windows, "_CONSOLE_HANDLER", None)
    if sys.platform != "win32":
        assert windows.install_console_handler() is False  # nothing registered off Windows
    refused = FakeConsoleKernel32(ok=False)
    assert windows.install_console_handler(refused, ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint32)) is False
    assert windows._CONSOLE_HANDLER is None  # pytest_configure then installs the SIGBREAK fallback


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
    assert windows.install_break_handler(fake) is True
    handler = fake.installed[21]
    with pytest.raises(KeyboardInterrupt):
        handler(21, None)
    assert windows.install_break_handler(FakeSignal(fail=True)) is False

    class NoBreak:  # POSIX: there is no SIGBREAK, nothing is installed
        def signal(self, *a: Any) -> None:
            raise AssertionError("must not be called")

    assert windows.install_break_handler(NoBreak()) is False


def test_plugin_and_runner_agree_on_the_protocol() -> None:
    assert (plugin.ENV_ADDR, plugin.ENV_TOKEN, plugin.ENV_ONLY, plugin.ENV_NO_SKIP) == (
        stream.ENV_ADDR, stream.ENV_TOKEN, stream.ENV_ONLY, stream.ENV_NO_SKIP,
    )


def test_the_runner_carries_every_module_of_the_plugin(tmp_path: Path) -> None:
    """stream.write_plugin copies the whole package: a module left behind would be an
    ImportError in the tested project's interpreter, not here."""
    package = Path(plugin.__file__).parent
    assert stream.plugin_files() == {p.name: p.read_bytes() for p in package.glob("*.py")}
    assert {"__init__.py", "reporter.py", "selection.py", "report_text.py", "windows.py"} <= set(stream.plugin_files())
    stream.write_plugin(str(tmp_path))
    copied = tmp_path / stream.PLUGIN_MODULE
    assert sorted(p.name for p in copied.iterdir()) == sorted(stream.plugin_files())


def test_the_copied_plugin_imports_without_wsdash(tmp_path: Path) -> None:
    """The copy, imported by its own name in an interpreter where wsdash cannot be imported:
    what a tested project's interpreter sees."""
    import subprocess

    stream.write_plugin(str(tmp_path))
    code = (
        "import sys; sys.modules['wsdash'] = None; sys.path.insert(0, sys.argv[1]); "
        f"import {stream.PLUGIN_MODULE} as p, {stream.PLUGIN_MODULE}.windows; "
        "print(sorted(m for m, v in sys.modules.items() if m.startswith('wsdash') and v is not None), callable(p.pytest_configure))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True).stdout
    expected = sorted(f"{stream.PLUGIN_MODULE}{s}" for s in ("", ".report_text", ".reporter", ".selection", ".windows"))
    assert out.strip() == f"{expected} True"


def _plugin_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: a module of the plugin itself
                names = [node.module] if node.module else [alias.name for alias in node.names]
                assert all((path.parent / f"{n}.py").is_file() for n in names), (path.name, names)
            else:
                found.add((node.module or "").split(".")[0])
    return found


def test_plugin_is_self_contained() -> None:
    imports: set[str] = set()
    for path in Path(plugin.__file__).parent.glob("*.py"):
        imports |= _plugin_imports(path)
        # pytest would rewrite a -p plugin's asserts: a pass over each module, on every run.
        assert "PYTEST_DONT_REWRITE" in (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""), path.name
    assert "pytest" in imports and "json" in imports
    # The standard library and pytest, nothing else: it runs in the project's interpreter.
    # ctypes only on Windows, for the console control handler.
    assert imports <= {"__future__", "ctypes", "json", "os", "signal", "socket", "sys", "time", "typing", "pytest"}


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
    assert selection.selected(nodeid, only) is expected


def test_plugin_truncation() -> None:
    assert report_text.truncate_tail("abc", 5) == "abc"
    cut = report_text.truncate_tail("x" * 100 + "END", 10)
    assert cut.endswith("x" * 7 + "END") and "93 characters cut" in cut
    mid = report_text.truncate_middle("HEAD" + "x" * 1000 + "TAIL", 100)
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


@pytest.mark.parametrize(("platform", "installs"), [("win32", True), ("linux", False), ("darwin", False)])
def test_ctrl_break_handling_is_installed_on_windows_only(monkeypatch: pytest.MonkeyPatch, platform: str, installs: bool) -> None:
    installed: list[bool] = []
    monkeypatch.setattr(windows, "install", lambda: installed.append(True))
    monkeypatch.setattr(plugin.sys, "platform", platform)
    monkeypatch.delenv(plugin.ENV_ADDR, raising=False)
    monkeypatch.delenv(plugin.ENV_ONLY, raising=False)
    plugin.pytest_configure(FakeConfig(worker=False))  # type: ignore[arg-type]
    assert installed == ([True] if installs else [])
