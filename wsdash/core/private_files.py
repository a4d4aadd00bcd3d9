"""Files only their owner may read: recordings, JUnit reports, screenshots, secrets.

Each can hold what a user would not share by accident (frames, test output, the screen, a
signing secret), so on POSIX they are created 0600 — and made 0600 when they already existed
with a wider mode, since O_CREAT's mode only applies to a new file. Windows keeps files in the
user's profile private by its ACLs; there the mode is only the read-only bit, so nothing to do.
"""

from __future__ import annotations

import os
from typing import IO, Any

PRIVATE_MODE = 0o600


def open_private(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """`open(path, mode, **kwargs)` for writing ("w", "a", "x", with "b" for bytes), created
    user-only. Raises OSError as open() does."""
    if not any(m in mode for m in "wax") or "+" in mode:
        raise ValueError(f"open_private writes only: mode {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)  # O_BINARY: no CRT \n→\r\n on Windows
    flags |= os.O_APPEND if "a" in mode else os.O_EXCL if "x" in mode else os.O_TRUNC
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        if os.name == "posix":
            os.fchmod(fd, PRIVATE_MODE)
        return os.fdopen(fd, mode.replace("x", "w"), **kwargs)
    except BaseException:
        os.close(fd)
        raise


def make_private(path: str | os.PathLike[str]) -> None:
    """Narrow a file someone else wrote (a library's screenshot) to user-only."""
    if os.name == "posix":
        os.chmod(path, PRIVATE_MODE)
