"""Retrieval quality, measured the ways people ask: SQuAD-format data or question sets over an index."""

from __future__ import annotations

import json
import random
import re
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass
from math import fsum
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from . import index, store
from .corpus import make_document
from .settings import DEFAULT_TOP_K
from .text import fold, normalise

if TYPE_CHECKING:  # imported where an evaluation runs: the CLI imports this module for VARIANTS' names
    from .search import Engine, Result

_OLD_TONES = re.compile(r"(?<![qQ])([òóỏõọÒÓỎÕỌ])([aeAE])(?!\w)|(?<![qQ])([ùúủũụÙÚỦŨỤ])([yY])(?!\w)")


class DatasetError(ValueError):
    """The dataset is not one we can read: the message says which file and why."""


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]  # gold answer texts
    doc_id: str | None = None  # SQuAD: the paragraph that answers it; None: a passage holding an answer is a hit


def _old_tones(text: str) -> str:
    """The text with the tone mark on the second vowel, as older spelling has it: hòa -> hoà, thủy -> thuỷ."""

    def move(match: re.Match) -> str:
        first, second = match.group(1) or match.group(3), match.group(2) or match.group(4)
        base, *marks = unicodedata.normalize("NFD", first)
        return base + unicodedata.normalize("NFC", second + "".join(marks))

    return _OLD_TONES.sub(move, unicodedata.normalize("NFC", text))


def _typo(text: str, seed: str) -> str:
    """The text with one letter of one syllable dropped or two letters swapped, the same for the same seed."""
    rng = random.Random(seed)
    words = [m for m in re.finditer(r"[^\W\d_]{3,}", text)]
    if not words:
        return text
    word = rng.choice(words)
    letters = list(word.group())
    at = rng.randrange(len(letters) - 1)
    if rng.random() < 0.5:
        del letters[at]
    else:
        letters[at], letters[at + 1] = letters[at + 1], letters[at]
    return text[: word.start()] + "".join(letters) + text[word.end() :]


VARIANTS: dict[str, Callable[[str, str], str]] = {
    "original": lambda text, seed: text,
    "no-diacritics": lambda text, seed: fold(text),
    "uppercase": lambda text, seed: text.upper(),
    "nfd": lambda text, seed: unicodedata.normalize("NFD", text),
    "old-tones": lambda text, seed: _old_tones(text),
    "typo": _typo,
}


def load_squad(path: Path) -> tuple[list, list[Question]]:
    """The paragraphs of a SQuAD-format file as documents, and its questions with their gold paragraph and answer
    texts."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        documents, questions = [], []
        for a, article in enumerate(data):
            for p, paragraph in enumerate(article["paragraphs"]):
                doc_id = f"{a}-{p}"
                documents.append(
                    make_document(
                        doc_id, paragraph["context"].split("\n"), str(path), title=article.get("title") or doc_id
                    )
                )
                for qa in paragraph["qas"]:
                    answers = tuple(normalise(x["text"]) for x in qa.get("answers", []))
                    questions.append(Question(qa["question"], answers, doc_id))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise DatasetError(f"{path} is not a readable SQuAD-format dataset ({type(error).__name__}: {error})") from None
    if not questions:
        raise DatasetError(f"{path} has no questions")
    return documents, questions


def load_questions(path: Path, split: str = "all") -> list[dict]:
    """The rows of a JSON-lines question set ({"question", "answer"?, "split"?} per line) of one split, or all."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [r for r in rows if split == "all" or r.get("split") == split]
        if not rows or not all(isinstance(r.get("question"), str) for r in rows):
            raise DatasetError(f'{path}: every line must be an object with a "question" string')
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise DatasetError(f"{path} is not a readable JSON-lines question set ({error})") from None
    return rows


def _engine_for(dataset: Path, index_dir: Path | None, split: str, build_dir: Path) -> tuple[Engine, list[Question]]:
    """An engine and the questions to ask it: a SQuAD file indexed on its own, a question set asked of an index
    (the built-in article by default)."""
    from .search import Engine

    if dataset.suffix == ".jsonl":
        rows = load_questions(dataset, split)
        questions = [Question(r["question"], (normalise(r.get("answer") or ""),)) for r in rows]
        return Engine(index.collection(index_dir)), questions
    documents, questions = load_squad(dataset)
    index.build_documents(documents, build_dir)
    return Engine(store.load(build_dir)), _squad_split(questions, split)


