"""The answer itself: the answer type a question asks for, the span chosen, and the span through every face."""

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.cli import main
from qa.short_answer import AnswerType, asked_for, asked_in_context, candidate_spans, confidence_of, short_answer

WHO = "Ai là Bí thư Thành ủy Chí Linh?"
# The article's own sentence (index/corpus, the caption under its closing speech).
SAID = "Bí thư Thành ủy Chí Linh Hoàng Quốc Thưởng phát biểu kết luận tại hội nghị."


def spans(text: str, *words: str) -> list[list[int]]:
    """Highlights as the engine gives them: [start, end) of each matched word in text."""
    return [[text.index(w), text.index(w) + len(w)] for w in words]


@pytest.mark.parametrize(
    "question, kind",
    [
        (WHO, AnswerType.PERSON),
        ("ai la bi thu thanh uy chi linh", AnswerType.PERSON),
        ("Người nào phát biểu kết luận?", AnswerType.PERSON),
        ("Thu ngân sách đạt bao nhiêu?", AnswerType.NUMBER),
        ("Có mấy chương trình?", AnswerType.NUMBER),
        ("thu ngan sach dat bao nhieu", AnswerType.NUMBER),
        ("Hội nghị diễn ra khi nào?", AnswerType.TIME),
        ("Tesla sinh năm nào?", AnswerType.TIME),
        ("Ngày nào hội nghị diễn ra?", AnswerType.TIME),
        ("Bao giờ hoàn thành?", AnswerType.TIME),
        ("Chí Linh ở đâu?", AnswerType.PLACE),
        ("Chí Linh thuộc tỉnh nào?", AnswerType.PLACE),
        ("Công ty nào khôi phục các băng gốc?", AnswerType.NAME),
        ("Dịch vụ được đổi tên thành gì?", AnswerType.NAME),
        ("Lê Văn Hiệu giữ chức vụ gì?", AnswerType.TITLE),
        ("Chức vụ của ông Nguyễn Văn Kiên là gì?", AnswerType.TITLE),
        ("ong kien giu chuc gi", AnswerType.TITLE),
        ("Tổ chức nào có quyền sửa đổi luật?", AnswerType.NAME),
        ("Bà Nguyễn Thị Ngọc Bích là ai?", AnswerType.TITLE),  # who someone named is: their office
        ("Tổng Giám đốc của Broncos là ai?", AnswerType.PERSON),  # an office named: who holds it
        ("Trước Manning, ai là thủ quân lớn tuổi nhất?", AnswerType.PERSON),
        ("Tên của thầy tâm linh trong Ấn Độ giáo là gì?", AnswerType.NAME),
        ("Lông mao dùng để làm gì?", AnswerType.THING),
        ("Các xúc tu nhỏ được gọi là cái gì?", AnswerType.THING),
    ],
)
def test_the_question_words_say_what_is_asked_for(question, kind):
    assert asked_for(question).kind is kind


@pytest.mark.parametrize(
    "question", ["Kinh tế phát triển như thế nào?", "Tại sao thu ngân sách tăng?", "Chí Linh", "thu nhap binh quan"]
)
def test_how_why_and_statements_ask_for_no_span(question):
    assert asked_for(question) is None


def test_bao_nhieu_gives_the_unit_counted_in():
    assert asked_for("Có bao nhiêu tấn carbon được hấp thụ?").unit == ("tan", "carbon")


def test_a_name_is_cut_from_the_words_the_question_repeats():
    text = "Tiêu đề. " + SAID
    found = short_answer(WHO, text, SAID, spans(text, "Bí thư Thành ủy Chí Linh"))
    assert found == {"text": "Hoàng Quốc Thưởng", "start": text.index("Hoàng"), "end": text.index(" phát")}


def test_with_marks_a_word_repeats_the_question_only_as_written():
    text = "Bí thư chi bộ đồng thời giữ chức danh trưởng thôn Chí Linh."
    matched = spans(text, "Bí thư chi bộ đồng thời giữ chức danh")
    found = short_answer("Bí thư chi bộ đồng thời giữ chức danh nào?", text, text, matched)
    assert found["text"] == "Chí Linh"  # "Chí" is not the question's "chi"


