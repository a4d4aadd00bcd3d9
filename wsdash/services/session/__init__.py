"""Golden-path sessions: one run (`once`), a long-lived dashboard session (`live`), a replay (`replay`)."""
