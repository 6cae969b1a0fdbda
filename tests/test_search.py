"""The engine on the built-in article: the right passage first, its best sentence, the matched words."""
import unicodedata
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import bm25
from qa.search import (MAX_QUESTION_CHARS, PAIR_WEIGHT, UNSEEN_PAIR, UNSEEN_SYLLABLE, QuestionError, QuestionTooLong,
                       Wanted, _keys)
from qa.text import analyse_question, fold, folded_text

QUESTIONS = [
    ("Thu nhập bình quân đầu người năm 2022 là bao nhiêu?", "87 triệu đồng"),
    ("Đảng bộ thành phố kết nạp được bao nhiêu đảng viên mới?", "640 đảng viên"),
    ("Ai là Bí thư Thành ủy Chí Linh?", "Hoàng Quốc Thưởng"),
    ("Tỷ lệ hộ nghèo còn bao nhiêu?", "1%"),
    ("Chủ tịch Ủy ban nhân dân thành phố Chí Linh là ai?", "Nguyễn Văn Kiên"),
    ("Thu ngân sách nhà nước trên địa bàn đạt bao nhiêu?", "3.200 tỷ đồng"),
]


@pytest.mark.parametrize("question,answer", QUESTIONS)
@pytest.mark.parametrize("form", ["as typed", "no diacritics", "capitals", "nfd"])
def test_answer_is_in_the_top_passage(engine, question, answer, form):
    asked = {"as typed": question, "no diacritics": fold(question), "capitals": question.upper(),
             "nfd": unicodedata.normalize("NFD", question)}[form]
    result = engine.ask(asked, 3)
    assert result.found
    assert answer in result.answers[0].text


def test_old_and_new_tone_placement_give_the_same_answers(engine):
    a = engine.ask("Huy hiệu Đảng được trao cho bao nhiêu đảng viên trong nhiệm kỳ? Hoà", 3)
    b = engine.ask("Huy hiệu Đảng được trao cho bao nhiêu đảng viên trong nhiệm kỳ? Hòa", 3)
    assert [x.passage_id for x in a.answers] == [x.passage_id for x in b.answers]


def test_answer_fields(engine):
    result = engine.ask("Thu nhập bình quân đầu người năm 2022?", 2)
    assert set(result.to_dict()) == {"question", "found", "answers", "took_ms"}
    assert result.took_ms >= 0 and len(result.answers) == 2
    first, second = result.answers
    assert (first.rank, second.rank) == (1, 2) and first.score >= second.score
    assert set(result.to_dict()["answers"][0]) == {"rank", "passage_id", "doc_id", "title", "text", "score",
                                                   "sentence", "highlights", "short_answer"}
    assert first.doc_id == "chi-linh-so-ket-giua-nhiem-ky-2023-05-16"
    assert first.passage_id.startswith(first.doc_id + "#")
    assert first.sentence == "Thu nhập bình quân đầu người năm 2022 đạt 87 triệu đồng/người/năm."
    assert first.sentence in first.text


def test_highlights_point_at_the_matched_words(engine):
    answer = engine.ask("thu nhap binh quan dau nguoi", 1).answers[0]
    marked = [answer.text[s:e] for s, e in answer.highlights]
    assert "Thu nhập bình quân đầu người" in marked
    for start, end in answer.highlights:
        words = fold(answer.text[start:end]).lower().split()
        assert set(words) <= {"thu", "nhap", "binh", "quan", "dau", "nguoi"}


def test_abbreviation_in_the_text_is_highlighted_for_the_full_form(engine):
    answer = engine.ask("Chủ tịch Ủy ban nhân dân thành phố Chí Linh là ai?", 1).answers[0]
    assert "UBND TP Chí Linh" in " ".join(answer.text[s:e] for s, e in answer.highlights)


@pytest.mark.parametrize("question", ["Thời tiết Hà Nội hôm nay thế nào?", "Giá vàng SJC hôm nay bao nhiêu?",
                                      "Đội tuyển nào vô địch World Cup 2022?", "Cách nấu phở bò ngon",
                                      "Chủ tịch UBND thành phố Đà Nẵng là ai?"])
def test_unrelated_question_is_not_found(engine, question):
    assert not engine.ask(question, 3).found


def test_question_with_no_known_word_returns_nothing(engine):
    result = engine.ask("xyzzy qwerty", 3)
    assert not result.found and result.answers == []


