"""What an idle tier card says it will run: the selection, not the plumbing."""

from __future__ import annotations

import pytest

from wsdash.services.tiers.spec import TierSpec
from wsdash.ui.widgets.tier_pane import short_command


def spec(**table: object) -> TierSpec:
    return TierSpec.from_table({"name": "t", "title": "T", **table})


@pytest.mark.parametrize("table, shown", [
    ({"pytest": ["/opt/venv/lib/python3.12/site-packages/wsdash/demo_suite", "-q", "-p", "no:cacheprovider"]},
     "pytest demo_suite"),
    ({"pytest": ["tests/unit", "-m", "not slow and not e2e", "-x", "-k", "config", "-n", "4"]},
     "pytest tests/unit -m 'not slow and not e2e' -k config"),
    ({"pytest": ["tests", "--tb", "short", "--ignore", "tests/e2e", "--maxfail=1", "--deselect", "tests/test_a.py::test_slow",
                 "-mnot slow", "-x"]},
     "pytest tests -m 'not slow'"),
    ({"pytest": ["-k=auth", "tests/unit"]}, "pytest -k auth tests/unit"),
    ({"command": ["make", "/srv/app/test"]}, "make test"),
])
def test_an_idle_card_names_which_tests_run(table: dict, shown: str) -> None:
    assert short_command(spec(**table)) == shown
