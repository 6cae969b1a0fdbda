"""Hostile clients against the real server: slow senders, malformed chunked bodies, over-long heads.

Everything goes over raw sockets to `qa serve` on 127.0.0.1, with bounded loops and socket time-outs.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from urllib.parse import quote

import pytest

from qa.worker import REQUEST_TIMEOUT, WRITE_TIMEOUT

QUESTION = json.dumps({"question": "ty le ho ngheo", "top_k": 1}).encode()
CHUNKED_HEAD = (
    b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def post_head(length: int) -> bytes:
    return (
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )


@pytest.fixture(scope="module")
def server(default_index_dir, tmp_path_factory, start_server):
    """Two single-threaded workers: two clients that held a thread each would stall every other client."""
    running = start_server(default_index_dir, tmp_path_factory.mktemp("serve-faults"), "--workers", "2")
    yield running
    running.stop()


def exchange(server, data: bytes, done_sending: bool = True, timeout: float = 10) -> bytes:
    """Send raw bytes (then say so with a half close, unless told not to); returns all the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as connection:
        connection.sendall(data)
        if done_sending:
            connection.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


def json_error(reply: bytes) -> tuple[int, str]:
    """(status, error code) of a raw HTTP reply, after checking it is the API's JSON error."""
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), reply[:300]
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["message"], error
    return status, error["code"]


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",  # not a size
        b"-5\r\nabc\r\n0\r\n\r\n",  # a negative size
        b"FFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n",  # a size far beyond what is sent
        b"5\r\nab",  # a chunk cut short
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the chunk's data
    ],
    ids=["zz", "negative", "huge", "truncated", "no-crlf"],
)
def test_a_malformed_chunked_body_is_a_json_400(server, body):
    assert json_error(exchange(server, CHUNKED_HEAD + body)) == (400, "bad_request")


def test_a_chunked_question_is_answered(server):
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(QUESTION), QUESTION)
    reply = exchange(server, CHUNKED_HEAD + body)
    assert reply.startswith(b"HTTP/1.1 200") and b'"found": true' in reply.replace(b'":true', b'": true')


def test_a_query_string_over_16_kib_is_the_documented_json_413(server):
    request = b"GET /api/ask?q=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert json_error(exchange(server, request)) == (413, "request_too_large")


def test_the_longest_question_fits_in_a_get(server):
    """1,000 characters of 3 bytes of UTF-8 each take 9,000 bytes percent-encoded: over gunicorn's own 8 KiB."""
    request = f"GET /api/ask?q={quote('ữ' * 1000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert len(request) > 8192
    assert exchange(server, request.encode()).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (b"GET /api/ask?q=" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /api/ask?q=a HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (
            b"GET /api/ask?q=a HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"".join(b"X-%d: a\r\n" % n for n in range(200))
            + b"\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"GET /api/ask?q=a HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: a\r\n\r\n", 400, "bad_request"),
    ],
    ids=["request-line", "long-header", "many-headers", "bad-header-name"],
)
def test_what_gunicorn_refuses_is_a_json_error(server, request_bytes, status, code):
    assert json_error(exchange(server, request_bytes, done_sending=False)) == (status, code)


def test_a_request_that_never_arrives_whole_gets_a_408_and_is_closed(server):
    started = time.monotonic()
    reply = exchange(
        server,
        b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",
        done_sending=False,
        timeout=REQUEST_TIMEOUT + 5,
    )
    assert json_error(reply) == (408, "request_timeout")
    assert time.monotonic() - started >= REQUEST_TIMEOUT - 0.5  # it had its time first


def trickle(server, at_once: bytes, slowly: bytes, stop: threading.Event, replies: list[bytes]) -> None:
    """Send `at_once`, then `slowly` a byte every 0.2 s, until told to stop or the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT + 5) as connection:
        connection.sendall(at_once)
        for byte in slowly:
            if stop.wait(0.2):
                return
            if select.select([connection], [], [], 0)[0]:  # the server answered (or closed) first
                try:
                    replies.append(connection.recv(200))
                except OSError as error:
                    replies.append(repr(error).encode())
                return
            connection.sendall(bytes([byte]))


def test_slow_clients_do_not_hold_up_the_others(server):
    """Ten connections sending their head or body a byte at a time, more than the server has workers: every
    other request is still answered, well before the slow ones would time out."""
    request = post_head(len(QUESTION)) + QUESTION
    head_length = len(post_head(len(QUESTION)))
    stop, replies = threading.Event(), []
    slow = [
        threading.Thread(
            target=trickle,
            args=(server, request[: head_length * (n % 2)], request[head_length * (n % 2) :], stop, replies),
        )
        for n in range(10)
    ]
    for thread in slow:
        thread.start()
    try:
        time.sleep(0.5)  # every slow connection has sent its first bytes
        for _ in range(20):
            reply = exchange(server, request, timeout=REQUEST_TIMEOUT - 1)
            assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
        assert all(reply.startswith(b"HTTP/1.1 408") for reply in replies)  # if their time was up, a 408
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=REQUEST_TIMEOUT + 5)


def test_clients_that_never_close_do_not_hold_up_the_others(server):
    """Ten clients ask for the connection to be closed, then never close their side: the server waits for
    them (to close gracefully) without stopping to answer the others."""
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(10)]
    try:
        for connection in held:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        request = post_head(len(QUESTION)) + QUESTION
        for _ in range(20):
            assert exchange(server, request, timeout=REQUEST_TIMEOUT - 1).startswith(b"HTTP/1.1 200")
        assert all(connection.recv(200).startswith(b"HTTP/1.1 200") for connection in held)
    finally:
        for connection in held:
            connection.close()


def test_a_client_that_does_not_read_its_answers_holds_a_worker_for_a_while_only(
    default_index_dir, tmp_path, start_server
):
    """One worker; a client asks for a hundred long answers at once and reads none: once the socket buffers
    are full, the worker gives up on it after WRITE_TIMEOUT and answers the next client."""
    running = start_server(default_index_dir, tmp_path, "--workers", "1")
    try:
        body = json.dumps({"question": "Chí Linh", "top_k": 20}).encode()
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # small, and never grown by the kernel
            reader.connect(("127.0.0.1", running.port))
            reader.sendall((post_head(len(body)) + body) * 100)
            time.sleep(0.5)  # the worker is writing to it by now
            healthz = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            assert exchange(running, healthz, timeout=WRITE_TIMEOUT + 5).startswith(b"HTTP/1.1 200")
    finally:
        assert running.stop() == 0


def test_nothing_above_reached_the_error_log(server):
    assert exchange(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(b"HTTP/1.1 200")
    log = server.stderr.read_text()
    assert "Traceback" not in log and "ERROR" not in log and "unexpected error" not in log, log
