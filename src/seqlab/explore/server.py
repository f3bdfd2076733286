"""Load the vectors, bind a loopback port and serve the explorer with uvicorn until Ctrl-C."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from seqlab.embeddings import FastTextKeyedVectors, KeyedVectors
from seqlab.io import read_meta

HOST = "127.0.0.1"  # loopback only: the explorer is for the person at this machine


def load_vectors(path: str | os.PathLike, format: str | None = None) -> KeyedVectors:
    """Read any vectors file seqlab reads; fastText models in the seqlab format keep their
    n-grams, so words outside the vocabulary can be queried too. The file is only read
    (the seqlab format is memory-mapped read-only)."""
    path = Path(path)
    if _is_fasttext_model(path, format):
        return FastTextKeyedVectors.load(path)
    return KeyedVectors.load(path, format=format, mmap=True)


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port=0``: a free port chosen by the system).

    Raises
    ------
    OSError
        The port is taken or not allowed, with a message saying so and what to do.
    """
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every small response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise OSError(
                f"port {port} on {HOST} is already in use: choose another --port, or leave it "
                "out to use a free one"
            ) from None
        raise OSError(f"cannot listen on {HOST}:{port} ({error.strerror})") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}/"


def serve(app: FastAPI, sock: socket.socket, log_level: str = "warning") -> None:
    """Serve ``app`` on ``sock`` until interrupted; Ctrl-C (or SIGTERM) stops it cleanly."""
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False))
    # uvicorn shuts down cleanly on Ctrl-C, then raises the captured signal again
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


class BackgroundServer:
    """The explorer served from a thread, for tests and benchmarks: ``with BackgroundServer(app)
    as url: ...``; stopped and joined on exit."""

    def __init__(self, app: FastAPI, port: int = 0):
        self.sock = bind(port)
        self.url = url_of(self.sock)
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the explorer server stopped while starting")
            self.thread.join(0.01)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def _is_fasttext_model(path: Path, format: str | None) -> bool:
    if format not in (None, "seqlab") or path.suffix != ".safetensors":
        return False
    try:
        return "fasttext" in read_meta(path, "vectors file")
    except (OSError, ValueError):
        return False  # KeyedVectors.load gives the precise message
