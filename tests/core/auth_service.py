"""A stand-in for the backend's auth service on 127.0.0.1: ``POST /auth/e2e/test-auth`` with the
right ``X-E2E-Bypass-Key`` answers with a token (docs/protocol.md §2), anything else 401."""

from __future__ import annotations

import json
import ssl
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

E2E_PATH = "/auth/e2e/test-auth"


@contextmanager
def auth_service(key: str, answer: dict[str, Any], tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve until the block ends; yields the base URL (https with a `tls` server context)."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != E2E_PATH or self.headers.get("X-E2E-Bypass-Key") != key:
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
