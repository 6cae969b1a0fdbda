"""Retrieval quality on SQuAD-format data: every paragraph a document, every question asked."""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import index
from .corpus import make_document
from .search import Engine
from .text import normalise


class DatasetError(ValueError):
    """The dataset is not SQuAD-format JSON we can read."""


@dataclass(frozen=True)
class Question:
    text: str
    doc_id: str  # the paragraph that answers it
    answers: tuple[str, ...]


def load_squad(path: Path) -> tuple[list, list[Question]]:
    """Paragraphs as documents and questions with their gold paragraph and answer texts."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        documents, questions = [], []
        for a, article in enumerate(data):
            for p, paragraph in enumerate(article["paragraphs"]):
                doc_id = f"{a}-{p}"
                documents.append(make_document(doc_id, paragraph["context"].split("\n"), str(path),
                                               title=article.get("title") or doc_id))
                for qa in paragraph["qas"]:
                    answers = tuple(normalise(x["text"]) for x in qa.get("answers", []))
                    questions.append(Question(qa["question"], doc_id, answers))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise DatasetError(f"{path} is not a readable SQuAD-format dataset ({type(error).__name__}: {error})")
    if not questions:
        raise DatasetError(f"{path} has no questions")
    return documents, questions


def evaluate(path: Path, top_k: int = 10) -> dict:
    """Hit@1, Hit@5, MRR@top_k (a hit: a passage of the question's own paragraph) and answer-in-top-1."""
    documents, questions = load_squad(path)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as directory:
        engine = Engine(index.load(_built(documents, Path(directory))))
        hits1 = hits5 = reciprocal = in_top1 = 0.0
        for question in questions:
            answers = engine.ask(question.text, top_k).answers
            rank = next((a.rank for a in answers if a.doc_id == question.doc_id), None)
            hits1 += rank == 1
            hits5 += rank is not None and rank <= 5
            reciprocal += 1 / rank if rank else 0
            in_top1 += bool(answers) and any(x in answers[0].text for x in question.answers)
    n = len(questions)
    return {"questions": n, "hit@1": hits1 / n, "hit@5": hits5 / n, f"mrr@{top_k}": reciprocal / n,
            "answer_in_top1": in_top1 / n}


def _built(documents: list, directory: Path) -> Path:
    index.build_documents(documents, directory)
    return directory
