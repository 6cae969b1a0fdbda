"""The gunicorn worker `qa serve` runs: an event loop that answers a request only once it has arrived whole.

gunicorn's threaded worker hands a connection to a thread as soon as its first bytes arrive, and the thread
then waits for the rest: a client sending one byte a second holds it, and with it every request queued
behind it. This worker reads what has arrived in its event loop and answers once the request's head and
body are whole, in the loop itself: asking is CPU-bound and holds the GIL, so threads would only share one
core, and answering a whole request never waits for the client (processes give the parallelism). A request
not whole within REQUEST_TIMEOUT seconds gets a 408 and is closed; an answer the client does not read
within WRITE_TIMEOUT ends the connection; a connection that ends waits for the client to close its side in
the event loop too. Requests gunicorn cannot parse (a request line or headers too long, a malformed head)
are refused with the API's JSON errors instead of gunicorn's HTML pages.
"""

from __future__ import annotations

import json
import re
import selectors
import socket
import time
from concurrent.futures import Future
from functools import partial

from gunicorn.http.errors import (
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

REQUEST_TIMEOUT = 5.0  # seconds a request may take to arrive whole (a few hundred bytes, on any network)
WRITE_TIMEOUT = 5.0  # seconds an answer may wait for a client to read it (only answers over ~100 KiB ever wait)
CLOSE_TIMEOUT = 2.0  # seconds a closed connection waits for the client to close its side (gunicorn's)
# Connections accepted per turn of the loop. One (gunicorn's) left the last of 64 clients connecting at once
# waiting up to a second for their first answer; every waiting one unbalanced the workers (bench/load.py).
ACCEPT_AT_ONCE = 4
MAX_REQUEST_LINE = 32 * 1024  # room for the API's 16 KiB query strings, which it refuses itself, as JSON
MAX_WAITING_BYTES = 128 * 1024  # a request bigger than this is handed over unfinished: the parser refuses it
_RECEIVE_BYTES = 64 * 1024
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,12})[ \t]*\r\n", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r\n]*chunked", re.IGNORECASE)
_EXPECT_CONTINUE = re.compile(rb"\r\nexpect:[ \t]*100-continue", re.IGNORECASE)
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]+")
_INTERNAL_ERROR = ("500 Internal Server Error", "internal_error")
# What gunicorn's parser raises, most specific first: (its exception, HTTP status and reason, our error code)
_REFUSALS = (
    ((InvalidResponseHeader, InvalidResponseHeaderName), *_INTERNAL_ERROR),  # the app's fault, not the client's
    (LimitRequestLine, "414 URI Too Long", "uri_too_long"),
    (LimitRequestHeaders, "431 Request Header Fields Too Large", "request_header_fields_too_large"),
    (UnsupportedTransferCoding, "501 Not Implemented", "not_implemented"),
    (ParseException, "400 Bad Request", "bad_request"),
)


