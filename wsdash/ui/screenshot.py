"""Screenshot file names: plain ASCII (the title's "·" and spaces are awkward in a shell), stamped
to the millisecond so two presses never overwrite each other."""

from __future__ import annotations

import time


def screenshot_name(mode: str, stamp: float | None = None) -> str:
    stamp = time.time() if stamp is None else stamp
    label = "".join(c if c.isascii() and c.isalnum() else "-" for c in mode)
    return (f"wsdash-{label}{time.strftime('-%Y%m%d-%H%M%S', time.localtime(stamp))}"
            f"-{int(stamp * 1000) % 1000:03d}.svg")
