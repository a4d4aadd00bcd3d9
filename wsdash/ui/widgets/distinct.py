"""Cutting a column of similar texts (pytest node ids, skip reasons) to a width so that what tells
them apart stays visible.

`tests/e2e/test_golden_path.py::TestGoldenPath::test_connection_established_…_user_id` and `…_run_id`
cut at the end are the same row twice. Here the prefix every text shares (up to a `::` or `/`) is
said once elsewhere, and a text still too long loses its middle — never the part where it first
differs from its nearest sibling.
"""

from __future__ import annotations

import os
from typing import Sequence

ELLIPSIS = "…"


def shared_prefix(texts: Sequence[str], seps: tuple[str, ...] = ("::", "/")) -> str:
    """The longest prefix every text shares, ending at a separator ("" for fewer than two texts,
    or when a text would be left empty)."""
    if len(texts) < 2:
        return ""
    common = os.path.commonprefix(list(texts))
    end = max((common.rfind(sep) + len(sep) for sep in seps if sep in common), default=0)
    prefix = common[:end]
    return prefix if all(len(t) > len(prefix) for t in texts) else ""


def _differs_at(texts: Sequence[str]) -> dict[str, int]:
    """Where each text first differs from the text most like it: in sorted order that is a
    neighbour, so n log n for a tier of thousands of tests."""
    ordered = sorted(set(texts))
    lcp = [len(os.path.commonprefix([a, b])) for a, b in zip(ordered, ordered[1:])]
    return {t: max(lcp[i - 1] if i > 0 else 0, lcp[i] if i < len(lcp) else 0) for i, t in enumerate(ordered)}


def cut(text: str, width: int, differs_at: int = 0, *, start_first: bool = False) -> str:
    """`text` in `width` columns: whole when it fits; else its start, an ellipsis and its end —
    with the window moved so that position `differs_at` stays in sight. `start_first` (prose:
    a reason reads from its start) keeps the start whole when the difference is in it."""
    if width <= 0 or len(text) <= width:
        return text
    if width <= 2:
        return text[:width]
    if start_first and differs_at < width - 1:
        return text[:width - 1] + ELLIPSIS
    head = min(width // 4, differs_at)  # a little of the start says where it is
    room = width - head - 1
    start = len(text) - room
    if head <= differs_at < start:  # the end alone would hide the difference: show from just before it
        start = max(head, differs_at - 4)
        return text[:head] + ELLIPSIS + text[start:start + room - 1] + ELLIPSIS
    return text[:head] + ELLIPSIS + text[start:]


def fit_distinct(texts: Sequence[str], width: int, *, start_first: bool = False) -> list[str]:
    """Each text cut to `width` so that texts that differ still look different (node ids keep
    their end, the test's name; `start_first` for prose)."""
    at = _differs_at(texts)
    return [cut(t, width, at[t], start_first=start_first) for t in texts]
