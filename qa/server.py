"""The web face: the chat page at /, the JSON endpoints /api/ask, /api/documents and /healthz, all over one engine
that follows its collection as it changes (qa.live)."""

from __future__ import annotations

import logging
import os
import re
import socket
from typing import Callable, Sequence

from flask import Flask, Response, jsonify, render_template, request
from gunicorn.app.base import BaseApplication
from werkzeug.exceptions import HTTPException

from . import shipped
from .admin import register_documents
from .api import ApiError, json_object
from .filters import Filters
from .live import IndexUnavailable, LiveEngine
from .search import Engine, QuestionError, QuestionTooLong, check_history, check_top_k
from .settings import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K
from .worker import Worker

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a question and 5 earlier ones of 1000 characters each, even as \u escapes (36 KiB)
MAX_QUERY_STRING_BYTES = 16 * 1024  # the same bound for GET /api/ask?q=...
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a document sent to POST /api/documents (qa serve --max-upload)
EXAMPLES = (
    "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?",
    "Đảng bộ thành phố đã kết nạp bao nhiêu đảng viên mới?",
    "Ai là Bí thư Thành ủy Chí Linh?",
    "ty le ho ngheo",
)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only: int() would also take " 3", "+3" and "٣"


def create_app(
    engine: Engine,
    examples: Sequence[str] = EXAMPLES,
    admin_token: str | None = None,
    max_upload: int = MAX_UPLOAD_BYTES,
    writable: bool = True,
) -> Flask:
    """Application factory: everything the app needs comes in as arguments, so tests build their own.

    The app answers from the engine's collection as it changes (qa.live); admin_token turns on the writes of
    /api/documents (writable: False for the built-in article, which is not changed this way).
    """
    web = shipped("web", "web")
    app = Flask(__name__, template_folder=str(web / "templates"), static_folder=str(web / "static"))
    app.json.ensure_ascii = False  # Vietnamese as it is, not \u escapes
    app.json.sort_keys = False  # in the order qa ask --json prints: "question" and "found" first
    live = LiveEngine(engine)

    @app.get("/")
    def page() -> str:
        return render_template(
            "index.html", examples=examples, stats=live.stats, max_chars=MAX_QUESTION_CHARS, documents=live.changeable
        )

    @app.route("/api/ask", methods=["GET", "POST"])
    def ask() -> Response:
        question, top_k, filters, history = _post_arguments() if request.method == "POST" else _get_arguments()
        return jsonify(live.engine().ask(question, top_k, filters, history).to_dict())

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            live.engine()
        except IndexUnavailable as error:
            return jsonify({"status": "index_unavailable", "message": str(error), **live.stats}), 503
        return jsonify({"status": "ok", **live.stats}), 200

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    if live.changeable:  # a folder loaded here, one collection or sharded; not one served by Ray's deployments
        register_documents(app, live, admin_token, max_upload, writable)
        app.add_url_rule(
            "/documents",
            "documents_page",
            lambda: render_template("documents.html", admin=admin_token is not None and writable),
        )
    _register_error_handlers(app)
    return app


def _get_arguments() -> tuple[object, int, Filters, tuple]:
    """question, top_k and filters from the query string (?q=...&top_k=3&since=...&until=...&doc_id=...), and no
    history: a conversation is sent by POST."""
    if len(request.query_string) > MAX_QUERY_STRING_BYTES:
        raise ApiError(413, "request_too_large", f"the query string is over {MAX_QUERY_STRING_BYTES} bytes")
    if "history" in request.args:
        raise ApiError(400, "bad_history", 'send the history in a POST body: {"question": "...", "history": [...]}')
    if "q" not in request.args:
        raise ApiError(400, "bad_question", "ask with ?q=<question>")
    top_k = request.args.get("top_k", str(DEFAULT_TOP_K))
    if not _WHOLE_NUMBER.fullmatch(top_k):
        raise _bad_top_k()
    return (
        request.args["q"],
        check_top_k(int(top_k)),
        Filters.parse(*map(request.args.get, ("since", "until", "doc_id"))),
        (),
    )


