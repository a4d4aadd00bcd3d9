"""Watching the golden path over time: a schedule that never overlaps runs (schedule.py), the
state changes worth an alert, and metrics for Prometheus (metrics.py). The runs themselves come in
as plain callables: this service knows neither sessions nor health."""
