"""News pages and Markdown read the way a reader sees them: the test pages in tests/data/pages, in the shapes of
big Vietnamese news sites, mark their boilerplate (data-planted) and their article (data-article), so which
passages come out is checked mechanically (tests/planted.py)."""

from pathlib import Path

import pytest
from planted import PAGES, article_pieces, count, one_line

from qa import index, store
from qa.corpus import Document, passages, read_documents, sentence_spans
from qa.search import Engine

HTML_PAGES = sorted(PAGES.glob("*.html"))
METADATA = {  # what each page's head and byline say
    "vnexpress.html": (
        "Giá một bát phở Hà Nội tăng lên 50.000 đồng",
        "2024-03-12T08:15",
        "Minh Hằng",
        "https://vnexpress.net/gia-mot-bat-pho-ha-noi-tang-len-50-000-dong-4721001.html",
    ),
    "tuoitre.html": (
        "Hà Nội mở thêm 3 tuyến xe buýt điện nối sân bay Nội Bài",
        "2024-03-28T10:15",
        "Phan Tùng Sơn",
        "https://tuoitre.vn/ha-noi-mo-them-3-tuyen-xe-buyt-dien-noi-san-bay-noi-bai-20240328101500123.htm",
    ),
    "thanhnien.html": (
        "TP.HCM công bố chỉ tiêu tuyển sinh lớp 10 năm học 2024-2025",
        "2024-04-02T15:30",
        "Bích Thanh",
        "https://thanhnien.vn/tphcm-cong-bo-chi-tieu-tuyen-sinh-lop-10-185240402153012345.htm",
    ),
    "dantri.html": (
        "Bão số 3 đổ bộ, Quảng Ninh sơ tán hơn 20.000 người",
        "2024-09-07T06:05",
        "Nguyễn Dương",
        "https://dantri.com.vn/xa-hoi/bao-so-3-do-bo-quang-ninh-so-tan-hon-20000-nguoi-20240907060512345.htm",
    ),
    "dangcongsan.html": (
        "Nam Định: Tổng kết 15 năm xây dựng nông thôn mới",
        "2023-11-10",
        "Ngọc Sơn",
        "https://dangcongsan.vn/xay-dung-nong-thon-moi/nam-dinh-tong-ket-15-nam-xay-dung-nong-thon-moi-662311.html",
    ),
}


def read_one(path: Path) -> Document:
    [document] = read_documents([path])
    return document


def texts(path: Path) -> list[str]:
    return [p.text for p in passages(read_one(path))]


@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda p: p.stem)
def test_no_passage_holds_page_boilerplate(page):
    found = texts(page)
    counted = count(page, found)
    assert counted.passages > 0
    assert (counted.boilerplate, counted.glued) == (0, 0)
    assert len(set(found)) == len(found)  # the lead, taken back when trafilatura leaves it out, comes once


@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda p: p.stem)
def test_article_paragraphs_captions_and_tables_come_out(page):
    everything = one_line(" ".join(texts(page))).replace(" | ", " ")
    pieces = article_pieces(page, ("p", "td", "th", "figcaption"))
    assert pieces and [p for p in pieces if p not in everything] == []


@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda p: p.stem)
def test_article_headings_and_list_items_come_out(page):
    everything = one_line(" ".join(texts(page)))
    pieces = article_pieces(page, ("li", "h2", "h3", "h4"))
    assert [p for p in pieces if p not in everything] == []


@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda p: p.stem)
def test_page_metadata_becomes_the_documents(page):
    title, date, author, url = METADATA[page.name]
    document = read_one(page)
    assert (document.title, document.date, document.url) == (title, date, url)
    assert document.text.endswith(f"Tác giả: {author}.")
    assert not any(p == author or p.startswith(title) for p in document.text.split("\n\n"))


def test_lead_above_the_article_is_its_first_passage():
    assert texts(PAGES / "vnexpress.html")[0] == (
        "Nhiều quán phở ở Hà Nội tăng giá bán thêm 5.000-10.000 đồng một bát vì giá thịt bò và gạo tăng."
    )
    assert texts(PAGES / "dangcongsan.html")[0].startswith("(ĐCSVN) - Ngày 10/11, Tỉnh ủy Nam Định")


def test_page_facts_name_the_source_tag_date_and_author():
    assert texts(PAGES / "dangcongsan.html")[-1] == "Bài báo được đăng trên ĐCSVN lúc 10/11/2023. Tác giả: Ngọc Sơn."
    assert (
        texts(PAGES / "dantri.html")[-1]
        == "Bài báo được đăng trên Dân trí lúc 07/09/2024 06:05. Tác giả: Nguyễn Dương."
    )


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_a_heading_opens_its_section_as_a_sentence_of_its_own():
    found = texts(PAGES / "vnexpress.html")
    [section] = [t for t in found if t.startswith("Vì sao giá phở tăng\n")]
    assert sentences(section)[:2] == [
        "Vì sao giá phở tăng",
        "Bà Nguyễn Thị Lan, chủ một quán phở trên phố Hàng Bông, nói chi phí nguyên liệu chiếm gần một nửa giá bán.",
    ]
    bold = texts(PAGES / "dangcongsan.html")  # a paragraph all in bold is a heading too
    assert any(t.startswith("Hạ tầng nông thôn thay đổi rõ nét\nGiai đoạn 2008-2023") for t in bold)