class Worker(ThreadWorker):
    """gunicorn's threaded worker's event loop (keep-alive, time-outs, graceful stop), answering in the loop."""

    def init_process(self) -> None:
        self.arriving: dict = {}  # connection -> when it must have arrived whole, oldest first
        self.closing: dict = {}  # socket -> when to stop waiting for the client to close its side
        super().init_process()

    def accept(self, listener) -> None:
        """gunicorn's accept, a few connections at a time: answering in the loop comes back to it less often,
        and taking every waiting connection would leave the other workers none."""
        for _ in range(ACCEPT_AT_ONCE):
            accepted = self.nr_conns
            super().accept(listener)
            if self.nr_conns == accepted or self.nr_conns >= self.worker_connections:
                break

    def enqueue_req(self, conn) -> None:
        """Answer the connection's next request once it has arrived (gunicorn calls this when one may be coming)."""
        if conn.parser is None:
            conn.parser = _Parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.deadline = time.monotonic() + REQUEST_TIMEOUT
        conn.sock.setblocking(False)
        if self._receive(conn):
            self._answer(conn)
        else:
            self.arriving[conn] = conn.parser.unreader.deadline
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn, _sock) -> None:
        if self._receive(conn):
            self.poller.unregister(conn.sock)
            del self.arriving[conn]
            self._answer(conn)

    def _answer(self, conn) -> None:
        """Answer the request here in the event loop; gunicorn's keep-alive or close follows from the loop."""
        answered: Future = Future()
        answered.set_result(self.handle(conn))
        self.method_queue.defer(self.finish_request, conn, answered)  # deferred: pipelined requests queue up

    def handle_request(self, req, conn) -> bool:
        """gunicorn's, with WRITE_TIMEOUT for a client that does not read its answer (then the connection ends)."""
        conn.sock.settimeout(WRITE_TIMEOUT)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:
            self.log.info("closed a connection whose client did not read its answer within %s s", WRITE_TIMEOUT)
            return False

    def _receive(self, conn) -> bool:
        """Read what has arrived; True when the request can be answered (whole, too big, or the client gone)."""
        unreader = conn.parser.unreader
        received = unreader.take_buffered()  # what a previous request left: a pipelined next one
        gone = False
        while not _has_arrived(received) and len(received) <= MAX_WAITING_BYTES:
            try:
                data = conn.sock.recv(_RECEIVE_BYTES)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                data = b""
            if not data:
                gone = True  # the parser reads the end too: a client that only stopped sending gets its answer
                break
            received += data
        unreader.unread(received)
        conn.data_ready = True  # gunicorn's own wait for the first byte is not needed
        return gone or len(received) > MAX_WAITING_BYTES or _has_arrived(received)

    def finish_request(self, conn, fs) -> None:
        """gunicorn's, except that a connection that ends is closed from the event loop, never waited on."""
        if fs.result():
            super().finish_request(conn, fs)  # kept alive
        else:
            self.nr_conns -= 1
            self._close(conn.sock)

    def _close(self, sock: socket.socket) -> None:
        """Close gracefully (RFC 9112 section 9.6): say we are done, then read until the client is too."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        self.closing[sock] = time.monotonic() + CLOSE_TIMEOUT
        self.poller.register(sock, selectors.EVENT_READ, self._drain)

    def _drain(self, sock: socket.socket) -> None:
        try:
            if sock.recv(_RECEIVE_BYTES):
                return  # the client has not closed yet: the loop calls again while it sends
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.poller.unregister(sock)
        del self.closing[sock]
        sock.close()

    def murder_pending(self) -> None:
        """gunicorn's expiry of idle connections, and ours: 408 to a request not whole in time, and the end
        of the wait for a client to close."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.arriving.items()):
            if deadline > now:
                break
            del self.arriving[conn]
            self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            if conn.parser.unreader.take_buffered():  # a request had begun: say why it is closed
                self.log.info("closed a connection whose request was not whole after %s s", REQUEST_TIMEOUT)
                _send_error(
                    conn.sock,
                    "408 Request Timeout",
                    "request_timeout",
                    f"the request did not arrive whole within {REQUEST_TIMEOUT:g} seconds",
                )
            self._close(conn.sock)
        for sock, deadline in list(self.closing.items()):
            if deadline > now:
                break
            del self.closing[sock]
            self.poller.unregister(sock)
            sock.close()

    def handle_error(self, req, client, addr, exc) -> None:
        """A request gunicorn's parser refused (or an error of its own), answered as the API answers: JSON."""
        status, code = next(
            ((status, code) for kind, status, code in _REFUSALS if isinstance(exc, kind)), _INTERNAL_ERROR
        )
        if code == "internal_error":
            self.log.exception("error handling a request")
            _send_error(client, status, code, "something went wrong on the server; it has been logged")
        else:
            self.log.info("refused a request from %s: %s", addr[0] if addr else "?", exc)
            _send_error(client, status, code, f"the request could not be read: {exc}")


class _Request(Request):
    """gunicorn's request, with a request line up to MAX_REQUEST_LINE (its own limit stops at 8 KiB)."""

    def read_line(self, unreader, buf, limit=0):
        return super().read_line(unreader, buf, limit or MAX_REQUEST_LINE)


class _DeadlineReader(SocketUnreader):
    """gunicorn's socket reader that gets nothing past the deadline, as from a client that has gone."""

    deadline = float("inf")

    def chunk(self, size_hint=None) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return b""
        timeout = self.sock.gettimeout()
        self.sock.settimeout(remaining)
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            return b""
        finally:
            self.sock.settimeout(timeout)


class _Parser(RequestParser):
    mesg_class = _Request

    def __init__(self, cfg, source, source_addr):
        super().__init__(cfg, source, source_addr)
        self.unreader = _DeadlineReader(source)


def _has_arrived(data: bytes) -> bool:
    """Whether data starts with a whole request: its head, then the body the head announces (as far as a quick
    look can tell: anything odd counts as arrived, and the parser then says what is wrong with it)."""
    end = data.find(_HEAD_END)
    if end < 0:
        return False
    head, body = data[: end + 2], data[end + 4 :]
    if _EXPECT_CONTINUE.search(head):
        return True  # the client waits for gunicorn's "100 Continue" before it sends the body
    if _CHUNKED.search(head):
        return _chunked_body_arrived(body)
    length = _CONTENT_LENGTH.search(head)
    return length is None or len(body) >= int(length.group(1))


def _chunked_body_arrived(body: bytes) -> bool:
    """Whether a chunked body has come to its last chunk and trailers; a malformed one counts as arrived."""
    start = 0
    while (line_end := body.find(b"\r\n", start)) >= 0:
        size = body[start:line_end].split(b";", 1)[0].rstrip(b" \t")
        if not _CHUNK_SIZE.fullmatch(size):
            return True
        if int(size, 16) == 0:
            return body.find(_HEAD_END, line_end) >= 0  # the trailers (usually none) end with an empty line
        start = line_end + 2 + int(size, 16) + 2
        if start > len(body):
            return False
        if body[start - 2 : start] != b"\r\n":
            return True
    return False


def _send_error(sock: socket.socket, status: str, code: str, message: str) -> None:
    """Write the API's JSON error and ask the client to close; best effort, the client may be gone."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    try:
        write_nonblock(sock, head + body)
    except OSError:
        pass
