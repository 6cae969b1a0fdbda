"""The chat page in a real browser (headless Chromium through Playwright) against `qa serve`."""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real server or browser per test

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The newest reply, once its request has finished.
LAST_ANSWER = ".conversation > li.message.bot:last-child > .bubble:not([aria-busy])"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium (never `playwright install`: no downloads here). Missing is a failure on CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(default_index_dir, tmp_path_factory, start_server):
    running = start_server(default_index_dir, tmp_path_factory.mktemp("serve-browser"))
    yield running
    running.stop()


@pytest.fixture
def open_page(browser, server):
    """Open the chat page at a given width; afterwards, check nothing failed, was blocked or came from elsewhere."""
    contexts, problems, foreign, broken = [], [], [], []

    def opener(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
        contexts.append(context)
        page = context.new_page()
        # API refusals (4xx) are part of the conversation; Chromium also logs them as console errors.
        page.on(
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: broken.append(f"{r.status} {r.url}") if r.status >= 400 and "/api/" not in r.url else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(server.url) else foreign.append(r.url))
        page.goto(server.url + "/")
        page.wait_for_load_state("load")
        return page

    yield opener
    for context in contexts:
        context.close()
    assert not problems, problems  # script errors and CSP violations land here
    assert not foreign, foreign
    assert not broken, broken


def last_answer(page):
    page.wait_for_selector(LAST_ANSWER, timeout=10_000)
    return page.locator(LAST_ANSWER)


def test_type_a_question_and_press_enter(open_page):
    page = open_page()
    page.locator("#question").click()
    page.keyboard.type("Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?")
    page.keyboard.press("Enter")
    answer = last_answer(page)
    sentence = answer.locator(".answer .sentence").first
    assert "87 triệu đồng" in sentence.inner_text()
    marks = sentence.locator("mark").all_inner_texts()
    assert marks and any("Thu nhập bình quân đầu người" in m for m in marks)
    assert "Nguồn:" in answer.locator(".source").first.inner_text()
    assert (
        page.locator(".message.user .bubble").last.inner_text()
        == "Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?"
    )
    assert page.locator("#question").input_value() == ""


def test_the_whole_passage_opens_highlighted(open_page):
    page = open_page()
    page.locator("#question").fill("ty le ho ngheo")
    page.locator("#question").press("Enter")
    answer = last_answer(page)
    passage = answer.locator(".answer .passage-text").first
    assert not passage.is_visible()
    answer.locator(".answer summary").first.click()
    assert passage.is_visible()
    assert "Thu nhập bình quân đầu người năm 2022" in passage.inner_text()
    assert "Tỷ lệ hộ nghèo" in passage.locator("mark").all_inner_texts()


def test_clicking_an_example_asks_it(open_page):
    page = open_page()
    page.get_by_role("button", name="Đảng bộ thành phố đã kết nạp bao nhiêu đảng viên mới?").click()
    answer = last_answer(page)
    assert "640 đảng viên" in answer.locator(".answer .sentence").first.inner_text()


def test_a_question_without_an_answer_says_so(open_page):
    page = open_page()
    page.locator("#question").fill("Giá vàng hôm nay thế nào?")
    page.locator("#send").click()
    answer = last_answer(page)
    assert "Không tìm thấy câu trả lời" in answer.inner_text()
    closest = answer.locator("details.closest")
    assert "không chắc chắn" in closest.locator(":scope > summary").inner_text()
    closest.locator(":scope > summary").click()
    assert closest.locator(".answer").count() >= 1


def test_a_refused_question_shows_the_servers_error(open_page):
    page = open_page()
    box = page.locator("#question")
    box.evaluate("box => box.removeAttribute('maxlength')")  # what a pasted or scripted question can do
    box.fill("a" * 1200)
    box.press("Enter")
    answer = last_answer(page)
    assert "error" in answer.get_attribute("class")
    assert "quá dài" in answer.inner_text() and "413" in answer.inner_text()


def test_markup_in_a_question_stays_text(open_page):
    page = open_page()
    question = '<img src=x onerror="window.hacked=1"><b>Chí Linh</b>'
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    last_answer(page)
    assert page.locator(".conversation img, .conversation b").count() == 0
    assert page.locator(".message.user .bubble").last.inner_text() == question
    assert page.evaluate("window.hacked") is None


def test_keyboard_only(open_page):
    page = open_page()
    for _ in range(12):  # skip link, the example buttons, then the box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    assert page.evaluate("document.activeElement.id") == "question"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.type("Ai là Bí thư Thành ủy Chí Linh?")
    page.keyboard.press("Enter")
    assert "Hoàng Quốc Thưởng" in last_answer(page).locator(".answer .sentence").first.inner_text()
    # The answer arrives inside the live region, so a screen reader reads it out.
    assert page.locator("[aria-live=polite] .answer").count() >= 1
    # An example question can be asked from the keyboard too.
    page.locator("button.example").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.message.bot .answer .sentence').length >= 2")


def test_skip_link_goes_to_the_question_box(open_page):
    page = open_page()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "question"


def test_no_horizontal_scroll_at_360_px(open_page):
    page = open_page(width=360, height=740)
    no_scroll = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(no_scroll)
    page.locator("#question").fill("Đảng bộ thành phố đã kết nạp bao nhiêu đảng viên mới?")
    page.locator("#question").press("Enter")
    answer = last_answer(page)
    for summary in answer.locator("summary").all():
        summary.click()
    page.locator("#question").fill("x" * 300)  # one unbreakable word
    page.locator("#question").press("Enter")
    last_answer(page)
    assert page.evaluate(no_scroll)
    box = page.locator("#question").bounding_box()
    send = page.locator("#send").bounding_box()
    assert box["x"] >= 0 and send["x"] + send["width"] <= 360


def test_highlights_count_code_points_and_are_clipped_to_the_sentence(open_page):
    """The API's offsets are Python string offsets (code points); an emoji is two UTF-16 units in JS."""
    text = "😀 Một câu mở đầu. Câu hai có từ khóa ở đây."
    sentence = "Câu hai có từ khóa ở đây."
    start = text.index("từ khóa")
    highlights = [[2, 5], [text.index("đầu"), text.index("Câu hai") + 3], [start, start + 7], "junk", [40]]
    answer = {
        "rank": 1,
        "passage_id": "d#0",
        "doc_id": "d",
        "title": "<b>Tiêu đề</b>",
        "text": text,
        "score": 1.5,
        "sentence": sentence,
        "highlights": highlights,
    }
    result = {"question": "từ khóa", "found": True, "answers": [answer], "took_ms": 1.0}
    page = open_page()
    page.route(
        "**/api/ask", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(result))
    )
    page.locator("#question").fill("từ khóa")
    page.locator("#question").press("Enter")
    card = last_answer(page).locator(".answer")
    assert card.locator(".sentence").inner_text() == sentence
    # The span that straddles the sentence start is cut at it; the one before the sentence is left out.
    assert card.locator(".sentence mark").all_inner_texts() == ["Câu", "từ khóa"]
    assert card.locator(".passage-text mark").all_text_contents() == ["Một", "đầu. Câu", "từ khóa"]
    assert card.locator(".passage-text").text_content() == text
    assert card.locator("cite").inner_text() == "<b>Tiêu đề</b>"


