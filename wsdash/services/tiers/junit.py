"""JUnit XML for CI systems: one <testsuite> per tier, one <testcase> per test node id.

Follows what pytest's own ``--junitxml`` writes (classname from the node id, skipped for skips
and xfails, failure for failures, error for setup/teardown/collection errors), so dashboards that
already read pytest's reports read these. A tier that produced no per-test results (a command,
a crash, a timeout, a blocked tier) gets one synthetic testcase named after it, so a CI system
sees it fail (or skip) instead of seeing an empty suite.
"""

from __future__ import annotations

import os
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Callable

from wsdash.core.private_files import open_private
from wsdash.services.tiers.model import ERROR, FAILED, SKIPPED, ST_BLOCKED, ST_CANCELLED, ST_ERROR, ST_FAILED, ST_TIMEOUT, XFAILED, TestResult, TierResult
from wsdash.services.tiers.skips import limit_text
from wsdash.services.tiers.spec import KIND_COMMAND

# XML 1.0 cannot carry most control characters at all (ANSI colour codes included): show them.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _ILLEGAL_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def classname_and_name(nodeid: str) -> tuple[str, str]:
    """pytest's mangling: "tests/a/test_x.py::TestC::test_f[1]" → ("tests.a.test_x.TestC", "test_f[1]").

    The parameter id stays whole, "::" and all ("test_f[a::b]"), as pytest's own junitxml keeps it.
    """
    address, bracket, params = nodeid.partition("[")
    parts = address.split("::")
    parts[-1] += bracket + params
    module = re.sub(r"\.py$", "", parts[0]).replace("/", ".").replace("\\", ".")
    if len(parts) == 1:  # a collector (collection error): pytest writes classname="" and the module
        return "", module
    return ".".join([module, *parts[1:-1]]), parts[-1]


def _tier_counts(cases: list[ET.Element]) -> dict[str, int]:
    counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        tags = {child.tag for child in case}
        counts["failures"] += "failure" in tags
        counts["errors"] += "error" in tags
        counts["skipped"] += "skipped" in tags and not tags & {"failure", "error"}
    return counts


def _case_for(nodeid: str, results: list[TestResult], scrub: Callable[[str], str]) -> ET.Element:
    classname, name = classname_and_name(nodeid)
    # Ids are scrubbed like everything else: a parametrized id may carry a token.
    case = ET.Element("testcase", classname=xml_text(scrub(classname)), name=xml_text(scrub(name)))
    case.set("file", xml_text(scrub(nodeid.split("::")[0])))
    case.set("time", f"{results[0].duration_s:.3f}")
    outputs: list[str] = []
    for r in results:
        message = xml_text(scrub(r.message))
        if r.outcome == FAILED:
            el = ET.SubElement(case, "failure", message=message)
            el.text = xml_text(scrub(r.longrepr))
        elif r.outcome == ERROR:
            el = ET.SubElement(case, "error", message=f"{'collection' if r.phase == 'collect' else r.phase} error: {message}")
            el.text = xml_text(scrub(r.longrepr))
        elif r.outcome == SKIPPED and r.no_skip:  # it must not skip: a failure, as wsdash counts it
            ET.SubElement(case, "failure", type="wsdash.no_skip", message=f"no_skip test skipped: {message}")
        elif r.outcome == SKIPPED:
            ET.SubElement(case, "skipped", type="pytest.skip", message=message)
        elif r.outcome == XFAILED:
            ET.SubElement(case, "skipped", type="pytest.xfail", message=message)
        if r.output:
            outputs.append(r.output)
    if outputs:
        ET.SubElement(case, "system-out").text = xml_text(scrub("\n".join(outputs)))
    return case


def _extra_cases(result: TierResult, scrub: Callable[[str], str], seen: dict[str, ET.Element]) -> list[ET.Element]:
    """Cases no report carries: no_skip tests the selection deselected, and the tests that were
    running when pytest crashed or was stopped (named, so a CI page says which one)."""
    cases = []
    stopped = f"still running when the tier {'crashed' if result.crashed else 'stopped'}: {result.message or result.status}"
    for nodeid, kind, message in [
        *((n, "failure", f"no_skip test {how}") for n, how in (result.skips.no_skip if result.skips else []) if n not in seen),
        *((n, "error", stopped) for n in result.running),
    ]:
        if nodeid in seen:  # it has reports already (a failed call, then the crash): say it there
            ET.SubElement(seen[nodeid], kind, type="wsdash.running", message=xml_text(scrub(message)))
            continue
        classname, name = classname_and_name(nodeid)
        case = ET.Element("testcase", classname=xml_text(scrub(classname)), name=xml_text(scrub(name)))
        case.set("file", xml_text(scrub(nodeid.split("::")[0])))
        case.set("time", "0.000")
        ET.SubElement(case, kind, type=f"wsdash.{'no_skip' if kind == 'failure' else 'running'}", message=xml_text(scrub(message)))
        cases.append(case)
    return cases


