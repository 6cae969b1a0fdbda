"""The web layer through Flask's test client: /api/ask, its errors, /healthz, headers, the page at /."""

from __future__ import annotations

import io
import json
import logging
from html.parser import HTMLParser

import pytest
from gunicorn.http.errors import InvalidChunkSize
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import shipped
from qa.search import MAX_QUESTION_CHARS, MAX_TOP_K
from qa.server import EXAMPLES, MAX_BODY_BYTES, create_app

RESULT_KEYS = {"question", "found", "answers", "took_ms", "asked"}
ANSWER_KEYS = {
    "rank",
    "passage_id",
    "doc_id",
    "title",
    "text",
    "score",
    "sentence",
    "highlights",
    "short_answer",
    "url",
    "date",
}
INCOME = "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?"


@pytest.fixture(scope="module")
def client(engine):
    app = create_app(engine)
    app.config["TESTING"] = True
    return app.test_client()


def ask(client, body, **kwargs):
    # JSON with \u escapes, as most clients send it: a lone surrogate can be sent that way only.
    return client.post("/api/ask", data=json.dumps(body), content_type="application/json", **kwargs)


def error_of(response) -> tuple[int, str]:
    """(status, error code), after checking the error has exactly the documented JSON shape."""
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return response.status_code, body["error"]["code"]


# --- answers -------------------------------------------------------------------------------------


def test_post_answers_with_exactly_the_result_shape(client):
    response = ask(client, {"question": INCOME, "top_k": 3})
    assert response.status_code == 200 and response.content_type == "application/json"
    data = response.get_json()
    assert set(data) == RESULT_KEYS
    assert data["question"] == INCOME and data["found"] is True and len(data["answers"]) == 3
    for rank, answer in enumerate(data["answers"], start=1):
        assert set(answer) == ANSWER_KEYS and answer["rank"] == rank
        assert answer["sentence"] in answer["text"]
        assert all(0 <= s < e <= len(answer["text"]) for s, e in answer["highlights"])
    assert "87 triệu" in data["answers"][0]["sentence"]


def test_the_body_is_the_engines_result(client, engine):
    data = ask(client, {"question": "ty le ho ngheo", "top_k": 2}).get_json()
    expected = engine.ask("ty le ho ngheo", top_k=2).to_dict()
    data.pop("took_ms"), expected.pop("took_ms")
    assert data == expected


def test_the_api_prints_its_keys_in_the_order_qa_ask_json_does(client, engine):
    """The same answer reads the same on both faces: "question" and "found" first, as documented, not sorted."""
    body = json.loads(ask(client, {"question": INCOME, "top_k": 1}).get_data(as_text=True))
    printed = engine.ask(INCOME, top_k=1).to_dict()
    assert list(body) == list(printed) == ["question", "found", "answers", "took_ms", "asked"]
    assert list(body["answers"][0]) == list(printed["answers"][0])
    assert list(json.loads(client.get("/healthz").get_data(as_text=True)))[0] == "status"


def test_get_and_post_answer_the_same(client):
    by_post = ask(client, {"question": "Ai là Bí thư Thành ủy Chí Linh?", "top_k": 5}).get_json()
    by_get = client.get("/api/ask", query_string={"q": "Ai là Bí thư Thành ủy Chí Linh?", "top_k": "5"}).get_json()
    by_post.pop("took_ms"), by_get.pop("took_ms")
    assert by_post == by_get and len(by_get["answers"]) == 5


def test_top_k_defaults_to_3_for_get_and_post(client):
    assert len(ask(client, {"question": INCOME}).get_json()["answers"]) == 3
    assert len(client.get("/api/ask", query_string={"q": INCOME}).get_json()["answers"]) == 3


@pytest.mark.parametrize("top_k", [1, 2, MAX_TOP_K])
def test_top_k_bounds_are_accepted(client, top_k):
    answers = ask(client, {"question": "Chí Linh", "top_k": top_k}).get_json()["answers"]
    assert 1 <= len(answers) <= top_k and (top_k == MAX_TOP_K or len(answers) == top_k)
    assert len(client.get(f"/api/ask?q=Chí+Linh&top_k={top_k}").get_json()["answers"]) == len(answers)


def test_not_found_is_200_with_found_false(client):
    response = ask(client, {"question": "Giá vàng hôm nay thế nào?"})
    assert response.status_code == 200 and response.get_json()["found"] is False


