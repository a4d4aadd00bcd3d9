"""`wsdash report` reading saved files a user hands it: bad input is one line naming the flag, the
file, the path inside it and what was expected (exit 2, never a traceback), and a value the report
would judge as measured — a negative duration, a pass rate of 1e308 — is refused, not judged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TIER = {"name": "unit", "title": "Unit", "status": "passed", "target": 1.0, "pass_rate": 1.0, "ran": 2, "skipped": 0,
        "counts": {"passed": 2, "skipped": 0}, "duration_s": 1.5, "skips": {"groups": [{"count": 1, "reason": "no db"}]}}
TARGET = {"name": "local", "status": "up", "required": True, "detail": "ws 2 ms", "hint": None, "error": None}


def tiers_doc(**changes: Any) -> str:
    return json.dumps({"ok": True, "tiers": [{**TIER, **changes}]})


def check_doc(**changes: Any) -> str:
    return json.dumps({"ok": True, "targets": [{**TARGET, **changes}]})


def report_from(cli, tmp_path: Path, flag: str, content: str | bytes) -> Any:
    saved = tmp_path / "saved.json"
    saved.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    only = ("--no-health",) if flag == "--tiers-json" else ("--no-tiers",)
    return cli("report", flag, str(saved), *only, "--no-golden-path", cwd=tmp_path)


@pytest.mark.parametrize(("flag", "content", "says"), [
    # tracebacks before
    ("--tiers-json", tiers_doc(target=None), "tiers[0].target is null; expected a number from 0 to 1"),
    ("--tiers-json", "[" * 100000 + "]" * 100000, "nests deeper than 64 levels"),
    # json reads 900 levels; printing the report (scrub_obj, json.dumps) would not
    ("--tiers-json", tiers_doc(tests=1).replace('"tests": 1', '"tests": ' + "[" * 900 + "]" * 900), "nests deeper than 64 levels"),
    ("--check-json", json.dumps({"ok": True, "targets": [None, 5, "x"]}),
     "targets[0] is null; expected a checked service (an object with \"name\" and \"status\")"),
    ("--check-json", check_doc(error="boom"), 'targets[0].error is "boom"; expected an object with "message"'),
    ("--tiers-json", tiers_doc(counts={"passed": "two"}), 'tiers[0].counts.passed is "two"; expected a whole number'),
    ("--tiers-json", tiers_doc(skips={"groups": [None]}), "tiers[0].skips.groups[0] is null; expected a skip group"),
    # Python-worded, naming neither file nor key
    ("--tiers-json", tiers_doc(pass_rate="high"), 'tiers[0].pass_rate is "high"; expected a number from 0 to 1, or null'),
    ("--tiers-json", tiers_doc(duration_s="slow"), 'tiers[0].duration_s is "slow"; expected a number of seconds ≥ 0'),
    ("--tiers-json", json.dumps({"ok": True, "tiers": [{}]}), "tiers[0].name is missing; expected the tier's name"),
    ("--tiers-json", json.dumps({"ok": True, "tiers": [TIER, None]}), "tiers[1] is null; expected a tier"),
    ("--tiers-json", b'{"ok": true, "tiers": [{"name": "\xff\xfe", "status": "passed"}]}', "is not UTF-8 text (byte 0xff at offset 33)"),
    ("--check-json", '{"ok": true, "targets": [{"name": "x", "status": "up", "latency_ms": ' + "9" * 5000 + "}]}",
     "holds a number thousands of digits long"),
    # accepted before, and judged as if measured
    ("--tiers-json", tiers_doc(duration_s=-5), "tiers[0].duration_s is -5; expected a number of seconds ≥ 0"),
    ("--tiers-json", tiers_doc(pass_rate=1e308), "tiers[0].pass_rate is 1e+308; expected a number from 0 to 1"),
    ("--tiers-json", tiers_doc(duration_s=float("inf")), "tiers[0].duration_s is inf"),
    ("--tiers-json", tiers_doc(status="weird"), 'tiers[0].status is "weird"; expected one of passed, failed'),
    ("--tiers-json", json.dumps({"ok": True, "tiers": [TIER, TIER]}), 'tiers[0] and tiers[1] are both named "unit"'),
    ("--check-json", check_doc(required="yes"), 'targets[0].required is "yes"; expected true or false'),
    ("--check-json", check_doc(status="sideways"), 'targets[0].status is "sideways"; expected one of up, down'),
    # the wrong file for the flag, or not a document at all
    ("--check-json", tiers_doc(), 'has no "targets" list (it has "tiers": is it for --tiers-json?)'),
    ("--tiers-json", "null", "holds null, not an object"),
    ("--tiers-json", " \n", "is empty"),
], ids=lambda v: str(v)[:40])  # short ids: pytest hands the id to the subprocess in PYTEST_CURRENT_TEST
def test_a_bad_saved_file_is_one_line_naming_the_file_and_the_key(flag: str, content: str | bytes, says: str,
                                                                    cli, tmp_path: Path) -> None:
    out = report_from(cli, tmp_path, flag, content)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith(f"wsdash: error: {flag} {tmp_path / 'saved.json'}") and says in out.stderr, out.stderr
    assert out.stdout == ""


def test_a_tiers_file_windows_powershell_wrote_is_read(cli, tmp_path: Path) -> None:
    """`wsdash tiers run --json > tiers.json` in Windows PowerShell 5.1 writes UTF-16 with a BOM;
    JSON allows it, and it was "not JSON ('utf-8' codec can't decode byte 0xff …)"."""
    out = report_from(cli, tmp_path, "--tiers-json", tiers_doc().encode("utf-16"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "✔ Unit" in out.stdout


LOOPBACK_ONLY = """
[targets.local]
ws_url = "ws://127.0.0.1:9/ws"
health_url = "http://127.0.0.1:9/health"
[targets.staging]
ws_url = "ws://127.0.0.1:9/ws"
health_url = "http://127.0.0.1:9/health"
auth_health_url = "http://127.0.0.1:9/health"
e2e_auth_url = "http://127.0.0.1:9"
[docker]
required = false
[[tiers]]
name = "unit"
command = ["python", "-c", "pass"]
"""


@pytest.mark.parametrize(("args", "says"), [
    (("--recording", "run.jsonl", "--no-golden-path"), "--recording and --no-golden-path contradict"),
    (("--tiers-json", "t.json", "--no-tiers"), "--tiers-json and --no-tiers contradict"),
    (("--check-json", "c.json", "--no-health"), "--check-json and --no-health contradict"),
    # an empty name read as "not given": the part ran live instead (the staging host, for --check-json)
    (("--check-json", "", "--no-tiers", "--no-golden-path"), "--check-json needs a file name"),
    (("--tiers-json", "", "--no-health", "--no-golden-path"), "--tiers-json needs a file name"),
    (("--recording", "", "--no-health", "--no-tiers"), "--recording needs a file name"),
])
def test_a_saved_file_the_other_flags_would_ignore_is_a_usage_error(args: tuple[str, ...], says: str,
                                                                    cli, tmp_path: Path) -> None:
    """`--recording good.jsonl --no-golden-path` silently left the recording out, and exited 0."""
    (tmp_path / "t.json").write_text(tiers_doc(), encoding="utf-8")
    (tmp_path / "c.json").write_text(check_doc(), encoding="utf-8")
    (tmp_path / "wsdash.toml").write_text(LOOPBACK_ONLY, encoding="utf-8")  # should a part run live, never off the machine
    out = cli("report", *args, cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert says in out.stderr and out.stderr.count("\n") == 1 and out.stdout == "", out.stderr


def test_a_folder_is_named_as_one_where_opening_it_says_permission_denied(tmp_path, monkeypatch) -> None:
    """Windows' open() of a folder raises PermissionError (not IsADirectoryError): the report blamed
    permissions (review)."""
    import builtins

    import pytest

    from wsdash.commands.report_saved import ReportError, _File, load_json

    real_open = builtins.open

    def windows_open(path, *args, **kwargs):
        if str(path) == str(tmp_path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", windows_open)
    with pytest.raises(ReportError, match="is a folder"):
        load_json(_File("--tiers-json", str(tmp_path), "wsdash tiers run --json"))
