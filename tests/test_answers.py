"""What an answer marks: the question's words as it writes them, never a lone syllable of one of its longer words."""

from __future__ import annotations

import pytest

from qa.text import fold

WHO = "Ai là Bí thư Thành ủy Chí Linh?"


def marked(answer) -> list[str]:
    return [answer.text[s:e] for s, e in answer.highlights]


@pytest.fixture(scope="module")
def news(make_engine):
    return make_engine(
        [
            ("Bóng đá", "Trận đấu có khoảng 40.000 khán giả theo dõi trên sân Mỹ Đình."),
            ("Thời tiết", "Vùng núi có thể có băng giá. Giá bán lẻ của áo ấm tăng."),
            ("Học phí", "Theo Nghị định 97, học phí các trường đại học công lập tăng từ năm học 2024-2025."),
        ]
    )


def test_a_lone_syllable_of_a_name_in_the_question_is_not_marked(engine):
    """ "Đồng chí" holds no "Chí Linh", "thành phố" no "Thành ủy": the question's words are marked whole."""
    answers = engine.ask(WHO, 3).answers
    assert "Bí thư Thành ủy Chí Linh" in marked(answers[0])
    shown = [m for a in answers for m in marked(a)]
    assert all(len(m.split()) > 1 for m in shown), shown


def test_a_word_with_other_marks_than_the_questions_is_not_marked(engine, news):
    """ "thư" asks for no "thứ", "giả" for no "giá", "chỉ" for no "chí": in Vietnamese the marks make the word."""
    for answer in engine.ask(WHO, 3).answers:
        assert "thứ" not in marked(answer)
    for answer in engine.ask("Ai phát biểu chỉ đạo tại hội nghị?", 3).answers:
        assert "chí" not in marked(answer)
    answers = news.ask("Trận đấu có bao nhiêu khán giả?", 3).answers
    assert "khán giả" in marked(answers[0])
    assert all(fold(m).lower() != "gia" for a in answers for m in marked(a) if m.lower() != "giả")


def test_a_question_without_marks_is_marked_where_its_syllables_stand_together(engine):
    """Typed without marks, "thanh" may be "thành" or "thanh", "chi" "chí" or "chỉ": alone, no evidence."""
    answers = engine.ask("ai la bi thu thanh uy chi linh", 3).answers
    assert "Bí thư Thành ủy Chí Linh" in marked(answers[0])
    shown = [m for a in answers for m in marked(a)]
    assert all(len(m.split()) > 1 for m in shown), shown


def test_a_keyword_query_is_marked_where_it_stands_whole(news):
    answer = news.ask("hoc phi", 1).answers[0]
    assert marked(answer) == ["học phí"]  # not the "học" of "đại học" and "năm học"


def test_a_single_word_is_marked_wherever_it_stands(news):
    answer = news.ask("Bao nhiêu khán giả đến sân?", 1).answers[0]
    assert marked(answer) == ["khán giả", "sân"]


def test_the_short_answer_is_looked_for_as_before(engine):
    """The short answer is anchored on every matched syllable, whatever the page marks."""
    assert engine.ask(WHO, 1).answers[0].short_answer["text"] == "Hoàng Quốc Thưởng"


def test_between_sentences_that_hold_as_much_the_one_that_holds_the_query_whole_is_shown(news, make_engine):
    """ "giá xăng" in "giá bán lẻ xăng dầu" and in "Giá xăng RON 95": the second, where the words are marked."""
    prices = make_engine([("Xăng", "Liên Bộ điều chỉnh giá bán lẻ xăng dầu. Giá xăng RON 95 tăng 520 đồng mỗi lít.")])
    for query in ("giá xăng", "gia xang"):
        answer = prices.ask(query, 1).answers[0]
        assert answer.sentence == "Giá xăng RON 95 tăng 520 đồng mỗi lít." and marked(answer)[-1] == "Giá xăng"