@pytest.mark.parametrize(
    "question, expected", list(zip(EXAMPLES, ["87 triệu", "640 đảng viên", "Hoàng Quốc Thưởng", "1%"]))
)
def test_the_pages_example_questions_are_answered_well(client, question, expected):
    data = ask(client, {"question": question}).get_json()
    assert data["found"] is True and expected in data["answers"][0]["sentence"]
    assert data["answers"][0]["highlights"]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"top_k": 3},
        {"question": ""},
        {"question": "   "},
        {"question": "\n\t\r "},
        {"question": None},
        {"question": 42},
        {"question": ["Chí Linh"]},
        {"question": {"q": "Chí Linh"}},
        {"question": True},
        {"question": "\ud800 Chí Linh"},
    ],
)  # a lone surrogate is not text
def test_bad_questions_are_400(client, body):
    assert error_of(ask(client, body)) == (400, "bad_question")


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20", "?top_k=3", "?question=Chí+Linh"])
def test_bad_questions_by_get_are_400(client, query):
    assert error_of(client.get("/api/ask" + query)) == (400, "bad_question")


@pytest.mark.parametrize("top_k", [0, -1, MAX_TOP_K + 1, 10**30, "3", 3.0, 2.5, True, False, None, [3], {"n": 3}])
def test_bad_top_k_is_400(client, top_k):
    assert error_of(ask(client, {"question": "Chí Linh", "top_k": top_k})) == (400, "bad_top_k")


@pytest.mark.parametrize("top_k", ["", "abc", "0", "21", "-1", "3.0", "+3", " 3", "3 ", "٣", "0x3", "1e1", "9" * 5000])
def test_bad_top_k_by_get_is_400(client, top_k):
    assert error_of(client.get("/api/ask", query_string={"q": "Chí Linh", "top_k": top_k})) == (400, "bad_top_k")


def test_question_over_1000_characters_is_413(client):
    assert ask(client, {"question": "a" * MAX_QUESTION_CHARS}).status_code == 200
    assert error_of(ask(client, {"question": "á" * (MAX_QUESTION_CHARS + 1)})) == (413, "question_too_long")
    long_get = client.get("/api/ask", query_string={"q": "ạ" * (MAX_QUESTION_CHARS + 1)})
    assert error_of(long_get) == (413, "question_too_long")


def test_over_long_query_string_is_413_before_anything_else(client):
    assert error_of(client.get("/api/ask?q=" + "a" * 20_000)) == (413, "request_too_large")
    assert error_of(client.get("/api/ask?top_k=abc&pad=" + "b" * 20_000)) == (413, "request_too_large")


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 1_000_000])
def test_body_over_64_kib_is_413(client, size):
    padded = json.dumps({"question": "Chí Linh", "pad": "x" * size})
    assert error_of(client.post("/api/ask", data=padded, content_type="application/json")) == (413, "request_too_large")


def test_body_just_under_the_limit_is_read(client):
    body = json.dumps({"question": "Chí Linh", "pad": ""})
    body = body.replace('""', '"' + "x" * (MAX_BODY_BYTES - len(body)) + '"')
    assert len(body.encode()) == MAX_BODY_BYTES
    assert client.post("/api/ask", data=body, content_type="application/json").status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html"],
)
def test_post_that_is_not_json_is_415(client, content_type):
    response = client.post("/api/ask", data='{"question": "Chí Linh"}', content_type=content_type)
    assert error_of(response) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    "data",
    [
        b'{"question": "Chi Linh"',  # cut short
        b"{'question': 'Chi Linh'}",  # Python, not JSON
        b"",
        b'{"question": "\xff\xfe\xfd"}',  # invalid UTF-8
        b"\xc3\x28\xa0\xa1",
        b'["Chi Linh"]',
        b'"Chi Linh"',
        b"42",
        b"null",
        b"true",  # JSON, but not an object
        b"[" * 10_000,  # nesting deep enough to overflow the parser's recursion
        b'{"question": "Chi Linh", "top_k": ' + b"9" * 5000 + b"}",  # an int Python refuses to parse
    ],
)
def test_malformed_json_or_not_an_object_is_400(client, data):
    assert error_of(client.post("/api/ask", data=data, content_type="application/json")) == (400, "bad_json")