def _tier_case(result: TierResult, scrub: Callable[[str], str]) -> ET.Element | None:
    """The synthetic testcase that carries a tier-level outcome no test carries."""
    message = xml_text(scrub(result.message or result.status))
    case = ET.Element("testcase", classname="wsdash.services.tiers", name=xml_text(result.name))
    case.set("time", f"{result.duration_s:.3f}")
    violations = result.skips.violations if result.skips is not None else []
    if result.status == ST_BLOCKED or (result.status == ST_CANCELLED and not result.started):
        ET.SubElement(case, "skipped", message=message)
    elif result.status == ST_FAILED and violations:  # all tests fine, the tier not: too little ran
        ET.SubElement(case, "failure", type="wsdash.skips", message=xml_text(scrub("; ".join(violations))))
    elif result.status in (ST_ERROR, ST_TIMEOUT, ST_CANCELLED) and (result.crashed or result.status != ST_ERROR or not result.tests):
        ET.SubElement(case, "error", message=message).text = xml_text(scrub("\n".join(result.last_output[-50:])))
    elif result.kind == KIND_COMMAND:
        if result.status == ST_FAILED:
            ET.SubElement(case, "failure", message=message).text = xml_text(scrub("\n".join(result.last_output[-50:])))
        ET.SubElement(case, "system-out").text = xml_text(scrub("\n".join(result.last_output[-200:])))
    else:
        return None
    return case


def _properties(result: TierResult) -> list[tuple[str, str]]:
    """The tier's verdict, and what ran next to the pass rate (a green rate over 1 of 40 is not green)."""
    props = [
        ("title", result.title),
        ("status", result.status),
        ("target", f"{result.target:g}"),
        ("pass_rate", "n/a" if result.pass_rate is None else f"{result.pass_rate:.4f}"),
        # "true" only for a tier that passed (model.verdict): never for a timeout or a crash.
        ("target_met", "n/a" if result.target_met is None else str(result.target_met).lower()),
        ("exit_code", "" if result.exit_code is None else str(result.exit_code)),
    ]
    if result.message:
        props.append(("message", result.message))
    sk = result.skips
    if sk is not None:
        props += [
            ("ran", str(sk.ran)), ("skipped", str(sk.skipped)), ("total", str(sk.total)), ("ran_text", sk.ran_text()),
            ("deselected", str(sk.deselected)),
            ("max_skipped", "none" if sk.max_skipped is None else limit_text(sk.max_skipped)), ("min_ran", str(sk.min_ran)),
            ("no_skip_failures", str(sk.no_skip_count)),
        ]
        if sk.groups:
            props.append(("skip_reasons", "; ".join(f"{g.count} × {g.reason}" for g in sk.groups)))
        if sk.files_text():
            props.append(("files_skipped_at_collection", sk.files_text() or ""))
        props += [(f"advice_{i}", a["text"]) for i, a in enumerate(sk.advice, 1)]
    if result.on_target:
        props.append(("on_target", result.on_target))
    return props


def junit_tree(results: Sequence[TierResult], *, scrub: Callable[[str], str] | None = None, timestamp: float | None = None) -> ET.ElementTree:
    scrub = scrub or (lambda s: s)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(timestamp if timestamp is not None else time.time()))
    root = ET.Element("testsuites", name="wsdash tiers")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    host = socket.gethostname()
    for result in results:
        by_node: dict[str, list[TestResult]] = {}
        for t in result.tests:
            by_node.setdefault(t.nodeid, []).append(t)
        by_case = {nodeid: _case_for(nodeid, rs, scrub) for nodeid, rs in by_node.items()}
        cases = [*by_case.values(), *_extra_cases(result, scrub, by_case)]
        extra = _tier_case(result, scrub)
        if extra is not None:
            cases.append(extra)
        counts = _tier_counts(cases)
        suite = ET.SubElement(root, "testsuite", name=xml_text(result.name))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{result.duration_s:.3f}")
        suite.set("timestamp", stamp)
        suite.set("hostname", host)
        total_time += result.duration_s
        props = ET.SubElement(suite, "properties")
        for key, value in _properties(result):
            ET.SubElement(props, "property", name=key, value=xml_text(scrub(value)))
        suite.extend(cases)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path: str | os.PathLike[str], results: Sequence[TierResult], *, scrub: Callable[[str], str] | None = None) -> None:
    """Write atomically: a CI step reading the file never sees half of it."""
    tree = junit_tree(results, scrub=scrub)
    tmp = f"{os.fspath(path)}.tmp{os.getpid()}"
    try:
        with open_private(tmp, "wb") as f:  # test output can quote what a user would not share: 0600
            tree.write(f, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
