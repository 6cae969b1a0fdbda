"""What the JSON API's views share: the refusal they raise (ApiError) and a request body read within a limit."""

from __future__ import annotations

import json

from flask import request
from gunicorn.http.errors import ParseException


class ApiError(Exception):
    """A request the API refuses: status, a stable code for programs and a message for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_object(limit: int, example: str = '{"question": "..."}') -> dict:
    """The request body as a JSON object of at most limit bytes, or the ApiError that says why it is not one."""
    # Checked here rather than with Flask's MAX_CONTENT_LENGTH, whose stream silently stops at the
    # limit for a chunked body (no declared length): reading one byte more tells the two apart.
    too_long = (request.content_length or 0) > limit
    data = b"" if too_long else read_body(limit + 1)
    if too_long or len(data) > limit:
        raise ApiError(413, "request_too_large", f"the request body is over {limit} bytes")
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as error:  # bad UTF-8, bad JSON, huge ints, absurd nesting
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", f"the body must be a JSON object: {example}")
    return body


def read_body(limit: int) -> bytes:
    """Up to `limit` bytes of the request body, or the 400 that says it could not be read."""
    try:
        return request.stream.read(limit)
    except (ParseException, OSError) as error:  # gunicorn's: a malformed chunked body, or one cut short
        raise ApiError(400, "bad_request", f"the request body could not be read: {error}") from None
