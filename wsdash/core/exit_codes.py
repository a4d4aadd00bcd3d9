"""The exit codes every command shares: one definition, documented in the README and docs/protocol.md §5.9."""

OK = 0  # the contract holds, every required target is up, every tier met its target
FAILED = 1  # violated, down, or a tier missed its target
USAGE = 2  # a usage or configuration error: the message names the flag, file or key
NO_RUN = 3  # nothing could be judged: refused, DNS, TLS, not a WebSocket, authentication failed
INTERRUPTED = 130  # Ctrl+C, after printing what was seen so far
BROKEN_PIPE = 141  # the reader of standard output went away (`| head`): as a program ended by SIGPIPE
