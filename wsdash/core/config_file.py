"""Reading a configuration file as Windows tools write it: UTF-8 with or without a BOM loads;
UTF-16 (PowerShell 5.1's `>`), ANSI and other encodings are errors naming the file and the
encoding; a Windows path in a double-quoted TOML string (an escape, loud or silent) gets the hint
to use single quotes. Every way a file can be unreadable is a ConfigError naming it.
`encoding_problem` is also how a recording that is not UTF-8 is named (core/recording_read.py)."""

from __future__ import annotations

import codecs
import re
import tomllib
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """Wrong configuration: the message says which file, which key and what is expected."""


_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32 LE"), (codecs.BOM_UTF32_BE, "UTF-32 BE"),
         (codecs.BOM_UTF16_LE, "UTF-16 LE"), (codecs.BOM_UTF16_BE, "UTF-16 BE"))
_RESAVE = ("save it as UTF-8: in Notepad, File → Save as → Encoding: UTF-8; in PowerShell, "
           "Get-Content {name} | Set-Content -Encoding utf8 {name}.new, then rename it")
_BACKSLASH_HINT = ("a Windows path in a double-quoted string? In \"…\" a backslash starts an escape (\\U, \\t, \\n): "
                   "write paths in single quotes, e.g. python = 'C:\\work\\.venv\\Scripts\\python.exe', "
                   "or with forward slashes")
# What a backslash escape silently made of a Windows path ("C:\temp" → TAB "emp", "C:\bin" → BS "in").
_ESCAPED_CONTROL = {"\t": "\\t (a TAB)", "\b": "\\b (a backspace)", "\f": "\\f (a form feed)",
                    "\n": "\\n (a line break)", "\r": "\\r (a carriage return)"}


def encoding_problem(file: Path | str, raw: bytes, *, looks_utf16: bool) -> str | None:
    """Why a file that starts with `raw` is not UTF-8 text, naming its encoding and the fix: a
    UTF-16 or UTF-32 byte order mark, or BOM-less UTF-16 when the caller says the bytes look like it
    (`looks_utf16`: how depends on what the file should hold). None when neither. The one wording
    for every file wsdash reads as text (config files, recordings)."""
    resave = _RESAVE.format(name=Path(file).name)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return (f"the file is {name} text (with a byte order mark), as Windows PowerShell 5.1's "
                    f"`>` and Out-File write it; wsdash reads UTF-8: {resave}")
    if looks_utf16:
        order = "LE" if raw[1:2] == b"\x00" else "BE"
        return (f"the file looks like UTF-16 {order} text without a byte order mark (NUL bytes "
                f"between the characters); wsdash reads UTF-8: {resave}")
    return None


def decode_text(file: Path, raw: bytes) -> str:
    """The text of a UTF-8 file, with or without a BOM (Notepad before Windows 10 1903, PowerShell
    5.1's `-Encoding utf8`). Anything else is a ConfigError naming the file and the encoding:
    UTF-16 is what Windows PowerShell 5.1's `>` and Out-File write."""
    problem = encoding_problem(file, raw, looks_utf16=b"\x00" in raw[:4096])
    if problem is not None:
        raise ConfigError(f"{file}: {problem}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}; an ANSI code page "
                          f"such as Windows-1252?): {_RESAVE.format(name=file.name)}") from None


def read_toml(file: Path) -> dict[str, Any]:
    """A configuration file's table; every way it can be unreadable is a ConfigError naming it."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(decode_text(file, raw))
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        hint = f" — {_BACKSLASH_HINT}" if ("Invalid hex value" in text or "Unescaped '\\'" in text) else ""
        raise ConfigError(f"{file}: not valid TOML: {text}{hint}") from None
    _check_escapes(file, data, "")
    return data


def _check_escapes(file: Path, value: Any, key: str) -> None:
    """Catch the silent case: "C:\temp" is valid TOML, and a TAB where the backslash was."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_escapes(file, v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_escapes(file, v, f"{key}[{i}]")
    elif isinstance(value, str):
        for char, escape in _ESCAPED_CONTROL.items():
            # TAB/BS/FF never belong in a value; a line break does in a multi-line string, but not
            # right after a drive letter ("C:\new").
            if char in value and (char in "\t\b\f" or re.search(rf"(^|[\\/])[A-Za-z]:{char}", value)):
                raise ConfigError(f"{file}: {key} = {value!r} contains {escape}: did a backslash in a double-quoted "
                                  f"Windows path become an escape? {_BACKSLASH_HINT}")