def test_list_items_and_table_rows_are_lines_of_their_own():
    found = texts(PAGES / "vnexpress.html")
    [listed] = [t for t in found if "Thịt bò bắp" in t]
    assert sentences(listed) == [
        "Các quán cho biết những khoản chi phí tăng mạnh nhất gồm:",
        "Thịt bò bắp, tăng từ 260.000 lên 300.000 đồng một kg.",
        "Bánh phở tươi, tăng từ 15.000 lên 18.000 đồng một kg.",
        "Xương bò ninh nước dùng, tăng khoảng 20%.",
    ]
    [table] = [t for t in found if "Phở tái" in t]
    assert table.split("\n") == [
        "Loại phở | Giá cũ (đồng) | Giá mới (đồng)",
        "Phở tái | 45.000 | 50.000",
        "Phở chín | 45.000 | 50.000",
        "Phở đặc biệt | 60.000 | 70.000",
    ]
    assert "Khách xếp hàng chờ mua phở trên phố Bát Đàn, quận Hoàn Kiếm, sáng 10/3. Ảnh: Ngọc Thành" in found


def test_quoted_paragraphs_and_line_breaks_are_lines(tmp_path):
    (tmp_path / "q.html").write_text(
        "<html><head><title>Trích dẫn</title></head><body><article>"
        "<p>Một đoạn văn có nội dung thật sự dài để đọc về kinh tế xã hội của thành phố.</p>"
        "<blockquote><p>Câu trích một của ông Kiên.</p><p>Câu trích hai nói tiếp.</p></blockquote>"
        "<p>Dòng một của địa chỉ<br>Dòng hai của đoạn văn rất dài này.</p></article></body></html>",
        encoding="utf-8",
    )
    assert texts(tmp_path / "q.html") == [
        "Một đoạn văn có nội dung thật sự dài để đọc về kinh tế xã hội của thành phố.",
        "Câu trích một của ông Kiên.\nCâu trích hai nói tiếp.",
        "Dòng một của địa chỉ\nDòng hai của đoạn văn rất dài này.",
    ]


def test_markdown_by_its_structure_and_front_matter():
    document = read_one(PAGES / "pho-bo.md")
    assert (document.title, document.date, document.url) == (
        "Cách nấu phở bò Hà Nội tại nhà",
        "2024-01-20T07:30",
        "https://example.vn/am-thuc/cach-nau-pho-bo-ha-noi",
    )
    found = [p.text for p in passages(document)]
    assert found[0].startswith("Phở bò là món ăn sáng")  # the heading that repeats the title is the title
    assert found[1].split("\n") == [
        "Nguyên liệu",
        "1,5 kg xương ống bò",
        "500 g thịt bò thăn",
        "1 kg bánh phở tươi",
        "Hành tây, gừng, quế, hồi và thảo quả",
    ]
    assert found[2].split("\n")[:2] == [
        "Cách làm",
        "Rửa sạch xương bò, chần qua nước sôi rồi ninh với 4 lít nước trong 6 tiếng.",
    ]
    assert "Mẹo: ninh xương ở lửa nhỏ, không đậy kín nắp, nước dùng sẽ trong và không bị đục." in found
    assert "Thành phần | Lượng cho 4 người\nXương ống bò | 1,5 kg\nBánh phở | 1 kg" in found
    assert found[-1] == "Bài báo được đăng lúc 20/01/2024 07:30. Tác giả: Thu Hà."


@pytest.fixture(scope="module")
def pages_engine(tmp_path_factory) -> Engine:
    directory = tmp_path_factory.mktemp("pages-index")
    index.build([PAGES], directory)
    return Engine(store.load(directory))


def test_questions_about_the_pages_find_the_article_not_its_furniture(pages_engine):
    result = pages_engine.ask("Giá một bát phở tái ở Hà Nội bây giờ là bao nhiêu?", 5)
    assert result.found and result.answers[0].doc_id == "vnexpress"
    assert not any("Chia sẻ" in a.text or "Facebook" in a.text for a in result.answers)
    result = pages_engine.ask("Nguyên liệu nấu phở bò gồm những gì?", 3)
    [heading, *items] = result.answers[0].text.split("\n")
    assert (heading, items[0]) == ("Nguyên liệu", "1,5 kg xương ống bò")  # the heading with its list
    assert result.answers[0].sentence in items  # a line of the list, though the heading holds more of the question


SECTIONS = """# Sổ tay phòng bệnh

## Lịch tiêm vắc xin sởi cho trẻ

Trẻ được tiêm mũi đầu tiên khi tròn 9 tháng tuổi, mũi nhắc lại lúc 18 tháng tuổi.

## Giữ ấm cho trẻ

Mùa đông, con nhỏ nên mặc thêm áo khoác và đội mũ len khi ra đường.
"""


@pytest.mark.parametrize("rebuilt", [False, True], ids=["built", "rebuilt"])
def test_a_heading_is_the_best_sentence_only_when_no_line_of_its_section_matches(tmp_path, rebuilt):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "so-tay.md").write_text(SECTIONS, encoding="utf-8")
    index.build([tmp_path / "docs"], tmp_path / "index")
    if rebuilt:  # the document is unchanged: its passages are taken as they were, headings known still
        index.build([tmp_path / "docs"], tmp_path / "index")
    engine = Engine(store.load(tmp_path / "index"))
    [answer] = engine.ask("Trẻ tiêm vắc xin sởi lúc mấy tháng tuổi?", 1).answers
    assert answer.text.startswith("Lịch tiêm vắc xin sởi cho trẻ\n")
    assert answer.sentence.startswith("Trẻ được tiêm mũi đầu tiên")
    [answer] = engine.ask("Giữ ấm cho trẻ", 1).answers  # no line of the section's text says it
    assert answer.sentence == "Giữ ấm cho trẻ"
