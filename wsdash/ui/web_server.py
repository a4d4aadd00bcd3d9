"""The dashboard in a browser: textual-serve (the Textual project's own server, the `web` extra)
runs `wsdash ARGS` per tab behind our own page, which loads nothing from outside the machine."""

from __future__ import annotations

import sys
from pathlib import Path

PAGE_DIR = Path(__file__).with_name("web_page")


def app_command(args: list[str]) -> str:
    """The shell command textual-serve starts per tab: this interpreter, so the same install."""
    argv = [sys.executable, "-m", "wsdash", *(args or ["demo"])]
    if sys.platform == "win32":  # create_subprocess_shell runs cmd.exe there
        import subprocess

        return subprocess.list2cmdline(argv)
    import shlex

    return shlex.join(argv)


def serve(args: list[str], host: str, port: int) -> None:
    """Serve until Ctrl+C. Raises ImportError without the web extra."""
    from textual_serve.server import Server

    Server(app_command(args), host=host, port=port, title="wsdash", templates_path=PAGE_DIR).serve()
