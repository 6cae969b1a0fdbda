"""When the worker hands a request to a thread: only once it has arrived whole, or can never be."""

from __future__ import annotations

import pytest

from qa.worker import _has_arrived

HEAD = b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "data, arrived",
    [
        (b"", False),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", False),  # the head has not ended
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"GET / HTTP/1.0\r\n\r\n", True),
        (HEAD + b'Content-Length: 5\r\n\r\n{"q"', False),
        (HEAD + b'content-length:5\r\n\r\n{"q":', True),  # header names in any case, no space needed
        (HEAD + b'Content-Length: 5\r\n\r\n{"q":1}GET', True),  # a pipelined request may follow
        (HEAD + b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n", True),  # the client waits to be asked
        (CHUNKED + b"5\r\nhel", False),
        (CHUNKED + b"5\r\nhello\r\n", False),
        (CHUNKED + b"5\r\nhello\r\n0\r\n", False),  # the last chunk, but not the empty line after it
        (CHUNKED + b"5\r\nhello\r\n0\r\n\r\n", True),
        (CHUNKED + b"5;name=value\r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n", True),
        (CHUNKED + b"FFFFFFFFFFFFFFFF\r\nabc", False),  # huge: waits until too much has come, or the time is up
        (CHUNKED + b"zz\r\n", True),  # malformed: the parser says why at once
        (CHUNKED + b"-5\r\nabc", True),
        (CHUNKED + b"5\r\nhelloXX0\r\n\r\n", True),
    ],
)
def test_has_arrived(data, arrived):
    assert _has_arrived(data) is arrived
