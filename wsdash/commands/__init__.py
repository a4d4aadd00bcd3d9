"""The headless commands behind the CLI: each turns parsed arguments into output and an exit code."""
