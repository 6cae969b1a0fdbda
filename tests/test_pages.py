"""News pages and Markdown read the way a reader sees them: the test pages in tests/data/pages, in the shapes of
big Vietnamese news sites, mark their boilerplate (data-planted) and their article (data-article), so which
passages come out is checked mechanically (tests/planted.py)."""

import re
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
    "vnexpress-live.html": (  # a live page: entries stamped with their times
        "Trực tiếp: Bão Yagi đổ bộ Quảng Ninh - Hải Phòng",
        "2024-09-07T07:00",
        "Nhóm phóng viên",
        "https://vnexpress.net/truc-tiep-bao-yagi-do-bo-quang-ninh-hai-phong-4788001.html",
    ),
    "dantri-amp.html": (  # AMP: date (in UTC, 08:00Z) and author in JSON-LD only, a bold lead, a caption's bare text
        "Giá xăng giảm lần thứ ba liên tiếp",
        "2024-10-10T15:00",
        "Minh Tuấn",
        "https://dantri.com.vn/kinh-doanh/gia-xang-giam-lan-thu-ba-lien-tiep-20241010150012345.htm",
    ),
    "baodanang-1258.html": (  # Windows-1258, laid out in tables, date in meta article:published_time only, no url
        "Đà Nẵng khánh thành cầu Trần Thị Lý mới",
        "2023-03-29T09:45",
        "Hoàng Hiệp",
        None,
    ),
    "baoquangnam.html": (  # no metadata but the title: the date from the date line under it (by htmldate)
        "Quảng Nam: Sạt lở núi vùi lấp 3 nhà dân ở Nam Trà My",
        "2022-11-02",
        "Văn Phin",
        None,
    ),
}


def read_one(path: Path) -> Document:
    [document] = read_documents([path])
    return document


def texts(path: Path) -> list[str]:
    return [p.text for p in passages(read_one(path))]


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


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


def test_an_article_split_around_an_ad_keeps_both_parts_and_its_headings(tmp_path):
    page = tmp_path / "split.html"  # the Thanh Nien-shaped page (its container unknown to trafilatura), its end
    page.write_text(  # in a second element after an ad: read again, the container must not lose that part
        (PAGES / "thanhnien.html")
        .read_text(encoding="utf-8")
        .replace(
            ' </div>\n <div class="detail__related"',
            ' </div>\n <div class="ads-box"><div class="ad-slot"></div></div>\n <div class="detail-content-more">'
            "<p>Năm ngoái, TP.HCM tuyển 75.800 học sinh lớp 10 công lập, điểm chuẩn cao nhất là 24,25 điểm.</p>"
            '</div>\n <div class="detail__related"',
        ),
        encoding="utf-8",
    )
    found = texts(page)
    assert found[-2] == "Năm ngoái, TP.HCM tuyển 75.800 học sinh lớp 10 công lập, điểm chuẩn cao nhất là 24,25 điểm."
    assert any(t.startswith("Lịch thi và cách đăng ký\n") for t in found)


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


@pytest.mark.parametrize("page", ["dantri-amp.html", "baodanang-1258.html"])
def test_a_lead_in_bold_is_a_paragraph_not_a_heading(page):
    first, second = texts(PAGES / page)[:2]  # a bold line that ends as sentences do is not glued to the next
    assert first.startswith(("Từ 15h chiều nay, giá xăng RON 95", "Sáng 29/3, thành phố Đà Nẵng")) and "\n" not in first
    assert second.startswith(("Liên Bộ Công Thương", "Cầu dài 731 m"))


@pytest.mark.parametrize("time_in", ["div", "p"])
def test_a_live_pages_entries_open_with_their_times(tmp_path, time_in):
    page = tmp_path / "live.html"  # a time in a <p> is one trafilatura keeps: it still opens its entry, once
    page.write_text(
        re.sub(
            r'<div class="time-live">([\d:]+)</div>',
            rf'<{time_in} class="time-live">\1</{time_in}>',
            (PAGES / "vnexpress-live.html").read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    timed = [t for t in texts(page) if t[:1].isdigit()]
    assert [sentences(t)[:1] for t in timed] == [["14:30"], ["12:15"], ["10:00"], ["08:05"]]
    assert sentences(timed[2])[1].startswith("Sân bay Nội Bài, Cát Bi và Vân Đồn tạm đóng cửa")


def test_text_cut_by_two_line_breaks_is_paragraphs():
    found = texts(PAGES / "baoquangnam.html")  # trafilatura's fallback (readability) reads this page
    assert [" ".join(t.split()[:4]) for t in found] == [
        "Mưa lớn nhiều ngày",  # the lead in bold, and the text after it (loose in the element)
        "Chiều 2/11, UBND huyện",
        "Theo chính quyền địa",
        "Huyện Nam Trà My",
        "Từ đầu mùa mưa",
        "Bài báo được đăng",
    ]


def test_a_date_line_above_the_article_is_its_date_not_a_passage(tmp_path):
    (tmp_path / "tin.md").write_text(
        "---\ntitle: Sạt lở ở Nam Trà My\ndate: 2022-11-02\n---\n\nThứ Tư, 02/11/2022 - 16:40\n\n"
        "Chiều 2/11, mưa lớn kéo dài đã gây sạt lở núi tại thôn 2, xã Trà Leng, vùi lấp 3 nhà dân.\n",
        encoding="utf-8",
    )
    document = read_one(tmp_path / "tin.md")
    assert document.date == "2022-11-02T16:40"  # the line gives the time the metadata does not
    assert [p.text for p in passages(document)] == [
        "Chiều 2/11, mưa lớn kéo dài đã gây sạt lở núi tại thôn 2, xã Trà Leng, vùi lấp 3 nhà dân.",
        "Bài báo được đăng lúc 02/11/2022 16:40.",
    ]


def test_a_windows_1258_page_laid_out_in_tables_reads_as_its_article():
    data = (PAGES / "baodanang-1258.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the page is what it says it is
    found = texts(PAGES / "baodanang-1258.html")
    assert "Cầu Trần Thị Lý mới nhìn từ bờ đông sông Hàn. Ảnh: Nguyễn Đông" in found  # the photo's table stays
    assert not any("Trang chủ" in t or "Bản quyền" in t for t in found)  # the layout table's menu and footer


def test_page_facts_name_the_source_tag_date_and_author():
    assert texts(PAGES / "dangcongsan.html")[-1] == "Bài báo được đăng trên ĐCSVN lúc 10/11/2023. Tác giả: Ngọc Sơn."
    assert (
        texts(PAGES / "dantri.html")[-1]
        == "Bài báo được đăng trên Dân trí lúc 07/09/2024 06:05. Tác giả: Nguyễn Dương."
    )


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
    result = pages_engine.ask("Bão đổ bộ vào đâu lúc 14:30?", 3)  # a live page's entry is found by its time too
    assert result.answers[0].text.startswith("14:30\nTâm bão đã vào đất liền Quảng Ninh")
    assert result.answers[0].sentence.startswith("Tâm bão")


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