def confidence(question: str, text: str, answer: str, *matched: str) -> float:
    """The scorer's confidence in the span `answer` of text (the sentence) for the question."""
    found = [s for s in candidate_spans(question, text, text, spans(text, *matched)) if text[s.start : s.end] == answer]
    assert len(found) == 1
    return confidence_of(found[0].features)


def test_a_name_where_the_questions_words_point_is_surer_than_one_where_they_point_nowhere():
    question = "Bí thư chi bộ đồng thời giữ chức danh nào?"
    pointed = "Bí thư chi bộ đồng thời giữ chức danh trưởng thôn Chí Linh."
    nowhere = "Bí thư chi bộ đồng thời là trưởng thôn Chí Linh."  # "giữ chức danh" is not in it: no slot
    assert confidence(question, pointed, "Chí Linh", "Bí thư chi bộ đồng thời giữ chức danh") > confidence(
        question, nowhere, "Chí Linh", "Bí thư chi bộ đồng thời"
    )


def test_a_slot_two_of_the_questions_words_lead_to_is_surer_than_one_one_word_leads_to():
    two = "Mỗi ngày họ ăn cơm với cá."  # "họ ăn", two of the question's words, lead to it
    one = "Mỗi ngày họ đều ăn cơm với cá."  # only "ăn" does
    assert confidence("Họ ăn gì?", two, "cơm", "họ", "ăn") > confidence("Họ ăn gì?", one, "cơm", "họ", "ăn")


def test_a_name_next_to_the_questions_words_is_surer_than_one_far_from_them():
    near = "Hoàng Quốc Thưởng phát biểu kết luận."
    far = "Hoàng Quốc Thưởng, " + "sau đó một thời gian dài nữa thì ông mới " * 2 + "phát biểu kết luận."
    question = "Ai phát biểu kết luận?"
    assert confidence(question, near, "Hoàng Quốc Thưởng", "phát biểu kết luận") > confidence(
        question, far, "Hoàng Quốc Thưởng", "phát biểu kết luận"
    )


def test_the_article_like_mot_opening_the_slot_is_no_part_of_the_answer():
    text = "Đơn vị cơ bản ở Ba Lan là một xã (gmina)."
    found = short_answer("Đơn vị cơ bản ở Ba Lan là gì?", text, text, spans(text, "Đơn vị cơ bản", "Ba Lan"))
    assert found["text"] == "xã"


def test_a_sentences_only_date_answers_however_far_from_the_questions_words():
    text = "Đợt bùng phát dịch hạch cuối cùng đã tàn phá thành phố Oslo của Na Uy vào năm 1654."
    matched = spans(text, "Đợt bùng phát dịch hạch cuối cùng")
    assert short_answer("Đợt bùng phát dịch hạch cuối cùng là khi nào?", text, text, matched)["text"] == "năm 1654"


def test_a_year_before_a_comma_is_a_date():
    text = "Khi Sky Digital được ra mắt vào 1998, dịch vụ mới dùng vệ tinh Astra 2A."
    found = short_answer("Sky Digital được ra mắt khi nào?", text, text, spans(text, "Sky Digital", "ra mắt"))
    assert found["text"] == "1998"  # "1998," is the year and a comma, not a decimal


def test_a_persons_name_starts_at_its_surname():
    found = short_answer("Ai là người phát biểu kết luận hội nghị?", SAID, SAID, spans(SAID, "phát biểu kết luận"))
    assert found["text"] == "Hoàng Quốc Thưởng"  # not "Chí Linh Hoàng Quốc Thưởng": a place, then a full name


def test_a_title_that_capitalises_each_word_is_no_persons_name():
    # The article's sentence: "Đoàn Đại" opens a delegation's name ("Đoàn Đại biểu Quốc hội"), not a person's.
    text = (
        "Đồng chí Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy, Trưởng Đoàn Đại biểu Quốc hội tỉnh phát biểu chỉ đạo "
        "tại hội nghị."
    )
    matched = spans(text, "chí", "biểu", "hội", "phát biểu chỉ đạo", "hội nghị")
    found = short_answer("Ai phát biểu chỉ đạo tại hội nghị?", text, text, sorted(matched))
    assert found["text"] == "Lê Văn Hiệu"
    alone = "Trưởng Đoàn Đại biểu Quốc hội tỉnh phát biểu chỉ đạo."
    assert short_answer("Ai phát biểu chỉ đạo?", alone, alone, spans(alone, "phát biểu chỉ đạo")) is None


