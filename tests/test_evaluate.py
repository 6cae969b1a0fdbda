"""Measuring quality: the ways of asking, question sets over an index, misses and negatives."""

import json
import unicodedata

import pytest
from click.testing import CliRunner

from qa.cli import main
from qa.evaluate import VARIANTS, evaluate
from qa.text import normalise


def test_variants_change_the_question_as_named():
    q = "Hòa bình và thủy lợi của Đảng bộ"
    assert VARIANTS["original"](q, "s") == q
    assert VARIANTS["no-diacritics"](q, "s") == "Hoa binh va thuy loi cua Dang bo"
    assert VARIANTS["uppercase"](q, "s") == q.upper()
    assert VARIANTS["nfd"](q, "s") == unicodedata.normalize("NFD", q) != q
    old = VARIANTS["old-tones"](q, "s")
    assert old.startswith("Hoà bình và thuỷ lợi") and normalise(old) == q


def test_typo_changes_one_syllable_reproducibly():
    q = "Thu nhập bình quân đầu người"
    typo = VARIANTS["typo"](q, "typo:7")
    assert typo == VARIANTS["typo"](q, "typo:7") != q
    changed = [a for a, b in zip(q.split(), typo.split()) if a != b]
    assert len(changed) == 1 and abs(len(q) - len(typo)) <= 1


def test_question_set_over_the_built_in_article(tmp_path, default_index_dir):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"question": "Thu nhập bình quân đầu người năm 2022?", "answer": "87 triệu đồng", "split": "tune"},
                {"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%", "split": "heldout"},
            ]
        ),
        encoding="utf-8",
    )
    negatives = tmp_path / "n.jsonl"
    negatives.write_text(json.dumps({"question": "Thời tiết Hà Nội hôm nay thế nào?"}, ensure_ascii=False))
    misses: list = []
    report = evaluate(questions, 10, ["original", "no-diacritics"], default_index_dir, "all", negatives, misses)
    assert report["questions"] == 2 and report["hit@1"] == 1.0 and report["found"] == 1.0
    assert [row["variant"] for row in report["variants"]] == ["original", "no-diacritics"]
    assert report["sentence_has_answer"] == 1.0
    assert report["negatives"] == 1 and report["negatives_not_found"] == 1.0
    assert misses == []
    only_tune = evaluate(questions, 10, ["original"], default_index_dir, "tune")
    assert only_tune["questions"] == 1


def test_misses_file_says_what_went_wrong(tmp_path, default_index_dir):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "không có ở đâu"}, ensure_ascii=False),
        encoding="utf-8",
    )
    out = tmp_path / "misses.jsonl"
    result = _eval(default_index_dir, questions, "--misses", out)
    assert result.exit_code == 0, result.output
    [miss] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert miss["variant"] == "original" and miss["gold_rank"] is None
    assert "1%" in miss["top"]["sentence"]
    assert "original" in result.output and "hit@1" in result.output


@pytest.mark.parametrize("content", ["", "not json\n", '{"no_question": 1}\n'])
def test_unreadable_question_set_exits_2(tmp_path, content, default_index_dir):
    questions = tmp_path / "q.jsonl"
    questions.write_text(content)
    result = CliRunner().invoke(main, ["eval", str(questions), "--index", str(default_index_dir)])
    assert result.exit_code == 2 and str(questions) in result.output


def test_shipped_sets_hold_together():
    from pathlib import Path

    from qa.index import default_corpus

    data = Path(__file__).parent / "data"
    article = normalise((default_corpus() / "chi-linh-so-ket-giua-nhiem-ky-2023-05-16.txt").read_text("utf-8"))
    inside = [json.loads(x) for x in (data / "chi_linh_questions.jsonl").read_text("utf-8").splitlines()]
    outside = [json.loads(x) for x in (data / "out_of_corpus_questions.jsonl").read_text("utf-8").splitlines()]
    assert len(inside) >= 60 and len(outside) >= 100
    assert all(normalise(q["answer"]) in article for q in inside)
    assert {q["split"] for q in inside + outside} == {"tune", "heldout"}


