"""What the sharding tests share: documents spread over shards, 200 questions, and answers compared."""

import json
from pathlib import Path

import pytest

from qa import index

DATA = Path(__file__).parent / "data"


def write_documents(folder: Path) -> list[Path]:
    """The built-in article, the test pages, and each paragraph of the article as a document of its own."""
    article = next(index.default_corpus().glob("*.txt")).read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in article.split("\n") if len(p.strip()) > 80]
    lines = [
        json.dumps({"id": f"para-{i}", "title": f"Đoạn {i}", "text": p}, ensure_ascii=False)
        for i, p in enumerate(paragraphs)
    ]
    (folder / "paragraphs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [index.default_corpus(), DATA / "pages", folder / "paragraphs.jsonl"]


def questions(count: int = 200) -> list[str]:
    """Hand-written questions about the article, then out-of-corpus ones."""
    lines = (DATA / "chi_linh_questions.jsonl").read_text(encoding="utf-8").splitlines() + (
        DATA / "out_of_corpus_questions.jsonl"
    ).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:count]


def same_answers(one: dict, other: dict) -> None:
    """Asserts two results of ask give the same answers, scores to 1e-6 (took_ms aside)."""
    assert one["found"] == other["found"], one["question"]
    assert len(one["answers"]) == len(other["answers"]), one["question"]
    for a, b in zip(one["answers"], other["answers"]):
        assert a["score"] == pytest.approx(b["score"], abs=1e-6), one["question"]
        if a["passage_id"] != b["passage_id"]:  # only a tie may order two passages differently
            assert any(
                c["passage_id"] == a["passage_id"] and c["score"] == pytest.approx(a["score"], abs=1e-6)
                for c in other["answers"]
            ), one["question"]
            continue
        assert {k: v for k, v in a.items() if k != "score"} == {k: v for k, v in b.items() if k != "score"}
