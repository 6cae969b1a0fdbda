"""The documents API: list and read the collection's documents; with the admin token, add one (JSON or an uploaded
file) and remove one. Writes go through qa.collection, or qa.shards for a sharded collection, as qa index add and
remove do (the collection's lock serialises them across workers and processes), and the worker that wrote moves to
the new version before it answers."""

from __future__ import annotations

import hmac
import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

from . import collection, shards, store
from .api import ApiError, json_object
from .corpus import CONTROL, ID_RULE, usable_id
from .live import LiveEngine
from .text import fold

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
MAX_LIST = 500  # documents one page of the list may hold
MAX_TITLE_CHARS = 1000
WRITE_WAIT_SECONDS = 30.0  # how long a write waits for another writer before answering 503
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def register_documents(app: Flask, live: LiveEngine, token: str | None, max_upload: int, writable: bool = True) -> None:
    """Add /api/documents to the app: reads for everyone, writes with `Authorization: Bearer <token>` (none when
    token is None, or when the collection is not writable: the built-in article)."""
    changes = shards if live.sharded else collection  # a sharded collection: each document to its shard

    @app.get("/api/documents")
    def documents() -> Response:
        offset, limit = _number("offset", 0, 10**9), _number("limit", 50, MAX_LIST)
        listed = live.engine().index.catalogue()
        return jsonify(
            {
                "documents": listed[offset : offset + limit],
                "total": len(listed),
                "offset": offset,
                "limit": limit,
                "admin": token is not None and writable,
            }
        )

    @app.get("/api/documents/<path:doc_id>")
    def document(doc_id: str) -> Response:
        index = _holding(live.engine().index, doc_id)
        number = index.document_numbers.get(doc_id)
        if number is None:
            raise _no_such_document(doc_id)
        record = index.catalogue_entry(number)
        return jsonify({**record, "passages": [{"id": p.id, "text": p.text} for p in index.document_passages(number)]})

    @app.post("/api/documents")
    def add() -> tuple[Response, int]:
        _authorised(token, writable)
        request.max_content_length = max_upload
        with tempfile.TemporaryDirectory(prefix="qa-upload-") as folder:
            source = _uploaded(Path(folder), max_upload)
            try:
                report = _written(
                    lambda: changes.add([source], live.directory, all_or_nothing=True, wait_seconds=WRITE_WAIT_SECONDS)
                )
            except collection.NotAdded as error:  # named as sent: the server's temporary folder is its own business
                raise ApiError(400, "bad_document", str(error).replace(f"{folder}{os.sep}", "")) from None
        live.refresh()
        index = live.engine().index
        stored = []
        for doc_id in report.added + report.replaced + report.unchanged:
            held = _holding(index, doc_id)
            stored.append({"id": doc_id, "passages": held.passage_count(held.document_numbers[doc_id])})
        return jsonify(
            {
                "documents": stored,
                "added": report.added,
                "replaced": report.replaced,
                "unchanged": report.unchanged,
                "version": index.version,
            }
        ), 201

    @app.delete("/api/documents/<path:doc_id>")
    def remove(doc_id: str) -> tuple[str, int]:
        _authorised(token, writable)
        try:
            _written(lambda: changes.remove([doc_id], live.directory, wait_seconds=WRITE_WAIT_SECONDS))
        except collection.NoSuchDocument:  # worded as GET words it, without the server's folder
            raise _no_such_document(doc_id) from None
        live.refresh()
        return "", 204


def _holding(index: store.Index | shards.ShardedIndex, doc_id: str) -> store.Index:
    """The loaded collection a document is in, if anywhere: the collection, or of a sharded one (loaded in this
    process) the shard its id hashes to."""
    return index.shards.holding(doc_id) if isinstance(index, shards.ShardedIndex) else index


def _number(name: str, default: int, most: int) -> int:
    value = request.args.get(name, str(default))
    if not _WHOLE_NUMBER.fullmatch(value) or int(value) > most:
        raise ApiError(400, "bad_request", f"{name} must be a whole number from 0 to {most}")
    return int(value)


