"""The short-answer span scorer: the features it reads off hand-made sentences, its weights, and the script that
trains them."""

import json
import math
import re
import runpy
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import span_weights
from qa.short_answer import FEATURES, THRESHOLD, candidate_spans, confidence_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import train_short_answer  # noqa: E402  (a script of bench/, not a module of the package)


def spans(text: str, *words: str) -> list[list[int]]:
    return [[text.index(w), text.index(w) + len(w)] for w in words]


def features(question: str, text: str, *matched: str) -> dict[str, dict[str, float]]:
    """The features of each candidate span of text (the sentence), by the span's text."""
    found = candidate_spans(question, text, text, spans(text, *matched))
    return {text[s.start : s.end]: dict(zip(FEATURES, s.features)) for s in found}


def test_a_name_next_to_the_questions_words():
    text = "Hoàng Quốc Thưởng phát biểu kết luận."
    name = features("Ai phát biểu kết luận?", text, "phát biểu kết luận")["Hoàng Quốc Thưởng"]
    assert name["asks person"] == 1 and name["asks number"] == 0
    assert name["touches"] == 1 and name["gap"] == 0 and name["matched near"] == pytest.approx(1 / 4)
    assert name["only candidate"] == 1 and name["nearest"] == 1
    assert name["marked"] == 1 and name["repeats"] == 0 and name["held"] == 1
    assert name["length"] == pytest.approx(0.3) and name["one word"] == 0


def test_a_name_written_abroad_is_not_marked_and_a_repeated_word_is_counted():
    text = "Tesla hợp tác với Robert Lane ở Colorado Springs."
    found = features("Tesla hợp tác với ai ở Colorado?", text, "Tesla hợp tác với", "Colorado")
    assert found["Robert Lane"]["marked"] == 0 and found["Robert Lane"]["in the slot"] == 1
    assert found["Springs"]["repeats"] == 0 and found["Springs"]["nearest"] == 1  # touches "Colorado"


def test_the_words_between_a_span_and_the_questions_words():
    text = "Hội nghị đã mời ba vị đại biểu đến dự, trong đó có ông Lê Văn Hiệu."
    name = features("Ai dự hội nghị?", text, "Hội nghị", "dự")["Lê Văn Hiệu"]
    assert name["gap"] == pytest.approx(4 / 8) and name["touches"] == 0 and name["matched near"] == pytest.approx(1 / 4)


def test_a_count_in_the_unit_asked_and_the_slot():
    text = "Đội đã ghi 11 điểm trong 3 phút cuối."
    found = features("Đội đã ghi bao nhiêu điểm?", text, "Đội đã ghi", "điểm")
    assert found["11"]["fits"] == 1 and found["3"]["fits"] == 0
    assert found["11"]["in the slot"] == 1 and found["3"]["in the slot"] == 0
    assert found["11"]["slot's anchor"] == pytest.approx(3 / 4) and found["11"]["anchor of two"] == 1
    assert found["11"]["candidates"] == pytest.approx(1 / 2) and found["11"]["only candidate"] == 0


def test_the_slot_itself_is_a_candidate():
    text = "Mỗi ngày họ ăn cơm với cá."
    slot = features("Họ ăn gì?", text, "họ", "ăn")["cơm"]
    assert slot["slot for thing"] == 1 and slot["asks thing"] == 1 and slot["in the slot"] == 0
    assert slot["slot's anchor"] == pytest.approx(2 / 4) and slot["anchor of two"] == 1
    assert slot["candidates"] == 0 and slot["touches"] == 1 and slot["nearest"] == 0


def test_the_word_before_a_span():
    text = "Thủ đô của nước này là Hà Nội, nằm ở Đồng bằng sông Hồng."
    found = features("Thủ đô của nước này ở đâu?", text, "Thủ đô của nước này")
    assert found["Hà Nội"]["after là"] == 1 and found["Đồng"]["after locative"] == 1


def test_no_candidates_when_the_sentence_holds_too_little_of_the_question():
    assert candidate_spans("Ai là Bí thư Tỉnh ủy Hải Dương nhiệm kỳ trước?", "Bí thư phát biểu.", "", [[0, 6]]) == []


WORDS = ["Hoàng Quốc Thưởng", "năm 2023", "87 triệu đồng", "là", "của", "ở", ",", "Super Bowl 50", "hai đội", "ông"]


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), min_size=1, max_size=20),
    asking=st.sampled_from(["Ai", "bao nhiêu", "khi nào", "ở đâu", "đội nào", "là gì"]),
    data=st.data(),
)
def test_every_feature_is_a_number_from_0_to_1_and_every_span_is_in_the_sentence(pieces, asking, data):
    text = " ".join(pieces)
    question = " ".join(data.draw(st.lists(st.sampled_from(pieces), max_size=4)) + [asking]) + "?"
    words = [[m.start(), m.end()] for m in re.finditer(r"\S+", text)]
    highlights = data.draw(st.lists(st.sampled_from(words), max_size=5, unique_by=tuple)) if words else []
    for span in candidate_spans(question, text, text, sorted(highlights)):
        assert 0 <= span.start < span.end <= len(text) and len(span.features) == len(FEATURES)
        assert all(0.0 <= x <= 1.0 for x in span.features)
        assert 0 < confidence_of(span.features) < 1


def test_the_weights_fit_the_features_they_were_trained_on():
    assert span_weights.FEATURES == FEATURES and len(span_weights.WEIGHTS) == len(FEATURES)
    assert all(math.isfinite(w) for w in span_weights.WEIGHTS) and 0 < THRESHOLD < 1
    assert 0 < confidence_of((0.0,) * len(FEATURES)) < 1


def tiny_squad(path: Path) -> Path:
    """A SQuAD-format file of two articles whose questions the built index answers with names and dates."""
    paragraphs = [
        ("Hoàng Quốc Thưởng là Bí thư Thành ủy Chí Linh.", "Ai là Bí thư Thành ủy Chí Linh?", "Hoàng Quốc Thưởng"),
        ("Hội nghị tổng kết diễn ra vào năm 2023 tại Chí Linh.", "Hội nghị tổng kết diễn ra năm nào?", "năm 2023"),
        ("Tesla hợp tác với Robert Lane trong phòng thí nghiệm.", "Tesla hợp tác với ai?", "Robert Lane"),
        ("Nhà máy sản xuất 1,5 tỷ tấn thép mỗi năm ở Hải Phòng.", "Nhà máy sản xuất bao nhiêu tấn thép?", "1,5 tỷ"),
    ]
    data = {
        "data": [
            {
                "title": f"Bài {a}",
                "paragraphs": [
                    {"context": context, "qas": [{"id": f"{a}-{p}", "question": q, "answers": [{"text": gold}]}]}
                    for p, (context, q, gold) in enumerate(paragraphs[a * 2 : a * 2 + 2])
                ],
            }
            for a in range(2)
        ]
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_training_script_writes_weights_that_load(tmp_path, capsys):
    out = tmp_path / "weights.py"
    train_short_answer.main([str(tiny_squad(tmp_path / "tiny.json")), "--split", "all", "--out", str(out)])
    written = runpy.run_path(str(out))
    assert written["FEATURES"] == FEATURES and len(written["WEIGHTS"]) == len(FEATURES)
    assert all(math.isfinite(w) for w in written["WEIGHTS"]) and 0 < written["THRESHOLD"] < 1
    assert "4 questions" in capsys.readouterr().out
