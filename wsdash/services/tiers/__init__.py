"""Test tiers: what a tier is (spec.py), running one (runner.py, process.py, stream.py) or several
(batch.py), results and verdicts (model.py, events.py), JUnit (junit.py), what failed last time
(state.py), and the dashboard's view of them (board.py). pytest_stream/ is the self-contained
plugin package put on the tested project's path: it imports nothing from wsdash."""