def test_top_k_limits_answers(engine):
    assert len(engine.ask("Chí Linh", 5).answers) == 5
    assert len(engine.ask("Chí Linh", 1).answers) == 1


@pytest.mark.parametrize("question", ["", "   \n\t", None, 42, ["câu hỏi"], "đảng viên \ud800"])
def test_bad_questions_are_refused(engine, question):
    with pytest.raises(QuestionError):
        engine.ask(question, 3)


def test_too_long_question(engine):
    with pytest.raises(QuestionTooLong):
        engine.ask("a" * (MAX_QUESTION_CHARS + 1), 3)


@pytest.mark.parametrize("top_k", [0, 21, -1, "3", 2.5, True])
def test_bad_top_k(engine, top_k):
    with pytest.raises(QuestionError, match="top_k"):
        engine.ask("Chí Linh", top_k)


def test_hostile_text_is_just_text(engine):
    result = engine.ask("<script>alert(1)</script> \x00 đảng viên \u202e", 3)
    assert result.question.startswith("<script>")


def test_a_name_the_document_does_not_have_means_not_found(engine):
    # Same words as the article, but another city: the article cannot answer it.
    assert engine.ask("Tỷ lệ hộ nghèo của thành phố Chí Linh còn bao nhiêu?", 3).found
    assert not engine.ask("Tỷ lệ hộ nghèo của tỉnh Điện Biên còn bao nhiêu?", 3).found
    # "UBND TP" is in the article too: only "Hải Phòng" tells the cities apart.
    assert not engine.ask("Chủ tịch UBND TP Hải Phòng là ai?", 3).found
    assert engine.ask("Chủ tịch UBND TP Chí Linh là ai?", 3).found


def test_names_elsewhere_in_the_article_count(engine):
    # The answering paragraph says "thành phố", the article says "Chí Linh": still the same document.
    result = engine.ask("Thu ngân sách nhà nước ở Chí Linh đạt bao nhiêu?", 3)
    assert result.found and "3.200 tỷ đồng" in result.answers[0].text


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_shipped_question_sets_are_answered_and_refused(engine, split):
    """Regression guard on the hand-written sets (figures in docs/quality.md): found for the article's
    questions, not found for questions it cannot answer."""
    import json
    from pathlib import Path

    data = Path(__file__).parent / "data"
    inside = [json.loads(x) for x in (data / "chi_linh_questions.jsonl").read_text("utf-8").splitlines()]
    outside = [json.loads(x) for x in (data / "out_of_corpus_questions.jsonl").read_text("utf-8").splitlines()]
    inside = [q for q in inside if q["split"] == split]
    outside = [q for q in outside if q["split"] == split]
    results = [engine.ask(q["question"], 3) for q in inside]
    assert sum(r.found for r in results) / len(inside) >= 0.85
    assert sum(q["answer"] in r.answers[0].text for q, r in zip(inside, results)) / len(inside) >= 0.8
    assert sum(not engine.ask(q["question"], 3).found for q in outside) / len(outside) >= 0.9


def test_the_pairs_of_the_one_word_no_passage_has_do_not_count():
    # "thuộc" is in no passage: its absence counts once, as a syllable, not again in each of its pairs.
    rarity = {"f:chi": 1.0, "f:linh": 1.5, "f:thuoc": 4.0, "f:tinh": 2.0,
              "p:chi_linh": 1.5, "p:linh_thuoc": 4.0, "p:thuoc_tinh": 4.0, "p:linh_tinh": 4.0}
    seen = {"f:chi", "f:linh", "f:tinh", "p:chi_linh"}
    wanted = Wanted.of(("chi", "linh", "thuoc", "tinh"), rarity, seen, 4.0, {})
    assert wanted.syllables == {"chi": 1.0, "linh": 1.5, "thuoc": UNSEEN_SYLLABLE * 4.0, "tinh": 2.0}
    assert wanted.pairs == {("chi", "linh"): PAIR_WEIGHT * 1.5,
                            ("linh", "tinh"): PAIR_WEIGHT * UNSEEN_PAIR * 4.0}  # both words known, never side by side