@pytest.mark.parametrize("failure", [OSError("the client went away"), InvalidChunkSize(b"zz")])
def test_a_body_that_cannot_be_read_is_400(client, failure):
    """The server's reader fails on a malformed chunked body or a client gone mid-body: a 400, not a 500."""

    class Failing(io.BytesIO):
        def readinto(self, buffer):  # how werkzeug reads the body
            raise failure

    response = client.post(
        "/api/ask", input_stream=Failing(b'{"question": "Chi Linh"}'), content_type="application/json"
    )
    assert error_of(response) == (400, "bad_request")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405_json(client, method):
    response = client.open("/api/ask", method=method, json={"question": "Chí Linh"})
    assert error_of(response) == (405, "method_not_allowed")
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_post_to_healthz_is_405_json(client):
    assert error_of(client.post("/healthz")) == (405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/api/", "/api/nope", "/api/ask/extra", "/api"])
def test_unknown_api_path_is_404_json(client, path):
    assert error_of(client.get(path)) == (404, "not_found")


def test_unexpected_errors_are_a_logged_json_500(caplog, engine, monkeypatch):
    def broken(question, top_k=3, filters=None, history=()):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine, "ask", broken)
    with caplog.at_level(logging.ERROR, logger="qa.server"):
        response = create_app(engine).test_client().post("/api/ask", json={"question": "Chí Linh"})
    assert error_of(response) == (500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert any(
        "secret internals" in r.getMessage() or (r.exc_info and "secret internals" in str(r.exc_info[1]))
        for r in caplog.records
    )


# --- hostile input: answered or refused, never a 500 ---------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "Chí\x00Linh",
    "\x00",
    "\x01\x02\x03\x1b[31mred\x7f",
    "Chí Linh\u202e\u200b\ufeff",
    "😀 thu nhập 2022",
    "' OR 1=1 --",
    "{{7*7}} ${7*7}",
    "../../etc/passwd",
    "\r\n\r\nHTTP/1.1 200 OK",
    "ty le ho ngheo" * 70,  # under the limit, but long
]


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_questions_are_answered_as_plain_json(client, question):
    for response in (ask(client, {"question": question}), client.get("/api/ask", query_string={"q": question})):
        assert response.status_code in (200, 400), response.get_data()
        assert response.content_type == "application/json"
        if response.status_code == 200:
            assert response.get_json()["question"] == question.strip()


def test_script_in_the_question_comes_back_as_a_json_string_not_markup(client):
    response = ask(client, {"question": "<script>alert(1)</script>"})
    assert response.content_type == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["question"] == "<script>alert(1)</script>"


def test_raw_invalid_utf8_in_the_query_string_is_not_a_500(client):
    assert error_of(client.get("/api/ask?q=%FF%FE%C3%28&top_k=%FF")) == (400, "bad_top_k")
    assert client.get("/api/ask?q=%FF%FE%C3%28").status_code == 200


@settings(max_examples=60, deadline=None)
@given(question=st.text(max_size=300), top_k=st.one_of(st.integers(-5, 30), st.none(), st.text(max_size=3)))
def test_any_text_is_answered_or_refused_in_json(client, question, top_k):
    body = {"question": question} if top_k is None else {"question": question, "top_k": top_k}
    response = ask(client, body)
    assert response.status_code in (200, 400, 413)
    assert response.content_type == "application/json"


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000))
def test_any_bytes_are_answered_or_refused_in_json(client, data):
    response = client.post("/api/ask", data=data, content_type="application/json")
    assert response.status_code in (200, 400, 413)
    assert response.content_type == "application/json"


# --- /healthz and headers ------------------------------------------------------------------------


def test_healthz_reports_the_index(client, engine):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content_type == "application/json"
    assert response.get_json() == {"status": "ok", **engine.stats, "version": engine.index.version}
    assert response.get_json()["passages"] > 0