def _squad_split(questions: list[Question], split: str) -> list[Question]:
    """The questions on the first half of the articles (tune) or on the rest (heldout), or all: a rule chosen on
    some articles is then measured on articles it never saw."""
    if split == "all":
        return questions
    articles = sorted({int(q.doc_id.split("-")[0]) for q in questions})
    tune = set(articles[: len(articles) // 2])
    return [q for q in questions if (int(q.doc_id.split("-")[0]) in tune) == (split == "tune")]


def _is_hit(question: Question, passage_doc: str, text: str) -> bool:
    """Whether a passage answers: one of the gold paragraph (SQuAD), or one holding a gold answer."""
    if question.doc_id is not None:
        return passage_doc == question.doc_id
    return any(answer and answer in text for answer in question.answers)


def _score(engine: Engine, questions: list[Question], variant: str, top_k: int, misses: list[dict]) -> dict:
    """One row of the table: the figures of one way of asking."""
    change = VARIANTS[variant]
    hit1 = hit5 = reciprocal = in_top1 = right_top1 = sentence_has = n_found = 0.0
    for number, question in enumerate(questions):
        asked = change(question.text, f"{variant}:{number}")
        result = engine.ask(asked, top_k)
        n_found += result.found
        rank = next((a.rank for a in result.answers if _is_hit(question, a.doc_id, a.text)), None)
        hit1 += rank == 1
        hit5 += rank is not None and rank <= 5
        reciprocal += 1 / rank if rank else 0.0
        top = result.answers[0] if result.answers else None
        in_top1 += top is not None and any(x and x in top.text for x in question.answers)
        if rank == 1:
            right_top1 += 1
            sentence_has += any(x and x in top.sentence for x in question.answers)
        else:
            misses.append(_miss(variant, question, asked, result, rank))
    n = len(questions)
    return {
        "variant": variant,
        "questions": n,
        "hit@1": hit1 / n,
        "hit@5": hit5 / n,
        f"mrr@{top_k}": reciprocal / n,
        "answer_in_top1": in_top1 / n,
        "sentence_has_answer": sentence_has / right_top1 if right_top1 else 0.0,
        "found": n_found / n,
    }


def _miss(variant: str, question: Question, asked: str, result: Result, rank: int | None) -> dict:
    """What a person needs to see why a question missed: what was asked, what came first, where the gold was."""
    top = result.answers[0] if result.answers else None
    return {
        "variant": variant,
        "question": question.text,
        "asked": asked,
        "answers": list(question.answers),
        "gold_doc": question.doc_id,
        "gold_rank": rank,
        "found": result.found,
        "top": None if top is None else {"passage_id": top.passage_id, "score": top.score, "sentence": top.sentence},
    }


def _negatives(engine: Engine, path: Path, split: str) -> dict:
    """How many questions the corpus cannot answer there are, and the share rightly marked not found."""
    rows = load_questions(path, split)
    refused = sum(not engine.ask(r["question"], DEFAULT_TOP_K).found for r in rows)
    return {"negatives": len(rows), "negatives_not_found": refused / len(rows)}


_PUNCTUATION = re.compile(r"[^\w\s]|_")


def answer_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation, for Vietnamese: one spelling (NFC, tone placement), lowercase, no punctuation;
    the syllables left (Vietnamese has no articles to drop)."""
    return _PUNCTUATION.sub(" ", normalise(text).lower()).split()


def exact_match(prediction: str, golds: tuple[str, ...]) -> float:
    """1.0 when the prediction is one of the gold answers once normalised, else 0.0."""
    return float(any(answer_tokens(prediction) == answer_tokens(gold) for gold in golds))


def token_f1(prediction: str, golds: tuple[str, ...]) -> float:
    """SQuAD's token F1 against the closest gold answer: the harmonic mean of the shared syllables' precision and
    recall."""
    said = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        wanted = answer_tokens(gold)
        shared = sum((Counter(said) & Counter(wanted)).values())
        if shared:
            precision, recall = shared / len(said), shared / len(wanted)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def _short_answers(engine: Engine, questions: list[Question]) -> dict:
    """Coverage (share of questions given a short answer), exact match and token F1 over those given one: overall
    and per answer type the question asks for."""
    from .short_answer import asked_for

    rows: dict[str, list[tuple[float, float] | None]] = {}
    for question in questions:
        result = engine.ask(question.text, 1)
        given = result.answers[0].short_answer if result.answers else None
        asked = asked_for(question.text)
        row = (
            (exact_match(given["text"], question.answers), token_f1(given["text"], question.answers)) if given else None
        )
        rows.setdefault(asked.kind.value if asked else "other", []).append(row)

    def figures(scored: list[tuple[float, float] | None]) -> dict:
        given = [r for r in scored if r is not None]
        return {
            "questions": len(scored),
            "coverage": len(given) / len(scored) if scored else 0.0,
            "exact_match": fsum(em for em, _ in given) / len(given) if given else 0.0,
            "f1": fsum(f1 for _, f1 in given) / len(given) if given else 0.0,
        }

    every = [row for scored in rows.values() for row in scored]
    return {**figures(every), "types": {kind: figures(scored) for kind, scored in sorted(rows.items())}}


def _keywords(engines: dict[str, Engine], path: Path, split: str, misses: list[dict]) -> dict:
    """Short queries ({"question", "answer" or "topic", "corpus"?}): the share of those with an answer found with a
    passage holding it first, and of those without marked not found.

    Each is asked of the collection its "corpus" names: "squad", the SQuAD-format dataset's paragraphs, or "article",
    the --index collection (the built-in article by default). One without an answer and without a corpus is asked of
    every collection and must be not found in each. Rows of a corpus this run has no collection for are left out.
    """
    rows = load_questions(path, split)
    if not all(isinstance(r.get("answer", ""), str) and isinstance(r.get("corpus", ""), str) for r in rows):
        raise DatasetError(f'{path}: "answer" and "corpus" must be strings')
    rows = [r for r in rows if r.get("corpus", "any") in (*engines, "any")]
    answered = [r for r in rows if r.get("answer")]
    if not answered or len(answered) == len(rows):
        raise DatasetError(f"{path}: a keyword set needs rows with an answer and rows without, in {sorted(engines)}")
    first = 0
    for row in answered:
        result = engines[row["corpus"]].ask(row["question"], DEFAULT_TOP_K)
        if result.found and normalise(row["answer"]) in result.answers[0].text:
            first += 1
        else:
            misses.append(_miss("keywords", Question(row["question"], (row["answer"],)), row["question"], result, None))
    unanswered = [r for r in rows if not r.get("answer")]
    refused = 0
    for row in unanswered:
        corpora = [row["corpus"]] if "corpus" in row else list(engines)
        asked = [engines[corpus].ask(row["question"], DEFAULT_TOP_K) for corpus in corpora]
        refused += not any(result.found for result in asked)
        misses += [
            _miss("keywords-out", Question(row["question"], ()), row["question"], result, None)
            for result in asked
            if result.found
        ]
    return {
        "keywords": len(answered),
        "keywords_found_first": first / len(answered),
        "keyword_negatives": len(unanswered),
        "keyword_negatives_not_found": refused / len(unanswered),
    }


def load_dialogues(path: Path, split: str = "all") -> list[dict]:
    """The rows of a JSON-lines follow-up set ({"turns": [questions], "answer", "corpus", "split"} per line) of one
    split, or all."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        good = all(
            isinstance(r.get("turns"), list)
            and len(r["turns"]) >= 2
            and all(isinstance(t, str) for t in r["turns"])
            and isinstance(r.get("answer"), str)
            and r["answer"]
            and isinstance(r.get("corpus"), str)
            for r in rows
        )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise DatasetError(f"{path} is not a readable JSON-lines follow-up set ({error})") from None
    if not rows or not good:
        raise DatasetError(
            f'{path}: every line must be an object with "turns" (2 or more questions), "answer" and "corpus"'
        )
    return [r for r in rows if split == "all" or r.get("split") == split]


def _followups(engines: dict[str, Engine], path: Path, split: str, misses: list[dict]) -> dict:
    """Per split, the last turns of the dialogues: the share with a passage holding the answer first, and the share
    found, asked with the earlier turns as history and asked alone. Dialogues over a corpus this run has no
    collection for are left out."""
    report = {}
    for part in ("tune", "heldout") if split == "all" else (split,):
        rows = [r for r in load_dialogues(path, part) if r["corpus"] in engines]
        if not rows:
            continue
        figures = {"dialogues": len(rows)}
        for way in ("with_history", "alone"):
            first = found = 0
            for row in rows:
                *earlier, last = row["turns"]
                result = engines[row["corpus"]].ask(
                    last, DEFAULT_TOP_K, history=earlier if way == "with_history" else ()
                )
                found += result.found
                if result.answers and normalise(row["answer"]) in result.answers[0].text:
                    first += 1
                elif way == "with_history":
                    misses.append(
                        _miss(f"followups-{part}", Question(last, (row["answer"],)), result.asked or last, result, None)
                    )
            figures[way] = {"hit@1": first / len(rows), "found": found / len(rows)}
        report[part] = figures
    return {"followups": report}


def _unrelated_history(engine: Engine, questions: list[Question], alone_hit1: float, top_k: int) -> dict:
    """Hit@1 of the questions each asked with an unrelated earlier question as history (one on an article half the
    dataset away), beside Hit@1 asked alone: a question that stands on its own must not change."""
    hits = 0
    for number, question in enumerate(questions):
        earlier = questions[(number + len(questions) // 2) % len(questions)].text
        result = engine.ask(question.text, top_k, history=[earlier])
        hits += bool(result.answers) and _is_hit(question, result.answers[0].doc_id, result.answers[0].text)
    with_history = hits / len(questions)
    return {
        "unrelated_history": {
            "questions": len(questions),
            "hit@1": with_history,
            "hit@1_alone": alone_hit1,
            "change": with_history - alone_hit1,
        }
    }


def evaluate(
    dataset: Path,
    top_k: int = 10,
    variants: list[str] | None = None,
    index_dir: Path | None = None,
    split: str = "all",
    negatives: Path | None = None,
    misses: list[dict] | None = None,
    keywords: Path | None = None,
    followups: Path | None = None,
    unrelated_history: bool = False,
) -> dict:
    """The first variant's figures at the top level, every variant's under "variants", negatives, keywords,
    follow-ups and the change of Hit@1 with unrelated history if asked for."""
    from .search import Engine

    variants = variants or list(VARIANTS)
    misses = [] if misses is None else misses
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as build_dir:
        engine, questions = _engine_for(dataset, index_dir, split, Path(build_dir))
        rows = [_score(engine, questions, variant, top_k, misses) for variant in variants]
        extra = _negatives(engine, negatives, split) if negatives else {}
        short = _short_answers(engine, questions)
        if keywords or followups:
            engines = (
                {"article": engine}
                if dataset.suffix == ".jsonl"
                else {"squad": engine, "article": Engine(index.collection(index_dir))}
            )
        if keywords:
            extra |= _keywords(engines, keywords, split, misses)
        if followups:
            extra |= _followups(engines, followups, split, misses)
        if unrelated_history:
            original = next((r for r in rows if r["variant"] == "original"), None) or _score(
                engine, questions, "original", top_k, []
            )
            extra |= _unrelated_history(engine, questions, original["hit@1"], top_k)
    first = {k: v for k, v in rows[0].items() if k != "variant"}
    return {**first, **extra, "variants": rows, "short_answer": short}


def rows_as_table(report: dict) -> Iterator[str]:
    """The report as aligned text rows, one per variant."""
    keys = [k for k in report["variants"][0] if k not in ("variant", "questions")]
    yield f"{'variant':<14}" + "".join(f"{k:>20}" for k in keys)
    for row in report["variants"]:
        yield f"{row['variant']:<14}" + "".join(f"{row[k]:>20.4f}" for k in keys)
    yield f"{report['questions']} questions"
    short = report["short_answer"]
    yield (
        f"short answers: coverage {short['coverage']:.4f}, exact match {short['exact_match']:.4f}, "
        f"F1 {short['f1']:.4f} (over those given)"
    )
    for kind, row in short["types"].items():
        yield (
            f"  {kind:<10}{row['questions']:>6} questions  coverage {row['coverage']:.4f}  "
            f"exact match {row['exact_match']:.4f}  F1 {row['f1']:.4f}"
        )
    if "negatives" in report:
        yield (
            f"{report['negatives']} out-of-corpus questions, share marked not found: "
            f"{report['negatives_not_found']:.4f}"
        )
    if "keywords" in report:
        yield (
            f"{report['keywords']} keyword queries in the corpus, share found with a passage holding the answer "
            f"first: {report['keywords_found_first']:.4f}"
        )
        yield (
            f"{report['keyword_negatives']} keyword queries out of it, share marked not found: "
            f"{report['keyword_negatives_not_found']:.4f}"
        )
    for part, row in report.get("followups", {}).items():
        yield (
            f"follow-ups, {part}: {row['dialogues']} dialogues, last turn Hit@1 {row['with_history']['hit@1']:.4f} "
            f"found {row['with_history']['found']:.4f} with history; Hit@1 {row['alone']['hit@1']:.4f} "
            f"found {row['alone']['found']:.4f} alone"
        )
    if "unrelated_history" in report:
        row = report["unrelated_history"]
        yield (
            f"{row['questions']} questions each asked with an unrelated earlier question: Hit@1 {row['hit@1']:.4f}"
            f" (alone {row['hit@1_alone']:.4f}, change {row['change']:+.4f})"
        )