OFFICES = "Các đồng chí: Lê Văn Hiệu, Phó Bí thư Thường trực Tỉnh ủy; Nguyễn Thị Ngọc Bích, Ủy viên Ban Thường vụ."


@pytest.mark.parametrize(
    "question, text, expected",
    [
        ("Lê Văn Hiệu giữ chức vụ gì?", OFFICES, "Phó Bí thư Thường trực Tỉnh ủy"),  # after the name, between commas
        ("Bà Nguyễn Thị Ngọc Bích giữ chức vụ gì?", OFFICES, "Ủy viên Ban Thường vụ"),  # "Bà" is no part of the name
        ("Bà Nguyễn Thị Ngọc Bích là ai?", OFFICES, "Ủy viên Ban Thường vụ"),
        ("Hoàng Quốc Thưởng giữ chức vụ gì?", SAID, "Bí thư Thành ủy Chí Linh"),  # before it, capitalised as titles
        # "İ" lowercased is two characters: the name is found at the text's own offsets.
        ("Lê Văn Hiệu giữ chức vụ gì?", "Tại İzmir, Lê Văn Hiệu, Phó Bí thư Tỉnh ủy, phát biểu.", "Phó Bí thư Tỉnh ủy"),
        ("Hoàng Quốc Thưởng giữ chức vụ gì?", "Đồng chí Hoàng Quốc Thưởng phát biểu.", None),  # an address, no office
    ],
)
def test_an_office_is_what_the_sentence_writes_beside_the_name_asked_about(question, text, expected):
    name = question.removesuffix(" giữ chức vụ gì?").removesuffix(" là ai?").removeprefix("Bà ")
    found = short_answer(question, text, text, spans(text, name))
    assert (found and found["text"]) == expected


def test_a_follow_up_asks_for_its_own_kind_and_repeats_none_of_its_contexts_words():
    context = "Hoàng Quốc Thưởng phát biểu ở đâu? ai là Bí thư Thành ủy Chí Linh?"
    assert asked_for(context).kind is AnswerType.PLACE
    # Every capitalised word of the sentence repeats the earlier question or the person it was answered with.
    assert short_answer("Ông ấy phát biểu ở đâu?", SAID, SAID, spans(SAID, "phát biểu"), context) is None
    assert short_answer("Ông ấy phát biểu ở đâu?", SAID, SAID, spans(SAID, "phát biểu")) is not None
    # No question word of its own: the earlier question's ("bao nhiêu").
    assert asked_in_context("Còn năm 2021?", "năm 2021? thu ngân sách năm đạt bao nhiêu?").kind is AnswerType.NUMBER


def test_an_organisations_name_runs_over_its_words_lowercase_second_syllables():
    text = "Ở nội thành, Đảng Lao động Úc mạnh nhất."
    found = short_answer("Đảng nào mạnh nhất ở nội thành?", text, text, spans(text, "nội thành", "mạnh nhất"))
    assert found["text"] == "Đảng Lao động Úc"  # "Đảng", the head noun asked about, opens the name


def test_the_head_noun_alone_is_no_name():
    text = "Đội Broncos đánh bại đội Pittsburgh Steelers ở vòng bảng."
    matched = spans(text, "Broncos đánh bại", "vòng bảng")
    found = short_answer("Broncos đánh bại đội nào ở vòng bảng?", text, text, matched)
    assert found["text"] == "Pittsburgh Steelers"  # "đội" opens no name: it is not capitalised


def test_a_short_form_repeats_its_full_form_and_is_no_persons_name():
    text = "Phó Bí thư Thành ủy, Chủ tịch UBND TP Chí Linh Nguyễn Văn Kiên báo cáo kết quả giữa nhiệm kỳ."
    matched = spans(text, "Chủ tịch UBND TP Chí Linh")
    found = short_answer("Ai là Chủ tịch UBND thành phố Chí Linh?", text, text, matched)
    assert found["text"] == "Nguyễn Văn Kiên"


