"""qa.segment gives what underthesea's own tokenize and word_tokenize give, on every text the project ships."""

import json
from pathlib import Path

import pytest
from underthesea import word_tokenize
from underthesea.pipeline.word_tokenize.regex_tokenize import tokenize

from qa import segment
from qa.index import default_corpus
from qa.text import analyse_question, normalise

DATA = Path(__file__).parent / "data"

ODD = [
    "",
    " ",
    "ð Ð hoà thuỷ nghành baì",  # characters and spellings underthesea normalises
    "https://vnexpress.net/a-b?c=1 email@x.vn 0912.345.678",
    "1.600m-2.000m 12/3/2024 50% $5 😀 :) ... Sky+ HD",
    "UBND TP.HCM, HĐND tỉnh; Covid-19",
    "a_b c\u0301 \t\n x",
]


def _texts() -> list[str]:
    """The built-in article's lines and every question and query of tests/data, as written and normalised."""
    texts = [
        line for f in sorted(default_corpus().glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()
    ]
    for name in ("chi_linh_questions", "keyword_queries", "out_of_corpus_questions", "followups"):
        for row in map(json.loads, (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()):
            texts += [v for v in row.values() if isinstance(v, str)]
            texts += [t for v in row.values() if isinstance(v, list) for t in v if isinstance(t, str)]
    return texts + ODD


TEXTS = _texts()


def test_the_texts_are_many():
    assert len(TEXTS) > 700


@pytest.mark.parametrize("form", [str, normalise], ids=["as written", "normalised"])
def test_tokens_and_words_are_underthesea_s(form):
    differ = [t for t in map(form, TEXTS) if segment.tokens(t) != tokenize(t) or segment.words(t) != word_tokenize(t)]
    assert differ == []


def test_unsegmented_words_are_the_tokens():
    text = "Ai là Bí thư Thành ủy Chí Linh?"
    assert segment.words(text) == ["Ai", "là", "Bí thư", "Thành ủy", "Chí Linh", "?"]
    assert segment.words(text, segmented=False) == segment.tokens(text) == text[:-1].split() + ["?"]


def test_a_question_typed_without_marks_is_not_segmented_and_means_the_same():
    # Only words written with marks are asked, so the tagger's words would go unused.
    asked = analyse_question("ai la bi thu thanh uy chi linh?")
    assert not any(term.startswith("w:") for term, _ in asked.terms)
    assert ("p:thanh_uy", 1) in asked.terms and ("p:chi_linh", 1) in asked.terms