def test_the_answer_itself_comes_first_and_large(open_page):
    page = open_page(width=360, height=740)
    page.locator("#question").fill("Ai là Bí thư Thành ủy Chí Linh?")
    page.locator("#question").press("Enter")
    card = last_answer(page).locator(".answer").first
    short = card.locator(".short-answer")
    assert short.inner_text() == "Hoàng Quốc Thưởng"
    first = card.evaluate("card => card.firstElementChild.className")
    assert first == "short-answer"
    short_size, sentence_size = (
        card.locator(s).evaluate("n => parseFloat(getComputedStyle(n).fontSize)")
        for s in (".short-answer", ".sentence")
    )
    assert short_size > 1.3 * sentence_size
    assert "Hoàng Quốc Thưởng" in card.locator(".sentence").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_an_answer_without_a_short_answer_opens_with_its_sentence(open_page):
    page = open_page()
    page.locator("#question").fill("ty le ho ngheo")
    page.locator("#question").press("Enter")
    card = last_answer(page).locator(".answer").first
    assert card.locator(".short-answer").count() == 0
    assert card.evaluate("card => card.firstElementChild.className") == "sentence"


ADMIN_TOKEN = "browser-test-admin-token-0123"


@pytest.fixture(scope="module")
def managed(tmp_path_factory, start_server):
    """A server of a collection of one document, with an admin token."""
    from qa import collection

    folder = tmp_path_factory.mktemp("managed")
    source = folder / "first.jsonl"
    source.write_text(
        json.dumps(
            {
                "id": "dang-vien",
                "title": "Đảng bộ kết nạp đảng viên",
                "date": "2023-05-16",
                "text": "Đảng bộ thành phố kết nạp 640 đảng viên mới trong năm.",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    collection.add([source], folder / "idx")
    running = start_server(folder / "idx", folder, env={"QA_ADMIN_TOKEN": ADMIN_TOKEN})
    yield running
    running.stop()


def test_the_documents_page_lists_adds_and_removes_and_the_chat_answers_the_added_one(browser, managed):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(managed.url + "/documents")
    rows = page.locator("#documents tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and "Đảng bộ kết nạp đảng viên" in rows.first.inner_text()
    assert "2023-05-16" in rows.first.inner_text()
    page.fill("#token", ADMIN_TOKEN)
    page.fill("#doc-title", "Giá xăng tăng")
    page.fill("#doc-date", "2023-07-01")
    page.fill("#doc-url", "https://example.vn/gia-xang")
    page.fill("#doc-text", "Giá xăng RON 95 tăng thêm 500 đồng mỗi lít từ chiều nay.")
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector("#documents tbody tr[data-id='gia-xang-tang']", timeout=10_000)  # the list, reloaded
    assert rows.count() == 2
    assert "Đã thêm: gia-xang-tang" in page.inner_text("#admin-status")
    assert page.evaluate("sessionStorage.getItem('qa-admin-token')") == ADMIN_TOKEN
    assert page.get_attribute("#documents tbody tr[data-id='gia-xang-tang'] a", "href") == "https://example.vn/gia-xang"

    # Every worker answers from the new version within 2 s of the 201 (each looks at most once a second).
    deadline = time.monotonic() + 2.5
    query = urllib.parse.urlencode({"q": "Giá xăng RON 95 tăng bao nhiêu?"})
    answered = 0
    while answered < 6:  # six answers in a row from it: every worker has moved
        answers = json.loads(urllib.request.urlopen(f"{managed.url}/api/ask?{query}").read())["answers"]
        answered = answered + 1 if answers and answers[0]["doc_id"] == "gia-xang-tang" else 0
        assert time.monotonic() < deadline
        time.sleep(0.05)
    chat = context.new_page()
    chat.on("pageerror", lambda e: errors.append(str(e)))
    chat.goto(managed.url + "/")
    chat.fill("#question", "Giá xăng RON 95 tăng bao nhiêu?")
    chat.keyboard.press("Enter")
    answer = last_answer(chat)
    assert "500 đồng" in answer.inner_text() and "2023-07-01" in answer.inner_text()
    assert answer.locator(".source a").get_attribute("href") == "https://example.vn/gia-xang"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#documents tbody tr[data-id='gia-xang-tang'] button.remove")
    page.wait_for_selector("#documents tbody tr[data-id='gia-xang-tang']", state="detached", timeout=10_000)
    page.wait_for_selector("#documents tbody tr[data-id='dang-vien']")  # the list, reloaded
    assert rows.count() == 1
    assert "Đã xóa: gia-xang-tang" in page.inner_text("#admin-status")
    context.close()
    assert not errors, errors


def test_without_a_token_configured_no_admin_control_is_shown(open_page, server):
    page = open_page()
    page.goto(server.url + "/documents")
    page.locator("#documents tbody tr").first.wait_for()
    assert page.locator("#admin").count() == 0 and page.locator("button.remove").count() == 0


def test_a_follow_up_is_answered_in_the_conversations_context_until_a_new_one(open_page):
    page = open_page(width=360, height=740)
    page.locator("#question").fill("Ai phát biểu chỉ đạo tại hội nghị?")
    page.locator("#question").press("Enter")
    last_answer(page)
    page.locator("#question").fill("Ông ấy giữ chức vụ gì?")
    page.locator("#question").press("Enter")
    followed = last_answer(page)
    assert followed.locator(".asked").inner_text() == "Hiểu là: Lê Văn Hiệu giữ chức vụ gì?"
    assert followed.locator(".answer .short-answer").first.inner_text() == "Phó Bí thư Thường trực Tỉnh ủy"
    assert followed.locator(".lead").count() == 0
    assert "Lê Văn Hiệu" in followed.locator(".answer .passage-text").first.text_content()
    new = page.get_by_role("button", name="Cuộc trò chuyện mới")
    assert new.bounding_box()["x"] + new.bounding_box()["width"] <= 360
    new.click()
    assert page.locator(".conversation > li").count() == 0
    page.locator("#question").fill("Ông ấy giữ chức vụ gì?")
    page.locator("#question").press("Enter")
    alone = last_answer(page)
    assert alone.locator(".asked").count() == 0
    assert "Lê Văn Hiệu" not in alone.locator(".answer .passage-text").first.text_content()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


# The WCAG contrast ratio of an element's text against the nearest background behind it that is not transparent.
CONTRAST = """node => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  let back = node;
  while (back && rgb(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
  const fore = luminance(rgb(getComputedStyle(node).color));
  const behind = luminance(rgb(getComputedStyle(back).backgroundColor));
  return (Math.max(fore, behind) + 0.05) / (Math.min(fore, behind) + 0.05);
}"""


def test_both_pages_are_readable_and_usable_on_a_phone(browser, managed):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.goto(managed.url + "/")
    # The link to the documents, and back, in the coloured header: readable (WCAG AA, 4.5:1), not the default blue.
    assert page.locator(".site-header a").evaluate(CONTRAST) >= 4.5
    page.goto(managed.url + "/documents")
    page.locator("#documents tbody tr").first.wait_for()
    assert page.locator(".site-header a").evaluate(CONTRAST) >= 4.5
    # The title has the room: wider than the date beside it.
    title, date = (page.locator(f"#documents tbody tr td.{c}").first.bounding_box()["width"] for c in ("title", "date"))
    assert title > 1.3 * date
    assert page.locator("#documents tbody tr td.date").first.inner_text().split()[0] == "2023-05-16"  # the day whole
    # "Xóa" on one line, not a letter per line, and a target a thumb can hit.
    remove = page.locator("button.remove").first.bounding_box()
    assert remove["width"] > remove["height"] and remove["height"] >= 32
    # The admin's fields in the page's own type size (a phone zooms into anything under 16 px) and full width.
    for field in ("#token", "#doc-title", "#doc-text"):
        assert page.locator(field).evaluate("n => parseFloat(getComputedStyle(n).fontSize)") >= 16
        assert page.locator(field).bounding_box()["height"] >= 32
    assert page.locator("#paste-form button[type=submit]").bounding_box()["height"] >= 32
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    context.close()


def test_the_question_box_has_the_room_on_a_phone(open_page):
    """At 360 px the box takes most of the width (its placeholder on one line); "Cuộc trò chuyện mới" stays in
    reach, overlapping nothing, after the box and "Gửi" in the keyboard's order."""
    page = open_page(width=360, height=740)
    box, send, new = (page.locator(s).bounding_box() for s in ("#question", "#send", "#new-conversation"))
    assert box["width"] >= 0.6 * 360
    placeholder = page.locator("#question").evaluate(
        "n => { const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(n).font;"
        " return c.measureText(n.placeholder).width; }"
    )
    assert placeholder < box["width"] - 24  # one line, inside its padding
    assert new["x"] >= 0 and new["x"] + new["width"] <= 360 and new["height"] >= 24

    def apart(a, b):
        return (
            a["x"] + a["width"] <= b["x"]
            or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"]
            or b["y"] + b["height"] <= a["y"]
        )

    assert apart(new, box) and apart(new, send)
    page.locator("#question").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "new-conversation"


def test_the_admin_is_told_what_went_wrong_in_vietnamese_and_a_pasted_article_is_cleared_once_added(browser, managed):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN").new_page()
    page.goto(managed.url + "/documents")
    page.locator("#documents tbody tr").first.wait_for()
    page.fill("#token", "not-the-token")
    page.fill("#doc-title", "Học phí tăng")
    page.fill("#doc-text", "Học phí đại học công lập tăng từ năm học 2024-2025.")
    page.click("#paste-form button[type=submit]")
    status = page.locator("#admin-status")
    page.wait_for_function("s => !s.textContent.startsWith('Đang')", arg=status.element_handle())
    assert "Mã quản trị không đúng" in status.inner_text()
    assert page.input_value("#doc-title") == "Học phí tăng"  # kept, to send again with the right token
    page.fill("#token", ADMIN_TOKEN)
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector("#documents tbody tr[data-id='hoc-phi-tang']", timeout=10_000)
    assert page.input_value("#doc-title") == "" and page.input_value("#doc-text") == ""
    page.once("dialog", lambda dialog: dialog.accept())
    page.focus("#documents tbody tr[data-id='hoc-phi-tang'] button.remove")
    page.keyboard.press("Enter")  # from the keyboard: the focus is not lost with the row
    page.wait_for_selector("#documents tbody tr[data-id='hoc-phi-tang']", state="detached", timeout=10_000)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'admin-status'")
    assert "Đã xóa" in page.inner_text("#admin-status")
    page.context.close()


def test_a_collection_out_of_service_is_said_in_vietnamese(open_page):
    page = open_page()
    refusal = {"error": {"code": "index_unavailable", "message": "texts.bin changed under the server"}}
    page.route(
        "**/api/ask", lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(refusal))
    )
    page.locator("#question").fill("Ai là Bí thư Thành ủy Chí Linh?")
    page.locator("#question").press("Enter")
    answer = last_answer(page)
    assert "Bộ tài liệu tạm thời không dùng được" in answer.locator(".error-message").inner_text()


def test_a_passage_of_one_sentence_is_not_offered_again(open_page):
    """As qa ask prints no "Đoạn:" line when the passage is its best sentence, the page offers no "Xem cả đoạn văn"."""
    text = "Trận đấu có khoảng 40.000 khán giả theo dõi."
    one = {"rank": 1, "passage_id": "d#0", "doc_id": "d", "title": "Bóng đá", "text": text, "score": 9.5}
    two = dict(one, rank=2, passage_id="d#1", text=text + " Sân Mỹ Đình kín chỗ.")
    result = {
        "question": "khán giả",
        "found": True,
        "answers": [dict(one, sentence=text, highlights=[]), dict(two, sentence=text, highlights=[])],
        "took_ms": 1.0,
        "asked": None,
    }
    page = open_page()
    page.route(
        "**/api/ask", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(result))
    )
    page.locator("#question").fill("khán giả")
    page.locator("#question").press("Enter")
    answer = last_answer(page)
    assert answer.locator(".answer").first.locator("details.passage").count() == 0
    assert answer.locator(".others .answer details.passage").count() == 1
