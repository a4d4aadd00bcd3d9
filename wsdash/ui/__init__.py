"""The Textual UI: the app (wiring only), its screens and widgets."""