def _authorised(token: str | None, writable: bool) -> None:
    """Nothing when the request carries the admin token, else the refusal: 403 when writes are off, 401 when the
    token is missing or wrong (the same answer for both, compared in constant time)."""
    if token is None or not writable:
        why = (
            "no admin token is configured (QA_ADMIN_TOKEN or qa serve --admin-token-file)"
            if writable
            else "the built-in article is not changed this way: serve a collection of yours with --index"
        )
        raise ApiError(403, "admin_disabled", f"writes are off: {why}")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), f"Bearer {token}".encode()):
        raise ApiError(401, "unauthorized", "send the admin token as Authorization: Bearer <token>")


def _uploaded(folder: Path, max_upload: int) -> Path:
    """The document a write request sends, as a file in folder: an uploaded file (multipart, field "file") or a
    JSON document {"id"?, "title", "text", "url"?, "date"?} written as one JSON line."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError(400, "bad_document", 'send the file in the multipart field "file"')
        name = Path(upload.filename.replace("\\", "/")).name
        if CONTROL.search(name):
            raise ApiError(400, "bad_document", "the file's name holds a control character")
        if not name or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise ApiError(415, "unsupported_media_type", f"upload one of {', '.join(UPLOAD_SUFFIXES)}")
        path = folder / name
        upload.save(path)
        return path
    body = json_object(max_upload, '{"title": "...", "text": "..."}')
    record = _document_record(body)
    path = folder / "document.jsonl"
    path.write_text(_json_line(record), encoding="utf-8")
    return path


def _document_record(body: dict) -> dict:
    """A JSON document checked field by field, its id made from its title when it has none."""
    for field in ("id", "title", "text", "url", "date"):
        if isinstance(body.get(field), str) and _SURROGATE.search(body[field]):  # only reachable as "\ud800"
            raise ApiError(400, "bad_document", f'"{field}" is not valid Unicode text')
    for field in ("title", "text"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise ApiError(400, "bad_document", f'"{field}" must be a string that is not empty')
    for field in ("id", "url", "date"):
        if body.get(field) is not None and (not isinstance(body[field], str) or not body[field].strip()):
            raise ApiError(400, "bad_document", f'"{field}", when given, must be a string that is not empty')
    if len(body["title"]) > MAX_TITLE_CHARS:
        raise ApiError(400, "bad_document", f"the title is over {MAX_TITLE_CHARS} characters")
    if body.get("date") is not None and not _real_date(body["date"].strip()):
        raise ApiError(400, "bad_document", '"date" must be a real date written YYYY-MM-DD (or YYYY-MM-DDTHH:MM)')
    if body.get("url") is not None and not _web_address(body["url"].strip()):
        raise ApiError(400, "bad_document", '"url" must be a web address (http:// or https://)')
    doc_id = (body.get("id") or _slug(body["title"])).strip()
    if not doc_id:  # every such title would give one id, and each post would replace the one before
        raise ApiError(400, "bad_document", 'the title has no letter or digit to make an id of: send an "id"')
    if not usable_id(doc_id):
        raise ApiError(400, "bad_document", ID_RULE)
    return {
        "id": doc_id,
        "title": body["title"].strip(),
        "text": body["text"],
        "url": body.get("url"),
        "date": body.get("date"),
    }


def _real_date(text: str) -> bool:
    """Whether text is a date (and time) of the calendar written YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]."""
    try:
        return bool(_DATE.fullmatch(text)) and bool(datetime.fromisoformat(text))
    except ValueError:  # 2024-02-30, 25:00
        return False


def _web_address(text: str) -> bool:
    """Whether text is an http or https address with a host: what the pages link a title to."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _slug(title: str) -> str:
    """An id made of a title ("Giá xăng tăng" gives "gia-xang-tang"), empty when it has no letter or digit."""
    return re.sub(r"[^a-z0-9]+", "-", fold(title.lower())).strip("-")[:80]


def _json_line(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False) + "\n"


def _written(write):
    """What a collection write returns, its refusals that are not about the request as the API's: a full disk 507,
    another writer holding on 503, a damaged collection (nothing written) 503."""
    try:
        return write()
    except store.IndexFileError as error:
        raise ApiError(503, "index_unavailable", str(error)) from None
    except store.IndexWriteError as error:
        status, code = (507, "insufficient_storage") if isinstance(error, store.DiskFull) else (503, "busy")
        raise ApiError(status, code, str(error)) from None


def _no_such_document(doc_id: str) -> ApiError:
    return ApiError(404, "no_such_document", f"no document {doc_id!r} in this collection")
