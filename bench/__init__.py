"""wsdash benchmarks: each prints its figures against a baseline measured in the same run and
appends a dated row to BENCHMARKS.md. `python -m bench` runs them all (quick mode)."""