def _post_arguments() -> tuple[object, int, Filters, object]:
    """question, top_k, filters and history from a JSON object body: {"question": "...", "top_k": 3, "filters":
    {"since", "until", "doc_id"}, "history": ["earlier question", ...]}."""
    body = json_object(MAX_BODY_BYTES)
    if "question" not in body:
        raise ApiError(400, "bad_question", 'send the question in the "question" field')
    filters = body.get("filters") or {}
    if not isinstance(filters, dict) or set(filters) - {"since", "until", "doc_id"}:
        raise ApiError(400, "bad_filter", '"filters" must be an object of "since", "until" and "doc_id"')
    return (
        body["question"],
        check_top_k(body.get("top_k", DEFAULT_TOP_K)),
        Filters.parse(**filters),
        check_history(body.get("history", [])),
    )


def _bad_top_k() -> ApiError:
    return ApiError(400, "bad_top_k", f"top_k must be a whole number from 1 to {MAX_TOP_K}")


def _register_error_handlers(app: Flask) -> None:
    """Every refusal under /api/ and /healthz as {"error": {"code", "message"}}; never a traceback."""

    def error(status: int, code: str, message: str) -> tuple[Response, int]:
        return jsonify({"error": {"code": code, "message": message}}), status

    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return error(e.status, e.code, e.message)

    @app.errorhandler(QuestionError)
    def question_error(e: QuestionError):
        return error(413 if isinstance(e, QuestionTooLong) else 400, e.code, str(e))

    @app.errorhandler(IndexUnavailable)
    def index_unavailable(e: IndexUnavailable):
        return error(503, "index_unavailable", str(e))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if not _is_api(request.path):
            return e  # the page and static files keep werkzeug's plain HTML error pages
        code = {413: "request_too_large"}.get(e.code or 0) or _snake(e.name)
        limit = request.max_content_length or MAX_BODY_BYTES
        message = f"the request body is over {limit} bytes" if e.code == 413 else (e.description or e.name)
        response, status = error(e.code or 500, code, message)
        if "Allow" in (headers := dict(e.get_headers())):  # a 405 says which methods would do
            response.headers["Allow"] = headers["Allow"]
        return response, status

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error(500, "internal_error", "something went wrong on the server; it has been logged")


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/api" or path == "/healthz"


def _snake(name: str) -> str:
    """werkzeug's "Method Not Allowed" as the code "method_not_allowed"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class _Gunicorn(BaseApplication):
    """gunicorn started from code: our app object and settings, no command line or config file read."""

    def __init__(self, app: Flask, options: dict):
        self.app, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def run(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 8000,
    examples: Sequence[str] = EXAMPLES,
    on_ready: Callable[[str], None] = lambda url: None,
    workers: int | None = None,
    access_log: str | None = None,
    admin_token: str | None = None,
    max_upload: int = MAX_UPLOAD_BYTES,
    writable: bool = True,
) -> None:
    """Serve with gunicorn worker processes until Ctrl-C or SIGTERM; OSError when it cannot listen.

    Asking holds the GIL, so one process answers with one core at most: the workers are forked after
    the engine is loaded and warmed up, and share its memory-mapped index. `access_log` is a file to log
    every request to ("-": standard output), none by default.
    """
    with socket.create_server((host, port)):  # fail here, with the OS's reason, rather than after retries
        pass
    engine.warm_up()  # not on a visitor
    options = {
        "bind": _bind(host, port),
        "workers": workers or default_workers(),
        "worker_class": Worker,
        "loglevel": "warning",
        "accesslog": access_log,
        "limit_request_line": 0,  # gunicorn's own limit stops at 8 KiB; the worker's MAX_REQUEST_LINE applies
        "graceful_timeout": 5,
        "timeout": 60,
        "when_ready": lambda arbiter: on_ready(_url(host, arbiter.LISTENERS[0].sock.getsockname()[1])),
    }
    master = os.getpid()
    try:
        _Gunicorn(create_app(engine, examples, admin_token, max_upload, writable), options).run()
    except SystemExit as stop:  # the master exits after Ctrl-C or SIGTERM: 0 is a clean stop, so return
        if stop.code not in (0, None) or os.getpid() != master:  # a forked worker leaves through here too
            raise


def default_workers() -> int:
    """How many worker processes serve by default: one per core, and two at least.

    A worker never waits for a client (qa/worker.py) and asking is CPU-bound, so a core's second process
    only takes turns with the first: on a quiet 2-core machine 64 clients got p99 62-78 ms from 2 workers
    against 110-117 ms from 5 (bench/load.py, README). On a machine busy with other work, more processes
    win more of the cores: --workers.
    """
    return max(2, os.cpu_count() or 1)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _url(host: object, port: int) -> str:
    host = str(host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