@pytest.mark.parametrize("path", ["/", "/api/ask?q=Chí+Linh", "/api/ask", "/healthz", "/static/app.js", "/api/nope"])
def test_every_response_has_nosniff_and_csp(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = _policy(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]


def _policy(header: str) -> dict[str, list[str]]:
    directives = (d.split() for d in header.split(";") if d.strip())
    return {d[0]: d[1:] for d in directives}


def test_static_files_have_their_types(client):
    assert client.get("/static/app.js").content_type.startswith("text/javascript")
    assert client.get("/static/style.css").content_type.startswith("text/css")


# --- the page ------------------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in and data.strip():
            self.inline_code.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def page(client) -> Elements:
    response = client.get("/")
    assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8"
    parsed = Elements()
    parsed.feed(response.get_data(as_text=True))
    return parsed


def test_the_page_is_in_vietnamese_with_a_chat_and_a_labelled_question_box(page):
    assert page.find("html", lang="vi")
    assert page.find("form", id="ask-form")
    assert page.find("textarea", id="question", maxlength=str(MAX_QUESTION_CHARS))
    assert page.find("label", for_="question")
    assert page.find("button", type="submit")
    assert page.find("ol", id="conversation", role="log", **{"aria-live": "polite"})
    assert page.find("meta", name="viewport")


def test_the_page_offers_the_example_questions(page):
    assert [b["data-question"] for b in page.find("button", class_="example")] == list(EXAMPLES)


def test_the_page_uses_only_its_own_files_and_no_inline_code(client, page):
    urls = [a.get("src") or a.get("href") for _, a in page.tags if a.get("src") or a.get("href")]
    assert "/static/app.js" in urls and "/static/style.css" in urls
    for url in urls:
        assert url.startswith(("/static/", "#")) or url == "/documents", url
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url
    assert not page.inline_code and not page.find("style")
    assert all(a.get("src") for a in page.find("script"))
    for tag, attributes in page.tags:
        assert "style" not in attributes, tag
        assert not [name for name in attributes if name.startswith("on")], tag


def test_the_script_never_writes_html():
    script = (shipped("web", "web") / "static" / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


def test_the_page_loads_nothing_from_elsewhere():
    static = shipped("web", "web") / "static"
    for path in [*static.iterdir(), *(shipped("web", "web") / "templates").iterdir()]:
        text = path.read_text()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, path
        assert "@import" not in text and "url(" not in text, path


# --- the short answer -----------------------------------------------------------------------------------------


def test_the_top_answer_carries_the_short_answer(client):
    for response in (
        ask(client, {"question": "Ai là Bí thư Thành ủy Chí Linh?"}),
        client.get("/api/ask", query_string={"q": "ai la bi thu thanh uy chi linh"}),
    ):
        top, *others = response.get_json()["answers"]
        assert top["short_answer"]["text"] == "Hoàng Quốc Thưởng"
        assert top["text"][top["short_answer"]["start"] : top["short_answer"]["end"]] == "Hoàng Quốc Thưởng"
        assert all(a["short_answer"] is None for a in others)


def test_a_question_asking_for_no_span_gets_a_null_short_answer(client):
    data = ask(client, {"question": "Kinh tế phát triển như thế nào?"}).get_json()
    assert data["answers"] and all(a["short_answer"] is None for a in data["answers"])


# --- history: the earlier questions of a conversation --------------------------------------------

SPEAKER = "Ai phát biểu chỉ đạo tại hội nghị?"


def test_a_follow_up_is_answered_in_its_historys_context(client):
    alone = ask(client, {"question": "Ông ấy giữ chức vụ gì?"}).get_json()
    followed = ask(client, {"question": "Ông ấy giữ chức vụ gì?", "history": [SPEAKER]}).get_json()
    # "Ông ấy" stands for whom the earlier question was answered with, and the short answer is his office.
    assert followed["question"] == "Ông ấy giữ chức vụ gì?"
    assert followed["asked"] == "Lê Văn Hiệu giữ chức vụ gì?"  # as understood, not the text searched for
    assert followed["found"] and not alone["found"]
    assert "Lê Văn Hiệu" in followed["answers"][0]["text"]
    assert followed["answers"][0]["short_answer"]["text"] == "Phó Bí thư Thường trực Tỉnh ủy"
    assert alone["asked"] is None and "Lê Văn Hiệu" not in alone["answers"][0]["text"]


def test_a_follow_up_the_context_does_not_answer_is_not_found(client):
    followed = ask(client, {"question": "Còn năm 2021?", "history": [INCOME]}).get_json()
    assert followed["asked"] == f"Còn năm 2021? (tiếp câu hỏi: {INCOME})"
    assert not followed["found"]  # the article gives 2022's income only


def test_a_question_that_stands_alone_is_asked_alone_whatever_the_history(client):
    alone = ask(client, {"question": INCOME}).get_json()
    followed = ask(client, {"question": INCOME, "history": [SPEAKER, "Ông ấy giữ chức vụ gì?"]}).get_json()
    assert followed["asked"] is None
    assert [a["passage_id"] for a in followed["answers"]] == [a["passage_id"] for a in alone["answers"]]


def test_the_longest_history_of_the_longest_questions_is_accepted(client):
    history = ["ả" * MAX_QUESTION_CHARS] * 5
    assert ask(client, {"question": "Ở đâu?", "history": history}).status_code == 200
    assert ask(client, {"question": "Ở đâu?", "history": []}).status_code == 200


@pytest.mark.parametrize(
    "history",
    [
        "Chí Linh",
        {"q": "Chí Linh"},
        3,
        True,
        None,
        [None],
        [3],
        [["Chí Linh"]],
        [{"q": "Chí Linh"}],
        ["a"] * 6,
        ["á" * (MAX_QUESTION_CHARS + 1)],
        ["\ud800 Chí Linh"],
        ["Chí Linh", "\udfff"],
    ],
)
def test_bad_history_is_400(client, history):
    assert error_of(ask(client, {"question": "Ở đâu?", "history": history})) == (400, "bad_history")


def test_history_by_get_is_refused(client):
    response = client.get("/api/ask", query_string={"q": "Ở đâu?", "history": SPEAKER})
    assert error_of(response) == (400, "bad_history")


@settings(max_examples=60, deadline=None)
@given(
    history=st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50)),
        lambda inner: st.one_of(st.lists(inner, max_size=7), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=12,
    )
)
def test_any_history_is_answered_or_refused_in_json(client, history):
    response = ask(client, {"question": "Còn năm 2021?", "history": history})
    assert response.status_code in (200, 400)
    assert response.content_type == "application/json"
