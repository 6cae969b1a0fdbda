"""Reading documents: formats, encodings, page residue, passages with offsets."""

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import corpus
from qa.corpus import (
    ID_RULE,
    Document,
    Skipped,
    folded_sentences,
    make_document,
    passages,
    read_documents,
    sentence_spans,
    sentence_spans_in,
)
from qa.index import default_corpus
from qa.text import folded_text


def read(tmp_path: Path, name: str, data: bytes | str) -> list:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return list(read_documents([path]))


@pytest.fixture(scope="module")
def article() -> Document:
    [document] = read_documents([default_corpus()])
    return document


def test_built_in_article_title_and_date_are_metadata(article):
    assert article.title == "Hải Dương: Đảng bộ thành phố đầu tiên sơ kết giữa nhiệm kỳ Đại hội"
    assert article.date == "2023-05-16T19:36"
    assert not article.text.startswith(("Hải Dương:", "Thứ ba"))


def test_built_in_article_page_facts_are_its_last_passage(article):
    assert passages(article)[-1].text == "Bài báo được đăng trên ĐCSVN lúc Thứ ba, 16/05/2023 19:36. Tác giả: Nhóm PV."


def test_page_facts_only_from_what_the_page_shows():
    plain = make_document("d", ["Tiêu đề", "Đoạn một kể chuyện.", "Đoạn hai kể tiếp."], "test")
    assert plain.text == "Đoạn một kể chuyện.\n\nĐoạn hai kể tiếp."
    tagged = make_document(
        "d", ["Tiêu đề", "HÀ NỘI (TTXVN) - Sáng nay trời mưa.", "Đường ngập.", "Minh Anh (TTXVN)"], "test"
    )
    assert tagged.text.split("\n\n")[-1] == "Bài báo được đăng trên TTXVN. Tác giả: Minh Anh (TTXVN)."
    for last in ["Ông Kiên Phát Biểu.", "Ảnh: TTXVN"]:
        assert make_document("d", ["Tiêu đề", "Đoạn một kể chuyện.", last], "test").text.endswith(last)


def test_built_in_article_page_residue_is_dropped(article):
    texts = [p.text for p in passages(article)]
    for residue in ["CÓ THỂ BẠN QUAN TÂM", "Ý kiến bình luận", "Họ và tên", "Email", "Lời bình", "Xác thực"]:
        assert not any(residue in t for t in texts), residue
    assert not any(t.strip() in {"/", "Nhóm PV"} for t in texts)
    assert any("640 đảng viên mới" in t for t in texts)


def test_passages_point_into_the_document_text(article):
    found = passages(article)
    assert len(found) > 10
    assert len({p.id for p in found}) == len(found)
    for passage in found:
        assert article.text[passage.start : passage.end] == passage.text
        assert passage.doc_id == article.id and passage.title == article.title


def test_long_paragraph_is_cut_between_sentences(monkeypatch):
    monkeypatch.setattr(corpus, "MAX_PASSAGE_CHARS", 60)
    text = "Câu thứ nhất nói về kinh tế. Câu thứ hai nói về xã hội. Câu thứ ba nói về quốc phòng."
    document = make_document("d", [text], "test", title="T")
    cut = passages(document)
    assert [p.text for p in cut] == [
        "Câu thứ nhất nói về kinh tế. Câu thứ hai nói về xã hội.",
        "Câu thứ ba nói về quốc phòng.",
    ]


def test_sentences_are_not_cut_at_abbreviations():
    text = "Ông Kiên làm việc tại TP. Chí Linh. Ông sinh năm 1970."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["Ông Kiên làm việc tại TP. Chí Linh.", "Ông sinh năm 1970."]


def test_sentences_are_not_cut_at_initials():
    text = "Biểu đồ dựa trên bài viết của Michael E. Mann và T. T. Tsui. Nó nổi tiếng."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Biểu đồ dựa trên bài viết của Michael E. Mann và T. T. Tsui.",
        "Nó nổi tiếng.",
    ]


def test_folded_sentences_mark_the_breaks_and_keep_the_folded_text():
    text = "Ông Kiên làm việc tại TP. Chí Linh.  \n\n  “Ông sinh năm 1970.” Ông ấy nói!\n"
    marked = folded_sentences(text)
    assert [text[s:e] for s, e in sentence_spans_in(marked)] == [
        "Ông Kiên làm việc tại TP. Chí Linh.",
        "“Ông sinh năm 1970.",
        "Ông ấy nói!",
    ]
    assert marked.replace("\n", " ") == folded_text(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Ông",
                "TP.",
                "Chí",
                "Linh.",
                "năm",
                "1970.",
                "E.",
                "”",
                "“",
                "(",
                "...",
                "!",
                "?",
                "—",
                " ",
                "  ",
                "\n",
                "\n\n",
                "a",
                "B",
            ]
        ),
        max_size=30,
    )
)
def test_sentences_read_from_the_marks_are_those_of_the_text(words):
    text = " ".join(words)
    marked = folded_sentences(text)
    assert sentence_spans_in(marked) == sentence_spans(text)
    assert marked.replace("\n", " ") == folded_text(text)


