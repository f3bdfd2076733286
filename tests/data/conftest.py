"""Fixtures of the dataset tests: a private cache, the mirror in the environment, an HTTP server."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets an empty ``SEQLAB_CACHE``: the user's real cache is never touched."""
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SEQLAB_CACHE", str(root))
    return root


@pytest.fixture
def on_mirror(mirror, monkeypatch) -> Path:
    """``SEQLAB_DATA`` pointing at the shared mirror (skips when it is absent, see conftest)."""
    monkeypatch.setenv("SEQLAB_DATA", str(mirror))
    return mirror


class Server:
    """A local HTTP server: ``files[path] = bytes``; paths under ``/cut/`` stop half-way."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                body = outer.files.get(self.path.removeprefix("/cut"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path.startswith("/cut/"):
                    # Announce the full length, send half, then drop the connection.
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    srv = Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
