"""Textual widgets of the dashboard (render only; data comes from the headless core)."""
