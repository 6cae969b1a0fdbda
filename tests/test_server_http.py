"""The real server: `qa serve` in a subprocess (gunicorn), real HTTP, concurrency, a clean Ctrl-C."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qa.server import MAX_BODY_BYTES

pytestmark = pytest.mark.slow  # a real server or browser per test

QUESTIONS = [
    "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?",
    "Đảng bộ thành phố đã kết nạp bao nhiêu đảng viên mới?",
    "Ai là Bí thư Thành ủy Chí Linh?",
    "ty le ho ngheo",
    "Thu ngân sách nhà nước trên địa bàn đạt bao nhiêu?",
    "Giá vàng hôm nay thế nào?",
]


@pytest.fixture(scope="module")
def server(default_index_dir, tmp_path_factory, start_server):
    running = start_server(default_index_dir, tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


def request(
    server, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def post_json(server, payload: object) -> tuple[int, dict[str, str], bytes]:
    return request(server, "POST", "/api/ask", json.dumps(payload).encode(), {"Content-Type": "application/json"})


def error_code(status_headers_body: tuple[int, dict[str, str], bytes]) -> tuple[int, str]:
    status, headers, body = status_headers_body
    assert headers["Content-Type"] == "application/json", body[:200]
    return status, json.loads(body)["error"]["code"]


def test_serve_prints_its_url(server):
    assert server.stdout.read_text().splitlines()[0] == f"Serving on {server.url} (Ctrl-C to stop)"


def test_a_good_question_over_http(server):
    status, headers, body = post_json(server, {"question": "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    data = json.loads(body)
    assert data["found"] is True and "87 triệu" in data["answers"][0]["sentence"]


def test_get_with_urllib(server):
    with urllib.request.urlopen(server.url + "/api/ask?q=ty+le+ho+ngheo&top_k=1", timeout=10) as response:
        data = json.load(response)
    assert data["found"] is True and len(data["answers"]) == 1 and "1%" in data["answers"][0]["sentence"]


def test_the_page_and_its_files_are_served(server):
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert b'src="/static/app.js"' in body
    for path in ("/static/app.js", "/static/style.css"):
        assert request(server, "GET", path)[0] == 200


def test_healthz(server):
    status, _, body = request(server, "GET", "/healthz")
    health = json.loads(body)
    assert (
        status == 200
        and health == {"status": "ok", "documents": 1, "passages": health["passages"], "version": health["version"]}
        and health["passages"] > 20
    )


def test_refusals_over_http(server):
    assert error_code(post_json(server, {"question": "   "})) == (400, "bad_question")
    assert error_code(post_json(server, {"question": "Chí Linh", "top_k": 0})) == (400, "bad_top_k")
    assert error_code(post_json(server, {"question": "a" * 1001})) == (413, "question_too_long")
    assert error_code(
        request(server, "POST", "/api/ask", b"question=x", {"Content-Type": "application/x-www-form-urlencoded"})
    ) == (415, "unsupported_media_type")
    assert error_code(request(server, "DELETE", "/api/ask")) == (405, "method_not_allowed")
    assert error_code(request(server, "GET", "/api/nothing")) == (404, "not_found")


def test_invalid_utf8_body_is_400(server):
    status = request(
        server, "POST", "/api/ask", b'{"question": "\xff\xfe\xc3\x28"}', {"Content-Type": "application/json"}
    )
    assert error_code(status) == (400, "bad_json")


def test_a_1_mb_body_is_a_json_413(server):
    body = json.dumps({"question": "Chí Linh", "pad": "x" * 1_000_000}).encode()
    assert error_code(request(server, "POST", "/api/ask", body, {"Content-Type": "application/json"})) == (
        413,
        "request_too_large",
    )


def test_a_chunked_body_over_the_limit_is_a_json_413(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        chunks = (b"x" * 4096 for _ in range(MAX_BODY_BYTES // 4096 + 1))  # over the limit, with no Content-Length
        connection.request(
            "POST",
            "/api/ask",
            body=chunks,
            encode_chunked=True,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )
        response = connection.getresponse()
        assert error_code((response.status, dict(response.getheaders()), response.read())) == (413, "request_too_large")
    finally:
        connection.close()


def test_raw_garbage_on_the_socket_is_refused_not_crashed(server):
    """Bytes no client library would send: invalid UTF-8 and control characters in the request line."""
    for raw in (
        b"GET /api/ask?q=\xff\xfe\xc3\x28 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /api/ask?q=a\x01\x7fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"\x00\x01\x02 nonsense\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(raw)
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        status = int(reply.split(b" ", 2)[1])
        assert status in (200, 400), reply[:300]


def test_hostile_questions_over_http(server):
    for question in ("<script>alert(1)</script>", "Chí\x00Linh", "\x1b[2J\x07", "😀" * 300, "\u202e\u200b"):
        status, headers, body = post_json(server, {"question": question})
        assert status in (200, 400) and headers["Content-Type"] == "application/json"
        if status == 200:
            assert json.loads(body)["question"] == question.strip()


def test_concurrent_requests_get_the_same_answers_as_one_at_a_time(server):
    def answer(question: str) -> dict:
        status, _, body = post_json(server, {"question": question, "top_k": 3})
        assert status == 200
        data = json.loads(body)
        data.pop("took_ms")
        return data

    alone = {q: answer(q) for q in QUESTIONS}
    asked = QUESTIONS * 8
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(answer, asked))
    assert together == [alone[q] for q in asked]


def test_nothing_above_reached_the_error_log(server):
    assert request(server, "GET", "/healthz")[0] == 200
    log = server.stderr.read_text()
    assert "Traceback" not in log and "ERROR" not in log and "unexpected error" not in log, log


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_cleanly(default_index_dir, tmp_path, how, start_server):
    running = start_server(default_index_dir, tmp_path)
    assert request(running, "GET", "/healthz")[0] == 200
    assert running.stop(how) == 0
    assert "Traceback" not in running.stderr.read_text() and "Traceback" not in running.stdout.read_text()
    assert running.stdout.read_text().splitlines()[-1] == "Stopped."
    assert running.stdout.read_text().count("Stopped.") == 1  # said by the master, not by every worker
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=2).close()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is pid, from /proc (Linux)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text().rsplit(")", 1)[1].split()[1]
        except OSError:  # it ended meanwhile
            continue
        if parent == str(pid):
            children.append(int(stat.parent.name))
    return children


def test_workers_and_access_log_options(default_index_dir, tmp_path, start_server):
    access_log = tmp_path / "access.log"
    running = start_server(default_index_dir, tmp_path, "--workers", "1", "--access-log", str(access_log))
    try:
        assert request(running, "GET", "/healthz")[0] == 200
        assert [line for line in access_log.read_text().splitlines() if '"GET /healthz HTTP/1.1" 200' in line]
        assert len(children_of(running.process.pid)) == 1  # the one worker process gunicorn's master forked
    finally:
        assert running.stop() == 0


def test_an_access_log_that_cannot_be_written_exits_2(default_index_dir, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "serve",
            "--port",
            "0",
            "--index",
            str(default_index_dir),
            "--access-log",
            str(tmp_path / "missing" / "access.log"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stderr.startswith("qa: cannot write the access log"), result.stderr


TOKEN = "token-for-the-http-test-0123456789"


def asked_everywhere(server, question: str, doc_id: str, within: float = 2.0) -> float:
    """Seconds until every one of 10 answers in a row (spread over the workers) comes from doc_id."""
    started = time.monotonic()
    while time.monotonic() - started < within + 5:
        answers = [
            json.loads(request(server, "GET", "/api/ask?" + urllib.parse.urlencode({"q": question}))[2])
            for _ in range(10)
        ]
        if all(a["answers"] and a["answers"][0]["doc_id"] == doc_id for a in answers):
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"{doc_id} was not answered by every worker within {within + 5} s")


@pytest.mark.parametrize("kind", ["one collection", "3 shards"])
def test_a_collection_changed_while_serving_is_answered_within_two_seconds(tmp_path, start_server, kind):
    from qa import collection, shards

    out = tmp_path / "idx"
    first = tmp_path / "first.jsonl"
    first.write_text(
        json.dumps(
            {"id": "dang", "title": "Đảng bộ", "text": "Đảng bộ thành phố kết nạp 640 đảng viên mới."},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    if kind == "3 shards":  # "dang" goes to shard 0, "xang" and "mua" to shard 1
        shards.build([first], out, 3)
    else:
        collection.add([first], out)
    server = start_server(out, tmp_path, "--workers", "3", env={"QA_ADMIN_TOKEN": TOKEN})
    document = {
        "id": "xang",
        "title": "Giá xăng",
        "text": "Giá xăng RON 95 tăng thêm 500 đồng mỗi lít.",
        "url": "https://example.vn/xang",
        "date": "2023-07-01",
    }
    refused = request(
        server, "POST", "/api/documents", json.dumps(document).encode(), {"Content-Type": "application/json"}
    )
    assert refused[0] == 401
    status, _, body = request(
        server,
        "POST",
        "/api/documents",
        json.dumps(document).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert status == 201, body
    assert asked_everywhere(server, "giá xăng RON 95", "xang") <= 2.0
    later = tmp_path / "later.jsonl"
    later.write_text(
        json.dumps({"id": "mua", "title": "Thời tiết", "text": "Hà Nội mưa to, nhiệt độ 25 độ."}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    assert (
        subprocess.run(
            [sys.executable, "-m", "qa.cli", "index", "add", str(later), "--index", str(out)], capture_output=True
        ).returncode
        == 0
    )
    assert asked_everywhere(server, "Hà Nội mưa nhiệt độ", "mua") <= 2.0
    server.process.send_signal(signal.SIGHUP)  # gunicorn starts new workers: they answer from the newest version
    assert asked_everywhere(server, "Hà Nội mưa nhiệt độ", "mua") <= 2.0
    status, _, body = request(server, "DELETE", "/api/documents/xang", None, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 204
    health = json.loads(request(server, "GET", "/healthz")[2])
    assert health["status"] == "ok" and health["documents"] in (2, 3)
    time.sleep(1.1)  # every worker has looked at the collection since (CHECK_SECONDS)
    for _ in range(10):  # spread over the workers
        listed = json.loads(request(server, "GET", "/api/documents")[2])
        assert sorted(d["id"] for d in listed["documents"]) == ["dang", "mua"]
