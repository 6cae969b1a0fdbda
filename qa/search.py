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
# syllables and (twice) syllable pairs by idf, a term no passage has by a part of the rarest idf; and
# its document holds every name the question gives. Chosen on the tune splits (docs/quality.md).
MIN_CREDIBILITY = 0.2
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
        asked = analyse_question(question)
        terms = dict(asked.terms)
        numbers, scores = self.index.postings.top(self._by_rarity(terms), top_k)
        wanted = self._wanted(list(asked.keywords), [t for t in terms if t.startswith("p:")])
        answers = [self._answer(rank, int(n), float(s), wanted)
                   for rank, (n, s) in enumerate(zip(numbers, scores), start=1) if s > 0]
        found = bool(answers) and wanted.share(_keys(answers[0].text)) >= MIN_CREDIBILITY \
            and self._names_in_document(asked.names, int(numbers[0]))
        took = (time.perf_counter() - started) * 1000
        return Result(question, found, answers, round(took, 3))

    def _names_in_document(self, names: tuple[tuple[str, ...], ...], number: int) -> bool:
        """Every name the question gives is in the answer's document: "Đà Nẵng" is not answered about Chí Linh."""
        if not names:
            return True
        found = [key for _, _, key in _keys(_document_text(self.index, number))]
        syllables, pairs = set(found), set(zip(found, found[1:]))
        for name in names:
            keys = [key for syllable in name for key in _syllable_keys(syllable)]
            if not (keys[0] in syllables if len(keys) == 1 else pairs.intersection(zip(keys, keys[1:]))):
                return False
        return True

    def _by_rarity(self, terms: dict[str, int]) -> dict[str, float]:
        """Each question term weighs its count times its idf: a rare name says more than a common phrase."""
        rarity = self.index.postings.term_idf(list(terms))
        return {term: count * float(weight) for (term, count), weight in zip(terms.items(), rarity)}

    def _idf(self, terms: list[str], unseen: float) -> list[float]:
        """idf of each term; one no passage has counts as a part of the rarest idf (a typo is not evidence)."""
        postings = self.index.postings
        rows = postings.lookup(terms)
        rarest = float(postings.term_idf(["\0"])[0])
        return [float(postings.idf[r]) if r >= 0 else unseen * rarest for r in rows]

    def _wanted(self, keywords: list[str], pairs: list[str]) -> "Wanted":
        content = [k for k in keywords if k not in _FOLDED_STOPWORDS]
        pair_keys = [tuple(p[2:].split("_", 1)) for p in pairs]
        return Wanted(dict(zip(content, self._idf(["f:" + k for k in content], UNSEEN_SYLLABLE))),
                      {k: PAIR_WEIGHT * w for k, w in zip(pair_keys, self._idf(pairs, UNSEEN_PAIR))})

    def _answer(self, rank: int, number: int, score: float, wanted: "Wanted") -> Answer:
        passage = self.index.passage(number)
        keys = _keys(passage.text)
        sentence = max(sentence_spans(passage.text) or [(0, len(passage.text))],
                       key=lambda span: wanted.held([k for k in keys if span[0] <= k[0] < span[1]]))
        matched = [k for k in keys if k[2] in wanted.syllables]
        return Answer(rank, passage.id, passage.doc_id, passage.title, passage.text, round(score, 6),
                      passage.text[sentence[0]:sentence[1]], _merge(matched, passage.text))


@dataclass(frozen=True)
class Wanted:
    """What the question asks about: its content syllables and syllable pairs (folded), weighed by idf."""

    syllables: dict[str, float]
    pairs: dict[tuple[str, str], float]

    def held(self, keys: list[tuple[int, int, str]]) -> float:
        """Weight of the wanted syllables and pairs found in a run of text, each counted once."""
        found = [key for _, _, key in keys]
        syllables, pairs = set(found), set(zip(found, found[1:]))
        return sum(w for k, w in self.syllables.items() if k in syllables) + \
            sum(w for k, w in self.pairs.items() if k in pairs)

    def share(self, keys: list[tuple[int, int, str]]) -> float:
        """The part of everything asked that the text holds: how credible it is as an answer."""
        total = sum(self.syllables.values()) + sum(self.pairs.values())
        return self.held(keys) / total if total > 0 else 0.0


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


def _document_text(index: Index, number: int) -> str:
    """All the passages of the document that passage `number` belongs to."""
    doc = int(index.passage_doc[number])
    first = int(index.first_passage[doc])
    last = int(index.first_passage[doc + 1]) if doc + 1 < len(index.documents) else index.n_passages
    return "\n".join(index.passage(i).text for i in range(first, last))


def _keys(text: str) -> list[tuple[int, int, str]]:
    """Each syllable of the text with its offsets and the folded form(s) it answers to."""
    return [(start, end, key) for start, end, syllable in syllables(text) for key in _syllable_keys(syllable)]


def _merge(matches: list[tuple[int, int, str]], text: str) -> list[list[int]]:
    """Adjacent matched syllables as one highlight: "thu nhập bình quân", not four."""
    spans: list[list[int]] = []
    for start, end, _ in matches:
        if spans and spans[-1][1] >= start:  # an abbreviation gives several keys for one span
            continue
        if spans and not text[spans[-1][1]:start].strip():
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return spans

