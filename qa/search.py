"""The engine: a question in, the passages that answer it out, best sentence and matched words marked."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from .corpus import sentence_spans
from .index import Index
from .text import ABBREVIATIONS, STOPWORDS, analyse_question, fold, syllables

MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 20
# When the best passage counts as an answer: it holds this share of the question's content, weighing
# syllables and (twice) syllable pairs by idf, a term no passage has by a part of the rarest idf.
# Chosen on the tune splits of tests/data and XQuAD-vi (docs/quality.md).
MIN_CREDIBILITY = 0.3
PAIR_WEIGHT = 2.0
UNSEEN_SYLLABLE = 0.7
UNSEEN_PAIR = 0.6
_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)


class QuestionError(ValueError):
    """The question cannot be asked: the message says why, for the person who asked it."""

    code = "bad_question"


class QuestionTooLong(QuestionError):
    code = "question_too_long"


@dataclass
class Answer:
    rank: int
    passage_id: str
    doc_id: str
    title: str
    text: str
    score: float
    sentence: str
    highlights: list[list[int]]  # [start, end) offsets into text of the words that matched


@dataclass
class Result:
    question: str
    found: bool
    answers: list[Answer] = field(default_factory=list)
    took_ms: float = 0.0

    def to_dict(self) -> dict:
        """The JSON shape every face prints: {"question", "found", "answers", "took_ms"}."""
        return asdict(self)


class Engine:
    """Answers questions from one loaded index; safe to share between threads (it holds no mutable state)."""

    def __init__(self, index: Index):
        self.index = index

    @property
    def stats(self) -> dict:
        return {"documents": len(self.index.documents), "passages": self.index.n_passages}

    def ask(self, question: str, top_k: int = 3) -> Result:
        started = time.perf_counter()
        question = check_question(question)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
            raise QuestionError(f"top_k must be a whole number from 1 to {MAX_TOP_K}")
        terms, keywords = analyse_question(question)
        numbers, scores = self.index.postings.top(terms, top_k)
        keep = scores > 0
        numbers, scores = numbers[keep], scores[keep]
        weights = self._keyword_weights(keywords)
        answers = [self._answer(rank, int(n), float(s), weights)
                   for rank, (n, s) in enumerate(zip(numbers, scores), start=1)]
        found = bool(answers) and self._credibility(answers[0].text, weights, terms) >= MIN_CREDIBILITY
        took = (time.perf_counter() - started) * 1000
        return Result(question, found, answers, round(took, 3))

    def _idf(self, terms: list[str], unseen: float) -> list[float]:
        """idf of each term; one no passage has counts as a part of the rarest idf (a typo is not evidence)."""
        postings = self.index.postings
        rows = postings.lookup(terms)
        rarest = float(postings.term_idf(["\0"])[0])
        return [float(postings.idf[r]) if r >= 0 else unseen * rarest for r in rows]

    def _keyword_weights(self, keywords: list[str]) -> dict[str, float]:
        """How much each content syllable of the question says: its idf, nothing for function words."""
        content = [k for k in keywords if k not in _FOLDED_STOPWORDS]
        return dict(zip(content, self._idf(["f:" + k for k in content], UNSEEN_SYLLABLE)))

    def _credibility(self, text: str, weights: dict[str, float], terms: dict[str, float]) -> float:
        """Share of the question's weight the passage holds: its syllables, and its pairs twice over."""
        pairs = [t for t in terms if t.startswith("p:")]
        pair_weights = [w * PAIR_WEIGHT for w in self._idf(pairs, UNSEEN_PAIR)]
        folded = [key for _, _, syllable in syllables(text) for key in _syllable_keys(syllable)]
        present = {f"p:{a}_{b}" for a, b in zip(folded, folded[1:])}
        held_syllables = set(folded)
        total = sum(weights.values()) + sum(pair_weights)
        held = sum(w for k, w in weights.items() if k in held_syllables)
        held += sum(w for p, w in zip(pairs, pair_weights) if p in present)
        return held / total if total > 0 else 0.0

    def _answer(self, rank: int, number: int, score: float, weights: dict[str, float]) -> Answer:
        passage = self.index.passage(number)
        spans = _matches(passage.text, weights)
        sentence = _best_sentence(passage.text, spans, weights)
        return Answer(rank, passage.id, passage.doc_id, passage.title, passage.text, round(score, 6), sentence,
                      _merge(spans, passage.text))


def check_question(question: object) -> str:
    """A question as a clean string, or a QuestionError that says what is wrong with it."""
    if not isinstance(question, str):
        raise QuestionError("the question must be a string")
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return question


def _syllable_keys(syllable: str) -> list[str]:
    """Folded forms a syllable of the text answers to: itself, or an abbreviation's full form."""
    folded = fold(syllable)
    expansion = ABBREVIATIONS.get(syllable) or ABBREVIATIONS.get(folded)
    return [fold(s) for s in expansion.split()] if expansion else [folded]


def _matches(text: str, weights: dict[str, float]) -> list[tuple[int, int, str]]:
    """Syllables of text that the question asked about, with the key they matched."""
    found = []
    for start, end, syllable in syllables(text):
        key = next((k for k in _syllable_keys(syllable) if k in weights), None)
        if key is not None:
            found.append((start, end, key))
    return found


def _best_sentence(text: str, matches: list[tuple[int, int, str]], weights: dict[str, float]) -> str:
    """The sentence holding most of the question's weight (distinct words), the first one on a tie."""
    best, best_score = "", -1.0
    for start, end in sentence_spans(text):
        held = {key for s, e, key in matches if s >= start and e <= end}
        score = sum(weights[k] for k in held)
        if score > best_score:
            best, best_score = text[start:end], score
    return best or text


def _merge(matches: list[tuple[int, int, str]], text: str) -> list[list[int]]:
    """Adjacent matched syllables as one highlight: "thu nhập bình quân", not four."""
    spans: list[list[int]] = []
    for start, end, _ in matches:
        if spans and not text[spans[-1][1]:start].strip():
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return spans