@pytest.mark.parametrize(
    "question, sentence, matched, expected",
    [
        # Vietnamese leaves the question word where the statement has the answer: after "hợp tác với", not "Edison".
        (
            "Tesla hợp tác với ai?",
            "Rời công ty của Edison, Tesla hợp tác với Robert Lane và Benjamin Vail.",
            ["Tesla hợp tác"],
            "Robert Lane",
        ),
        (
            "Ai đã lấy lại được bóng?",
            "Miller đã tước bóng từ Newton và Ward đã lấy lại được bóng.",
            ["lấy lại được bóng"],
            "Ward",
        ),
        (
            "Trong Ấn Độ giáo, thầy tâm linh được gọi là gì?",
            "Trong Ấn Độ giáo, thầy tâm linh được gọi là guru.",
            ["Ấn Độ giáo", "thầy tâm linh"],
            "guru",
        ),
        (
            "Giáo viên ở Wales có thể đăng ký vào tổ chức nào?",
            "Giáo viên ở Wales có thể đăng ký vào công đoàn như ATL, NUT hoặc NASUWT.",
            ["Giáo viên ở Wales"],
            "công đoàn",
        ),  # "như" opens the examples: the next phrase
    ],
)
def test_the_answer_stands_where_the_question_word_stands(question, sentence, matched, expected):
    assert short_answer(question, sentence, sentence, spans(sentence, *matched))["text"] == expected


def test_a_count_in_the_unit_asked_beats_a_nearer_number():
    text = "Broncos đánh bại Steelers với điểm số 23-16, bằng cách ghi 11 điểm trong ba phút cuối cùng."
    found = short_answer(
        "Broncos ghi bao nhiêu điểm trong ba phút cuối cùng?", text, text, spans(text, "Broncos", "ba phút cuối cùng")
    )
    assert found["text"] == "11"


@pytest.mark.parametrize(
    "sentence, question, expected",
    [
        (
            "Thu nhập bình quân đầu người năm 2022 đạt 87 triệu đồng/người/năm.",
            "Thu nhập bình quân đầu người năm 2022 là bao nhiêu?",
            "87 triệu đồng",
        ),
        ("Tỷ lệ hộ nghèo theo chuẩn mới giảm còn 1%.", "Tỷ lệ hộ nghèo còn bao nhiêu phần trăm?", "1%"),
        ("Los Angeles từng có hai đội bóng bầu dục.", "Los Angeles từng có bao nhiêu đội?", "hai"),
        (
            "Hội nghị sơ kết được tổ chức vào ngày 16 tháng 5 năm 2023 tại Chí Linh.",
            "Hội nghị sơ kết được tổ chức khi nào?",
            "ngày 16 tháng 5 năm 2023",
        ),
        ("Tesla hợp tác với hai doanh nhân vào năm 1886.", "Tesla hợp tác với hai doanh nhân năm nào?", "năm 1886"),
        ("Nhiệt độ thấp nhất ở Hà Nội từ 9 đến 11 độ C.", "Nhiệt độ thấp nhất ở Hà Nội là bao nhiêu?", "9 đến 11"),
        ("Nhiệt độ thấp nhất ở Hà Nội từ 9 - 11 độ C.", "Nhiệt độ thấp nhất ở Hà Nội là bao nhiêu?", "9 - 11"),
    ],
)
def test_numbers_amounts_and_dates_are_read_whole(sentence, question, expected):
    words = [
        w
        for w in (
            "Thu nhập bình quân đầu người năm 2022",
            "Tỷ lệ hộ nghèo",
            "còn",
            "Los Angeles từng có",
            "Hội nghị sơ kết được tổ chức",
            "Tesla hợp tác với hai doanh nhân",
            "Nhiệt độ thấp nhất ở Hà Nội",
        )
        if w in sentence
    ]
    found = short_answer(question, sentence, sentence, spans(sentence, *words))
    assert found["text"] == expected and sentence[found["start"] : found["end"]] == expected


def test_the_years_of_dates_are_no_counts():
    text = "Năm 2015, đội thủ có 24 lần đoạt bóng."
    assert short_answer("Đội thủ có bao nhiêu lần đoạt bóng?", text, text, spans(text, "đội thủ"))["text"] == "24"


