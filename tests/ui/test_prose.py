"""Hints shared with the CLI read well on the dashboard: commands bold, no stray backticks."""

from __future__ import annotations

from wsdash.ui.widgets.prose import prose


def test_commands_are_bold_and_unquoted() -> None:
    text = prose("start it (`sudo systemctl start docker`), or run `wsdash demo`")
    assert text.plain == "start it (sudo systemctl start docker), or run wsdash demo"
    bold = [text.plain[s.start:s.end] for s in text.spans if "bold" in str(s.style)]
    assert bold == ["sudo systemctl start docker", "wsdash demo"]


def test_an_unpaired_backtick_is_left_as_written() -> None:
    assert prose("a `b` c ` d").plain == "a b c ` d"