def test_heading_is_joined_to_its_paragraph():
    document = make_document(
        "d",
        [
            "Tiêu đề bài",
            "Thực hiện hiệu quả các chương trình",
            "",
            "Báo cáo tại Hội nghị, ông Kiên cho biết kết quả tốt.",
        ],
        "test",
    )
    [passage] = passages(document)
    assert passage.text.startswith("Thực hiện hiệu quả các chương trình\nBáo cáo")


def test_markdown(tmp_path):
    [doc] = read(tmp_path, "a.md", "# Tiêu đề bài\n\nĐoạn có [liên kết](http://x) và **chữ đậm** nữa.\n")
    assert doc.title == "Tiêu đề bài" and doc.text == "Đoạn có liên kết và chữ đậm nữa."


def test_html_drops_scripts_navigation_and_forms(tmp_path):
    page = """<html><head><title>Trang</title><script>var x = "mã độc";</script>
    <meta property="article:published_time" content="2023-05-16T19:36:00+07:00"></head>
    <body><nav>Trang chủ | Thời sự</nav><h1>Tin Chí Linh</h1>
    <p>Thu nhập bình quân đạt 87 triệu đồng.</p><p>Tỷ lệ hộ nghèo giảm&nbsp;còn 1%.</p>
    <form>Họ và tên <input> Gửi bình luận</form><footer>Bản quyền</footer></body></html>"""
    [doc] = read(tmp_path, "a.html", page)
    assert doc.title == "Tin Chí Linh" and doc.date == "2023-05-16T19:36"
    assert (
        doc.text == "Thu nhập bình quân đạt 87 triệu đồng.\n\nTỷ lệ hộ nghèo giảm còn 1%.\n\n"
        "Bài báo được đăng lúc 16/05/2023 19:36."
    )


def test_jsonl_records_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "a1", "title": "Bài một", "text": "Nội dung bài một rất dài.", "url": "http://a"}),
        "{not json",
        json.dumps({"id": "a2"}),
        json.dumps({"id": "a3", "title": "Ba", "text": "Đoạn ba có nội dung."}),
        json.dumps({"id": "../a4", "title": "Bốn", "text": "Đoạn bốn có nội dung."}),  # no address would reach it
    ]
    found = read(tmp_path, "a.jsonl", "\n".join(lines))
    docs = [d for d in found if isinstance(d, Document)]
    skipped = [d for d in found if isinstance(d, Skipped)]
    assert [d.id for d in docs] == ["a1", "a3"] and docs[0].url == "http://a"
    assert [s.source.rsplit(":", 1)[1] for s in skipped] == ["2", "3", "5"]
    assert skipped[-1].reason == ID_RULE


def windows_1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows wrote it: letters precomposed, tone marks as separate characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        out.append(
            unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            + "".join(c for c in parts if c in tones)
        )
    return "".join(out).encode("cp1258")


def test_odd_encodings_are_read(tmp_path):
    text = "Tiêu đề\n\nĐảng bộ thành phố Chí Linh kết nạp đảng viên mới.\n"
    for name, data in [
        ("bom.txt", b"\xef\xbb\xbf" + text.encode()),
        ("utf16.txt", text.encode("utf-16")),
        ("cp1258.txt", windows_1258(text)),
    ]:
        [doc] = read(tmp_path, name, data)
        assert doc.text == "Đảng bộ thành phố Chí Linh kết nạp đảng viên mới.", name


def test_undecodable_and_empty_files_are_skipped_by_name(tmp_path):
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bom.txt").write_bytes(b"\xff\xfe\x00\xd8bad")  # a UTF-16 byte order mark, then a lone surrogate
    (tmp_path / "good.txt").write_text("Tiêu đề\n\nMột đoạn văn có nội dung thật.\n", encoding="utf-8")
    found = list(read_documents([tmp_path]))
    skipped = {Path(s.source).name: s.reason for s in found if isinstance(s, Skipped)}
    assert set(skipped) == {"binary.txt", "empty.txt", "bom.txt"}
    assert "UTF-16" in skipped["bom.txt"]
    assert [d.id for d in found if isinstance(d, Document)] == ["good"]
