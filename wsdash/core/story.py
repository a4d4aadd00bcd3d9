"""A judged run told in plain words, for people who don't read JSON: the presentation view, the
report, and the event stream's nesting all read it.

Headless: rows in (the judged run's `(type, offset, agent, tool, raw_type, kind)` tuples), steps
and sentences out. Nested agents (a supervisor that hands work to a triage agent) become steps of
their parent, one level deeper, not a flat list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from wsdash.core.protocol import AGENT_COMPLETED, AGENT_STARTED, AGENT_THINKING, GOLDEN_EVENTS, TOOL_COMPLETED, TOOL_EXECUTING

Row = tuple  # (type, offset_s, agent_name, tool_name, raw_type, kind)

# The five checkpoints as a stakeholder reads them, before and after they happen.
CHECKPOINT_WORDS = {
    AGENT_STARTED: ("The agent starts on your request", "The agent started on your request"),
    AGENT_THINKING: ("It thinks about the question", "It is thinking it over"),
    TOOL_EXECUTING: ("It uses a tool", "It is using a tool"),
    TOOL_COMPLETED: ("The tool answers", "The tool answered"),
    AGENT_COMPLETED: ("The answer is ready", "The answer is ready"),
}

# What a violation means, in one sentence a room can read (docs/protocol.md §5).
_BROKE = {
    "missing": "“{event}” never happened",
    "out_of_order": "the steps arrived out of order ({detail})",
    "unpaired_tool_completed": "a tool answered a call that was never made",
    "unclosed_tool": "a tool was called and never answered",
    "no_progress": "the agent answered without thinking or using a tool",
    "first_event_late": "the agent took too long to start ({detail})",
    "run_too_long": "the whole answer took too long ({detail})",
    "gap_too_long": "the agent went quiet for too long between steps ({detail})",
    "error_frame": "the server reported an error ({detail})",
    "timeout": "the agent never answered",
    "connect_slow": "connecting took too long ({detail})",
}


def human(name: str | None) -> str:
    """`cost_analyzer` → `cost analyzer`: names as people say them."""
    return (name or "").replace("_", " ").replace("-", " ").strip()


def seconds(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.2f} s"


@dataclass
class Step:
    depth: int  # 0: the outermost agent; 1: an agent it handed work to; …
    type: str
    words: str
    offset: float | None
    count: int = 1  # consecutive thinking frames fold into one step


@dataclass
class Story:
    steps: list[Step] = field(default_factory=list)
    checkpoints: dict[str, tuple[str, float | None]] = field(default_factory=dict)  # event → (words, offset)


def depths(types: Iterable[str]) -> list[int]:
    """The nesting depth of each event: a started agent opens a level, its completion closes it."""
    out: list[int] = []
    open_agents = 0
    for t in types:
        if t == AGENT_STARTED:
            out.append(open_agents)
            open_agents += 1
        elif t == AGENT_COMPLETED:
            open_agents = max(0, open_agents - 1)
            out.append(open_agents)
        else:
            out.append(max(0, open_agents - 1))
    return out


def tell(rows: Sequence[Row]) -> Story:
    story = Story()
    golden = [r for r in rows if r[0] in GOLDEN_EVENTS]
    agents: list[str] = []  # the agent names of the open levels
    tool_started: dict[str, float | None] = {}
    for row, depth in zip(golden, depths(r[0] for r in golden)):
        type_, offset, agent, tool = row[0], row[1], row[2], row[3]
        who = human(agent)
        if type_ == AGENT_STARTED:
            if agents:  # the parent hands over: a step of the parent's, the child's steps below it
                words = f"{human(agents[-1]) or 'the agent'} hands the task to {who or 'another agent'}"
                depth -= 1
            else:
                words = CHECKPOINT_WORDS[AGENT_STARTED][1] + (f" ({who})" if who else "")
            agents.append(agent or "")
        elif type_ == AGENT_THINKING:
            last = story.steps[-1] if story.steps else None
            if last is not None and last.type == AGENT_THINKING and last.depth == depth:
                last.count += 1
                continue
            words = f"{who.capitalize() if who and depth else 'It'} is thinking it over"
        elif type_ == TOOL_EXECUTING:
            tool_started[tool or ""] = offset
            words = f"It is using a tool: {human(tool) or 'a tool'}"
        elif type_ == TOOL_COMPLETED:
            began = tool_started.pop(tool or "", None)
            took = f" after {seconds(offset - began)}" if offset is not None and began is not None else ""
            words = f"The tool answered: {human(tool) or 'a tool'}{took}"
        else:  # agent_completed
            name = agents.pop() if agents else ""
            words = (f"{human(name) or 'The sub-agent'} is done" if agents
                     else CHECKPOINT_WORDS[AGENT_COMPLETED][1])
        story.steps.append(Step(depth, type_, words[:1].upper() + words[1:], offset))
        if type_ not in story.checkpoints and (type_ != AGENT_COMPLETED or depth == 0):
            # The first of each; the answer is the outermost agent's completion, not a sub-agent's.
            story.checkpoints[type_] = (words, offset)
    return story


def checkpoint_line(event: str, story: Story, *, missed: bool = False) -> str:
    """One of the five, as the presentation view and the report show it."""
    got = story.checkpoints.get(event)
    if got is None:
        before = CHECKPOINT_WORDS[event][0]
        return f"{before} — never happened" if missed else f"{before} …"
    words, offset = got
    if offset is None:
        return words
    return f"{words} · {seconds(offset)}" if event == AGENT_COMPLETED else f"{words} · +{seconds(offset)}"


def headline(result: Any) -> tuple[bool, str]:
    """(ok, the verdict in one sentence) for a RunResult."""
    v = result.verdict
    if result.ok:
        return True, f"Chat works end to end — all five steps in {seconds(v.total_s)}"
    if result.error is not None and v.first_event_s is None:
        return False, f"Chat is down — {_sentence_for_error(result.error)}"
    first = v.violations[0] if v.violations else None
    if first is None:
        return False, f"Chat is broken — {result.error.message if result.error else 'the run did not pass'}"
    template = _BROKE.get(first.code, "{detail}")
    step = CHECKPOINT_WORDS[first.event][0] if first.event in CHECKPOINT_WORDS else human(first.event) or "a step"
    said = template.format(event=step, detail=first.detail)
    more = len(v.violations) - 1
    return False, f"Chat is broken — {said}" + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")


def _sentence_for_error(error: Any) -> str:
    kind = getattr(error, "kind", "")
    return {
        "refused": "nothing is listening at the chat service's address",
        "dns": "the chat service's address does not resolve",
        "tls": "the secure connection to the chat service failed",
        "auth": "the chat service refused our sign-in",
        "timeout": "the chat service did not answer in time",
        "not_websocket": "the address answers, but it is not the chat socket",
        "closed": "the chat service hung up",
    }.get(kind, getattr(error, "message", "the run could not happen"))