def test_answers_are_compared_as_squad_does_made_vietnamese():
    from qa.evaluate import answer_tokens, exact_match, token_f1

    assert answer_tokens(unicodedata.normalize("NFD", "Hoà Bình, “Thủy”!")) == ["hòa", "bình", "thủy"]
    assert exact_match("  HOÀ BÌNH. ", ("hòa bình",)) == 1.0 and exact_match("Hòa", ("hòa bình",)) == 0.0
    assert token_f1("87 triệu đồng", ("87 triệu",)) == pytest.approx(0.8)  # precision 2/3, recall 1
    assert token_f1("87 triệu", ("1%", "87 triệu")) == 1.0  # the closest gold answer counts
    assert token_f1("Hoàng Quốc Thưởng", ("Nguyễn Văn Kiên",)) == 0.0


def _eval(index, questions, *options):
    """The result of `qa eval QUESTIONS --index INDEX --variant original OPTIONS...` run in-process."""
    arguments = ["eval", str(questions), "--index", str(index), "--variant", "original", *map(str, options)]
    return CliRunner().invoke(main, arguments)


def _squad(tmp_path):
    """Two articles of one paragraph each, one question on each."""

    def article(title, context, question, answer):
        return {
            "title": title,
            "paragraphs": [
                {
                    "context": context,
                    "qas": [
                        {
                            "id": title,
                            "question": question,
                            "answers": [{"text": answer, "answer_start": context.index(answer)}],
                        }
                    ],
                }
            ],
        }

    path = tmp_path / "squad.json"
    path.write_text(
        json.dumps(
            {
                "data": [
                    article(
                        "Chí Linh",
                        "Bí thư Thành ủy Chí Linh Hoàng Quốc Thưởng phát biểu kết luận tại hội nghị sơ kết.",
                        "Ai là Bí thư Thành ủy Chí Linh?",
                        "Hoàng Quốc Thưởng",
                    ),
                    article(
                        "Tesla",
                        "Tesla hợp tác với hai doanh nhân Robert Lane và Benjamin Vail vào năm 1886 ở New Jersey.",
                        "Tesla hợp tác với các doanh nhân vào năm nào?",
                        "1886",
                    ),
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def test_short_answers_are_scored_per_answer_type_and_split_by_article(tmp_path):
    path = _squad(tmp_path)
    report = evaluate(path, 10, ["original"])
    short = report["short_answer"]
    assert short["questions"] == 2 and short["coverage"] == 1.0
    assert short["types"]["person"] == {"questions": 1, "coverage": 1.0, "exact_match": 1.0, "f1": 1.0}
    assert short["types"]["time"]["f1"] == pytest.approx(2 / 3)  # "năm 1886" against "1886"
    assert short["exact_match"] == 0.5
    tune, heldout = evaluate(path, 10, ["original"], split="tune"), evaluate(path, 10, ["original"], split="heldout")
    assert tune["questions"] == heldout["questions"] == 1
    assert list(tune["short_answer"]["types"]) == ["person"] and list(heldout["short_answer"]["types"]) == ["time"]
    shown = CliRunner().invoke(main, ["eval", str(path), "--variant", "original"])
    assert shown.exit_code == 0 and "short answers: coverage 1.0000" in shown.output and "person" in shown.output


def _keyword_set(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_keyword_queries_report_found_first_and_not_found(tmp_path, default_index_dir):
    keywords = _keyword_set(
        tmp_path / "k.jsonl",
        [
            {"question": "thu ngân sách", "answer": "3.200 tỷ đồng", "corpus": "article", "split": "tune"},
            {"question": "tiết mục văn nghệ", "answer": "văn nghệ chào mừng", "corpus": "article", "split": "tune"},
            {"question": "Tesla", "answer": "Tesla", "corpus": "squad", "split": "tune"},  # no SQuAD file: left out
            {"question": "thời tiết", "topic": "thời tiết", "split": "tune"},
            {"question": "giá nhà", "topic": "bất động sản", "corpus": "article", "split": "heldout"},
        ],
    )
    questions = _keyword_set(
        tmp_path / "q.jsonl", [{"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%", "split": "tune"}]
    )
    misses: list = []
    report = evaluate(questions, 10, ["original"], default_index_dir, "all", None, misses, keywords)
    assert report["keywords"] == 2 and report["keywords_found_first"] == 1.0
    assert report["keyword_negatives"] == 2 and report["keyword_negatives_not_found"] == 1.0 and misses == []
    result = _eval(default_index_dir, questions, "--keywords", keywords, "--split", "tune")
    assert result.exit_code == 0, result.output
    assert "2 keyword queries in the corpus" in result.output and "1 keyword queries out of it" in result.output


def test_a_keyword_query_found_elsewhere_is_a_miss(tmp_path, default_index_dir):
    keywords = _keyword_set(
        tmp_path / "k.jsonl",
        [
            {"question": "thu ngân sách", "answer": "không có ở đâu", "corpus": "article"},
            {"question": "cải cách hành chính", "topic": "planted: the article has it"},
        ],
    )
    questions = _keyword_set(tmp_path / "q.jsonl", [{"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%"}])
    misses: list = []
    report = evaluate(questions, 10, ["original"], default_index_dir, "all", None, misses, keywords)
    assert report["keywords_found_first"] == 0.0 and report["keyword_negatives_not_found"] == 0.0
    assert [m["variant"] for m in misses] == ["keywords", "keywords-out"]


def test_a_keyword_set_needs_both_kinds_of_rows(tmp_path, default_index_dir):
    keywords = _keyword_set(tmp_path / "k.jsonl", [{"question": "thời tiết", "topic": "thời tiết"}])
    questions = _keyword_set(tmp_path / "q.jsonl", [{"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%"}])
    result = _eval(default_index_dir, questions, "--keywords", keywords)
    assert result.exit_code == 2 and str(keywords) in result.output


def test_shipped_keyword_set_holds_together(engine):
    from pathlib import Path

    from qa.settings import KEYWORD_SYLLABLES
    from qa.text import SYLLABLE

    passages = [engine.index.passage(n).text for n in range(engine.index.n_passages)]
    rows = [
        json.loads(x)
        for x in (Path(__file__).parent / "data" / "keyword_queries.jsonl").read_text("utf-8").splitlines()
    ]
    inside = [r for r in rows if r.get("answer")]
    outside = [r for r in rows if not r.get("answer")]
    assert len(inside) >= 150 and len(outside) >= 150 and len({r["question"] for r in rows}) == len(rows)
    assert {r["corpus"] for r in inside} == {"article", "squad"} and all(r["topic"] for r in outside)
    assert all(any(normalise(r["answer"]) in p for p in passages) for r in inside if r["corpus"] == "article")
    assert all(1 <= len(SYLLABLE.findall(r["question"])) <= KEYWORD_SYLLABLES for r in rows)
    for kind in (inside, outside):
        held = sum(r["split"] == "heldout" for r in kind) / len(kind)
        assert 0.25 <= held <= 0.45 and {r["split"] for r in kind} == {"tune", "heldout"}


def test_a_keyword_row_with_an_answer_that_is_not_text_exits_2(tmp_path, default_index_dir):
    keywords = _keyword_set(
        tmp_path / "k.jsonl",
        [
            {"question": "thu ngân sách", "answer": 3200, "corpus": "article"},
            {"question": "thời tiết", "topic": "thời tiết"},
        ],
    )
    questions = _keyword_set(tmp_path / "q.jsonl", [{"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%"}])
    result = _eval(default_index_dir, questions, "--keywords", keywords)
    assert result.exit_code == 2 and "must be strings" in result.output


def test_followups_report_the_last_turn_with_history_and_alone_per_split(tmp_path, default_index_dir):
    dialogues = _keyword_set(
        tmp_path / "f.jsonl",
        [
            {
                "turns": ["Ai phát biểu chỉ đạo tại hội nghị?", "Ông ấy giữ chức vụ gì?"],
                "answer": "Phó Bí thư Thường trực Tỉnh ủy",
                "corpus": "article",
                "split": "tune",
            },
            {
                "turns": ["Thu nhập bình quân đầu người năm 2022 đạt bao nhiêu?", "Còn tỷ lệ hộ nghèo?"],
                "answer": "1%",
                "corpus": "article",
                "split": "heldout",
            },
            {"turns": ["Tesla hợp tác với ai?", "Năm nào?"], "answer": "1886", "corpus": "squad", "split": "tune"},
        ],
    )
    questions = _keyword_set(tmp_path / "q.jsonl", [{"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%"}])
    misses: list = []
    report = evaluate(questions, 10, ["original"], default_index_dir, "all", None, misses, followups=dialogues)
    tune = report["followups"]["tune"]  # the SQuAD dialogue is left out: no SQuAD file was asked
    assert tune["dialogues"] == 1 and tune["with_history"]["hit@1"] == 1.0 and tune["alone"]["hit@1"] == 0.0
    heldout = report["followups"]["heldout"]
    assert heldout["dialogues"] == 1 and heldout["with_history"] == {"hit@1": 1.0, "found": 1.0}
    squad = evaluate(_squad(tmp_path), 10, ["original"], default_index_dir, "tune", followups=dialogues)
    assert list(squad["followups"]) == ["tune"] and squad["followups"]["tune"]["dialogues"] == 2
    shown = _eval(default_index_dir, questions, "--followups", dialogues)
    assert shown.exit_code == 0 and "follow-ups, heldout: 1 dialogues" in shown.output


def test_a_followup_set_without_turns_exits_2(tmp_path, default_index_dir):
    dialogues = _keyword_set(tmp_path / "f.jsonl", [{"turns": "Ở đâu?", "answer": "Chí Linh", "corpus": "article"}])
    questions = _keyword_set(tmp_path / "q.jsonl", [{"question": "Tỷ lệ hộ nghèo còn bao nhiêu?", "answer": "1%"}])
    result = _eval(default_index_dir, questions, "--followups", dialogues)
    assert result.exit_code == 2 and str(dialogues) in result.output


def test_unrelated_history_is_measured_against_asking_alone(tmp_path):
    report = evaluate(_squad(tmp_path), 10, ["original"], unrelated_history=True)
    row = report["unrelated_history"]
    assert row["questions"] == 2 and row["hit@1_alone"] == report["hit@1"] == 1.0
    assert row["change"] == row["hit@1"] - row["hit@1_alone"]
    shown = CliRunner().invoke(
        main, ["eval", str(_squad(tmp_path)), "--variant", "original", "--with-unrelated-history"]
    )
    assert shown.exit_code == 0 and "2 questions each asked with an unrelated earlier question" in shown.output


def test_shipped_followup_set_holds_together(engine):
    from pathlib import Path

    passages = [engine.index.passage(n).text for n in range(engine.index.n_passages)]
    rows = [json.loads(x) for x in (Path(__file__).parent / "data" / "followups.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) >= 80 and all(2 <= len(r["turns"]) <= 3 for r in rows)
    assert {r["corpus"] for r in rows} == {"article", "squad"} and {r["split"] for r in rows} == {"tune", "heldout"}
    assert all(any(normalise(r["answer"]) in p for p in passages) for r in rows if r["corpus"] == "article")
    assert 0.25 <= sum(r["split"] == "heldout" for r in rows) / len(rows) <= 0.45
