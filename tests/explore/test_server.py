"""The explorer as a real server on 127.0.0.1: the command, and many requests at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.explore import create_app
from seqlab.explore.server import BackgroundServer, bind

N_REQUESTS = 1000
N_THREADS = 8


def test_many_concurrent_requests_leave_the_server_up_without_errors(app):
    """1,000 requests from 8 threads, good and bad mixed: every answer is the expected 2xx/4xx."""
    queries = [
        ("/api/neighbors", {"word": "king", "topn": 5}, 200),
        ("/api/neighbors", {"word": "한국", "topn": 1000}, 200),
        ("/api/analogy", {"a": "king", "b": "man", "c": "woman", "method": "3cosmul"}, 200),
        ("/api/similarity", {"w1": "서울", "w2": "도쿄"}, 200),
        ("/api/doesnt_match", {"words": ["lunch", "dinner", "cereal"]}, 200),
        ("/api/projection", {"method": "pca", "dims": 2}, 200),
        ("/api/neighbors", {"word": "nosuchword"}, 404),
        ("/api/neighbors", {"word": "king", "topn": -1}, 422),
        ("/api/analogy", {"a": "king", "b": "man"}, 422),
        ("/api/axes", {"x0": "man", "x1": "man"}, 400),
        ("/api/similarity", {"w1": "\x00", "w2": "king"}, 404),
    ]
    with (
        BackgroundServer(app) as url,
        httpx2.Client(base_url=url, timeout=30) as client,
        ThreadPoolExecutor(N_THREADS) as pool,
    ):

        def send(i: int) -> tuple[int, int]:
            path, params, _ = queries[i % len(queries)]
            return i, client.get(path, params=params).status_code

        results = list(pool.map(send, range(N_REQUESTS)))
        assert len(results) == N_REQUESTS
        wrong = [
            (queries[i % len(queries)], code)
            for i, code in results
            if code != queries[i % len(queries)][2]
        ]
        assert not wrong, wrong[:5]
        assert client.get("/api/info").status_code == 200  # still up


def test_command_refuses_a_file_that_does_not_load(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["explore", str(tmp_path / "nothing.bin")])
    assert missing.exit_code == 1
    assert "no such vector file" in missing.output
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 20)
    result = runner.invoke(main, ["explore", str(junk)])
    assert result.exit_code == 1
    assert f"Error: {junk}: this is not a word2vec/GloVe/fastText vectors file" in result.output
    assert "Traceback" not in result.output
    assert "seqlab explore: http" not in result.output  # no server was started
    bad = runner.invoke(main, ["explore", str(junk), "--top", "1"])
    assert bad.exit_code == 2 and "--top" in bad.output


def test_command_refuses_a_port_in_use(vectors_file):
    taken = bind(0)
    try:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["explore", vectors_file, "--port", str(port)])
        assert result.exit_code == 1
        assert f"port {port} on 127.0.0.1 is already in use" in result.output
    finally:
        taken.close()


@pytest.mark.slow
def test_command_serves_on_loopback_until_interrupted(vectors_file, tmp_path):
    env = {**os.environ, "SEQLAB_CACHE": str(tmp_path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from seqlab.cli.main import main; main()",
            "explore",
            vectors_file,
            "--top",
            "100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = None
        for line in process.stdout:
            if line.startswith("seqlab explore: "):
                url = line.split()[2]
                break
        assert url is not None and url.startswith("http://127.0.0.1:")
        info = httpx2.get(url + "api/info", timeout=30).json()
        assert info["plotted"] == 100 and info["name"].endswith("small.bin")
        assert "127.0.0.1" in url
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_background_server_stops(kv):
    server = BackgroundServer(create_app(kv, top=10))
    with server as url:
        assert httpx2.get(url + "api/info").status_code == 200
    assert not server.thread.is_alive()
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(url + "api/info", timeout=2)


def test_listening_socket_is_tcp_so_responses_are_not_delayed():
    """asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets created with
    IPPROTO_TCP; without it each small JSON answer waited ~40 ms for a delayed ACK."""
    import socket

    sock = bind(0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