@pytest.mark.parametrize(
    "question, text, matched",
    [
        ("Kinh tế phát triển như thế nào?", SAID, "Bí thư"),  # asks for no span
        ("Hội nghị diễn ra khi nào?", SAID, "hội nghị"),  # no date in the sentence
        (
            "Ai là Bí thư Thành ủy Chí Linh?",
            "Bí thư Thành ủy Chí Linh phát biểu.",
            "Chí Linh",
        ),  # only the question again
        # The sentence holds too little of what the question is about.
        ("Ai là Bí thư Tỉnh ủy Hải Dương nhiệm kỳ trước?", SAID, "Bí thư"),
    ],
)
def test_no_confident_span_gives_none(question, text, matched):
    assert short_answer(question, text, text, spans(text, matched)) is None


PIECES = st.one_of(
    st.sampled_from(
        [
            "Hoàng Quốc Thưởng",
            "năm 2023",
            "ngày 16/5",
            "87 triệu đồng",
            "1%",
            "Chí Linh",
            "Super Bowl 50",
            "hai đội",
            "“",
            "”",
            ",",
            ".",
            "\n",
            "de",
            "UBND",
            "$1,5 tỷ",
            "20-18",
            "tháng 3",
            "là",
            "được gọi là",
            "hợp tác với",
            "của",
            "Ấn Độ",
        ]
    ),
    st.text(max_size=12),
)
ASKING = st.sampled_from(
    [
        "Ai",
        "là ai",
        "bao nhiêu",
        "mấy",
        "khi nào",
        "năm nào",
        "ở đâu",
        "đội nào",
        "là gì",
        "tên là gì",
        "như thế nào",
        "bao nhieu",
        "",
    ]
)


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(PIECES, min_size=1, max_size=30), asking=ASKING, data=st.data())
def test_a_short_answer_is_always_a_span_of_its_text(pieces, asking, data):
    """Questions made of the passage's own words and a question word, highlights on its words or anywhere."""
    text = " ".join(pieces)
    words = [m.span() for m in re.finditer(r"\S+", text)] or [(0, 0)]
    question = " ".join(data.draw(st.lists(st.sampled_from(pieces), max_size=4)) + [asking]) + "?"
    a = data.draw(st.integers(0, len(text)))
    sentence = data.draw(st.sampled_from([text, text[a:], text[:a], "not in the text"]))
    highlights = [list(w) for w in data.draw(st.lists(st.sampled_from(words), max_size=6))] + data.draw(
        st.lists(st.lists(st.integers(-3, len(text) + 3), min_size=2, max_size=2), max_size=2)
    )
    found = short_answer(question, text, sentence, highlights)
    if found is not None:
        assert set(found) == {"text", "start", "end"}
        assert 0 <= found["start"] < found["end"] <= len(text)
        assert text[found["start"] : found["end"]] == found["text"] and found["text"].strip() == found["text"]


# --- through the engine and the command line ------------------------------------------------------------------------


def test_the_engine_gives_the_top_answer_its_short_answer(engine):
    result = engine.ask(WHO, 3)
    top = result.answers[0]
    assert result.found and top.short_answer["text"] == "Hoàng Quốc Thưởng"
    assert top.text[top.short_answer["start"] : top.short_answer["end"]] == "Hoàng Quốc Thưởng"
    assert all(a.short_answer is None for a in result.answers[1:])


def test_an_answer_not_found_has_no_short_answer(engine):
    result = engine.ask("Ai là huấn luyện viên đội tuyển bóng đá Brazil?", 3)
    assert not result.found and all(a.short_answer is None for a in result.answers)


def test_qa_ask_prints_the_short_answer_first(default_index_dir):
    runner = CliRunner()
    shown = runner.invoke(main, ["ask", WHO, "--index", str(default_index_dir)])
    assert shown.exit_code == 0 and shown.output.splitlines()[0] == "Hoàng Quốc Thưởng"
    assert shown.output.splitlines()[1].startswith("1. ")
    printed = runner.invoke(main, ["ask", WHO, "--json", "--index", str(default_index_dir)])
    top = json.loads(printed.output)["answers"][0]
    assert top["short_answer"] == {
        "text": "Hoàng Quốc Thưởng",
        "start": top["text"].index("Hoàng Quốc Thưởng"),
        "end": top["text"].index("Hoàng Quốc Thưởng") + len("Hoàng Quốc Thưởng"),
    }


def test_qa_ask_without_a_short_answer_starts_with_the_sentence(default_index_dir):
    shown = CliRunner().invoke(main, ["ask", "Kinh tế phát triển như thế nào?", "--index", str(default_index_dir)])
    assert shown.output.startswith("1. ")