def test_a_pair_counts_for_found_as_much_as_the_ranking_asked_for_it(engine):
    # Every passage with "của Tesla" has "Tesla": the ranking asks the pair only for the idf it adds to its rarer
    # syllable, and what the best passage holds of the question is weighed the same way.
    asked = analyse_question("Thị xã Chí Linh thuộc tỉnh nào?")
    terms = [t for t, _ in asked.terms]
    postings = engine.index.postings
    rows, said, _, _ = postings.ranked(terms, [c for _, c in asked.terms], 3, asked.parts)
    seen = {t for t, row in zip(terms, rows.tolist()) if row >= 0}
    wanted = Wanted.of(asked.keywords, dict(zip(terms, said.tolist())), seen, postings.unseen_idf, asked.marked)
    idf = dict(zip(terms, postings.term_idf(terms).tolist()))
    assert ("chi", "linh") in wanted.pairs and "p:chi_linh" in seen
    assert wanted.pairs[("chi", "linh")] == pytest.approx(
        PAIR_WEIGHT * max(idf["p:chi_linh"] - max(idf["f:chi"], idf["f:linh"]), 0.0))


def test_the_pairs_of_two_words_no_passage_has_still_count():
    rarity = {"f:gia": 2.0, "f:vang": 4.0, "f:hom": 4.0, "p:gia_vang": 4.0, "p:vang_hom": 4.0}
    wanted = Wanted.of(("gia", "vang", "hom"), rarity, {"f:gia"}, 4.0, {})
    assert wanted.pairs == {("gia", "vang"): PAIR_WEIGHT * UNSEEN_PAIR * 4.0, ("vang", "hom"): PAIR_WEIGHT * UNSEEN_PAIR * 4.0}



def test_a_word_counts_as_the_question_writes_its_marks():
    # "bị phạt" asked: "bí tích" holds no "bị", and "phạt" after it makes no pair with what came before.
    text = "Uống rượu bí tích phạt, UBND"
    marked = analyse_question("Uống rượu bị phạt, Maiziere, Ủy ban?").marked
    assert marked["bi"] == {"bị", "Bị"} and "maiziere" not in marked
    wanted = Wanted.of(("uong", "ruou", "bi", "phat", "uy", "ban"), {"f:bi": 1.0, "p:bi_phat": 1.0}, set(), 4.0, marked)
    kept = wanted.as_written(wanted.matches(folded_text(text)), text, folded_text(text))
    assert [text[s:e] for s, e, _, _ in kept] == ["Uống", "rượu", "phạt", "UBND", "UBND", "UBND", "UBND"]
    assert [after for _, _, _, after in kept][:3] == [False, True, False]

syllables = st.sampled_from(["thành", "phố", "Chí", "Linh", "UBND", "TP", "ủy", "ban", "nhân", "dân", "đảng", "viên",
                             "thanh", "pho", "87", "triệu"])
texts = st.lists(st.tuples(syllables, st.sampled_from([" ", " ", ", ", ". ", "\n", " - "])), max_size=40).map(
    lambda parts: "".join(s + sep for s, sep in parts))
keys = st.sampled_from(["thanh", "pho", "chi", "linh", "uy", "ban", "nhan", "dan", "dang", "vien", "87", "tp"])


@settings(max_examples=300, deadline=None)
@given(texts, st.lists(keys, min_size=1, max_size=6), st.integers(0, 300), st.integers(0, 300))
def test_matches_weigh_a_text_as_all_its_syllables_would(text, keywords, a, b):
    # Only the wanted syllables are matched; they must weigh any run of the text as every syllable of it would
    # (abbreviations as their full forms, pairs only where two syllables are side by side).
    rarity = {f"f:{k}": 1.0 + len(k) for k in keywords}
    rarity.update({f"p:{x}_{y}": 2.0 + len(x) for x, y in zip(keywords, keywords[1:])})
    wanted = Wanted.of(tuple(keywords), rarity, set(rarity), 9.0, {})
    every = [(start, end, key, True) for start, end, key in _keys(text)]
    matches = wanted.matches(folded_text(text))
    a, b = min(a, b), max(a, b)
    for run in (lambda found: found, lambda found: [m for m in found if a <= m[0] < b]):
        assert wanted.held(run(matches)) == pytest.approx(wanted.held(run(every)))
    assert [m[:3] for m in matches if m[2] in wanted.syllables] == [m[:3] for m in every if m[2] in wanted.syllables]


def test_the_compiled_ranking_gives_the_same_answers(engine):
    def answers() -> list[dict]:
        return [{k: v for k, v in engine.ask(q, 5).to_dict().items() if k != "took_ms"} for q, _ in QUESTIONS]

    plain = answers()
    postings = engine.index.postings
    try:
        with mock.patch.object(bm25, "COMPILED_FROM", 0):
            postings.use_compiled()
            assert postings.compiled and answers() == plain
    finally:
        postings.compiled = False
