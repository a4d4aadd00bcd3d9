"""wsdash's counts equal pytest's own summary line, on real suites, with and without xdist."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tiers.tiers_support import XDIST_ARGS, parse_summary, plain_pytest, spec_for, wsdash_counts, write_suite
from wsdash.services.tiers.runner import run_tier

MIXED = {
    "test_mixed.py": '''
        import sys
        import pytest

        @pytest.mark.parametrize("x", [1, 2, "é", "日本", "a b", "x::y"])
        def test_param(x):
            assert x != 2

        @pytest.mark.parametrize("n", range(3), ids=["zéro", "un", "🙂"])
        def test_unicode_ids(n):
            assert n != 1

        def test_skip():
            pytest.skip("not today")

        @pytest.mark.skipif(True, reason="never")
        def test_skipif():
            pass

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert 0

        @pytest.mark.xfail(strict=True, reason="strict")
        def test_xpass_strict():
            pass

        @pytest.mark.xfail(reason="lenient")
        def test_xpass():
            pass

        def test_imperative_xfail():
            pytest.xfail("imperative")

        @pytest.fixture
        def broken_setup():
            raise RuntimeError("setup boom")

        @pytest.fixture
        def broken_teardown():
            yield
            raise RuntimeError("teardown boom")

        def test_setup_error(broken_setup):
            pass

        def test_pass_then_teardown_error(broken_teardown):
            pass

        def test_fail_then_teardown_error(broken_teardown):
            assert False

        def test_skip_then_teardown_error(broken_teardown):
            pytest.skip("skipped, then teardown fails")

        class TestGroup:
            def test_a(self):
                pass

            def test_b(self):
                assert 1 == 2

        def test_ansi_and_unicode_output():
            print("\\x1b[31mred\\x1b[0m ünïcödé 🙂 \\x00 nul")
            sys.stderr.write("\\x1b[2J clear screen\\n")
            assert False, "\\x1b[1mbold\\x1b[0m failure ✗"

        def test_megabytes_captured_pass():
            print("x" * 3_000_000)

        def test_megabytes_captured_fail():
            print("y\\n" * 1_000_000)
            assert False

        @pytest.mark.websocket
        def test_marked():
            pass
    ''',
}

COLLECTION_ERRORS = {
    "test_ok.py": "def test_a():\n    pass\n",
    "test_import_error.py": "import does_not_exist_anywhere\n\ndef test_b():\n    pass\n",
    "test_syntax_error.py": "def test_(:\n",
}

MODULE_SKIP = {
    "test_modskip.py": "import pytest\npytest.skip('whole module', allow_module_level=True)\n\ndef test_never():\n    pass\n",
    "test_ok.py": "def test_a():\n    pass\n\ndef test_b():\n    assert 0\n",
}

# Uncaptured (-s) megabytes on stdout, one line of a megabyte without a newline among them.
PRINTS = {
    "test_prints.py": '''
        import sys

        def test_lines():
            for i in range(20_000):
                print(f"line {i:05d} " + "z" * 90)

        def test_one_huge_line():
            sys.stdout.write("h" * 1_000_000)
            sys.stdout.flush()

        def test_fails_loudly():
            print("\\x1b[32mgreen\\x1b[0m")
            assert 0
    ''',
}

NOTHING = {"test_nothing.py": "VALUE = 1\n"}

SUITES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "mixed": (MIXED, ()),
    "mixed-marker-deselects": (MIXED, ("-m", "websocket")),
    "mixed-keyword-deselects": (MIXED, ("-k", "param or group")),
    "collection-errors": (COLLECTION_ERRORS, ()),
    "collection-errors-continue": (COLLECTION_ERRORS, ("--continue-on-collection-errors",)),
    "module-level-skip": (MODULE_SKIP, ()),
    "uncaptured-megabytes": (PRINTS, ("-s",)),
    "nothing-collected": (NOTHING, ()),
    "mixed-xdist": (MIXED, tuple(XDIST_ARGS)),
    "collection-errors-xdist": (COLLECTION_ERRORS, tuple(XDIST_ARGS)),
}


@pytest.mark.parametrize("name", list(SUITES))
async def test_counts_equal_pytest_summary(tmp_path: Path, name: str) -> None:
    files, args = SUITES[name]
    root = write_suite(tmp_path / "suite", files)
    expected, code = plain_pytest(root, *args)
    result = await run_tier(spec_for(root, *args))
    assert wsdash_counts(result) == expected
    assert result.exit_code == code
    assert result.session_ended and not result.crashed
    # One TestResult per counted report: nothing doubled (xdist), nothing lost.
    assert len(result.tests) == sum(result.counts.values())
    call_phase = [(t.nodeid, t.phase) for t in result.tests]
    assert len(call_phase) == len(set(call_phase))


async def test_mixed_suite_details(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", MIXED)
    result = await run_tier(spec_for(root))
    by_id = {}
    for t in result.tests:
        by_id.setdefault(t.nodeid, []).append(t)
    # A test that passes and errors in teardown is both, as pytest counts it.
    assert [(t.outcome, t.phase) for t in by_id["test_mixed.py::test_pass_then_teardown_error"]] == [
        ("passed", "call"), ("error", "teardown"),
    ]
    assert [t.outcome for t in by_id["test_mixed.py::test_xpass_strict"]] == ["failed"]
    assert by_id["test_mixed.py::test_setup_error"][0].message == "RuntimeError: setup boom"
    assert by_id["test_mixed.py::test_skip"][0].message.endswith("not today")
    assert by_id["test_mixed.py::test_xfail"][0].message == "known bug"
    # Unicode ids arrive exactly as pytest names them (escaped the way pytest escapes them).
    assert any(n.startswith("test_mixed.py::test_unicode_ids[") for n in by_id)
    assert len([n for n in by_id if n.startswith("test_mixed.py::test_unicode_ids[")]) == 3
    # Megabytes of captured output are cut to a sane size in the result.
    big = by_id["test_mixed.py::test_megabytes_captured_fail"][0]
    assert big.outcome == "failed" and 1_000 < len(big.output) < 20_000
    assert "characters cut" in big.output
    ansi = by_id["test_mixed.py::test_ansi_and_unicode_output"][0]
    assert "ünïcödé 🙂" in ansi.output and "\x1b[31m" in ansi.output
    assert result.collected == 25
    assert result.status == "failed" and result.target_met is False
    assert result.pass_rate == pytest.approx(result.counts["passed"] / (result.counts["passed"] + result.counts["failed"] + result.counts["error"]))


async def test_uncaptured_megabytes_keep_a_bounded_tail(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", PRINTS)
    lines: list[str] = []
    result = await run_tier(spec_for(root, "-s"), on_event=lambda e: lines.append(e.line) if hasattr(e, "line") else None, tail_lines=50)
    assert result.counts["passed"] == 2 and result.counts["failed"] == 1
    assert len(result.last_output) == 50
    assert len(lines) > 20_000  # every line was streamed to subscribers
    assert max(len(line) for line in lines) < 2_100  # the megabyte line was cut, not kept whole
    assert any(line.startswith("line 19999 ") for line in lines)


# -- property: any mix of outcomes is counted as pytest counts it ----------------------------

KINDS = {
    "pass": "def test_{i}():\n    pass\n",
    "fail": "def test_{i}():\n    assert False\n",
    "skip": "def test_{i}():\n    pytest.skip('s')\n",
    "xfail": "@pytest.mark.xfail\ndef test_{i}():\n    assert False\n",
    "xpass": "@pytest.mark.xfail\ndef test_{i}():\n    pass\n",
    "xpass_strict": "@pytest.mark.xfail(strict=True)\ndef test_{i}():\n    pass\n",
    "setup_error": "def test_{i}(boom_setup):\n    pass\n",
    "teardown_error": "def test_{i}(boom_teardown):\n    pass\n",
    "fail_and_teardown_error": "def test_{i}(boom_teardown):\n    assert 0\n",
    "param": "@pytest.mark.parametrize('v', [0, 1, 2])\ndef test_{i}(v):\n    assert v != 1\n",
}
HEADER = (
    "import pytest\n\n@pytest.fixture\ndef boom_setup():\n    raise ValueError('s')\n\n"
    "@pytest.fixture\ndef boom_teardown():\n    yield\n    raise ValueError('t')\n\n"
)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=12), xdist=st.booleans())
def test_any_mix_of_outcomes_counts_like_pytest(kinds: list[str], xdist: bool) -> None:
    source = HEADER + "\n".join(KINDS[k].format(i=i) for i, k in enumerate(kinds))
    with tempfile.TemporaryDirectory() as tmp:
        root = write_suite(Path(tmp), {"test_gen.py": source})
        args = tuple(XDIST_ARGS) if xdist else ()
        expected, code = plain_pytest(root, *args)
        result = asyncio.run(run_tier(spec_for(root, *args)))
    assert wsdash_counts(result) == expected
    assert result.exit_code == code


def test_parse_summary_reads_pytest_lines() -> None:
    assert parse_summary("x\n==== 3 failed, 4 passed, 1 skipped, 2 errors in 0.04s ====\n") == {
        "failed": 3, "passed": 4, "skipped": 1, "error": 2,
    }
    assert parse_summary("1 error in 0.1s") == {"error": 1}
    assert parse_summary("no tests ran in 0.01s") == {}
    with pytest.raises(AssertionError):
        parse_summary("garbage")
