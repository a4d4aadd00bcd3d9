"""Sentences written for both a terminal and the CLI, drawn on the dashboard: `code` spans (commands
to type) become bold instead of showing their backticks."""

from __future__ import annotations

from rich.text import Text


def prose(sentence: str, style: str = "") -> Text:
    parts = sentence.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick stays as it is
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    text = Text(style=style)
    for i, part in enumerate(parts):
        text.append(part, "bold" if i % 2 else "")
    return text
