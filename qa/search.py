"""The engine: a question in, the passages that answer it out, best sentence and matched words marked."""
from __future__ import annotations

import re
import time
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import compress
from math import fsum

from .corpus import Passage, sentence_spans_in
from .found import (NAMED_DEPTH, common_word, credible, first_named, name_nearly_in, named_place, naming_part,
                    opening_dropped, unknown_number, unseen_pair_share)
from .index import Index
from .short_answer import short_answer
from .text import ABBREVIATIONS, STOPWORDS, analyse_question, find_word, fold, folded_syllables, folded_text

MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 20
# When the best passage counts as an answer (found.credible): it holds enough of the question's content, weighing
# syllables by idf and (twice) syllable pairs by the idf they add to their rarer syllable, a term no passage has by
# a part of the rarest idf; and its document holds every name the question gives. Chosen on the tune splits
# (docs/quality.md).
PAIR_WEIGHT = 2.0
UNSEEN_SYLLABLE = 0.7
UNSEEN_PAIR = 0.6
_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    short_answer: dict | None = None  # {"text", "start", "end"}: the span of text that answers, when confident


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

    def warm_up(self) -> None:
        """Ready to answer many questions: underthesea's model loaded (~0.4 s) and, for a large corpus, the
        compiled ranking (~1 s), the ask after it loading the compiled call questions use. For a server or a chat;
        one question is answered sooner without."""
        self.index.postings.use_compiled()
        self.ask("khởi động")

    def ask(self, question: str, top_k: int = 3) -> Result:
        started = time.perf_counter()
        question, top_k = check_question(question), check_top_k(top_k)
        asked = analyse_question(question)
        postings = self.index.postings
        terms = [term for term, _ in asked.terms]
        rows, said, numbers, scores = postings.ranked(terms, [count for _, count in asked.terms],
                                                        max(top_k, NAMED_DEPTH), asked.parts)
        seen = {term for term, row in zip(terms, rows.tolist()) if row >= 0}  # the terms the corpus has
        wanted = Wanted.of(asked.keywords, dict(zip(terms, said.tolist())), seen, postings.unseen_idf, asked.marked)
        hits = [(n, s) for n, s in zip(numbers.tolist(), scores.tolist()) if s > 0]
        names = opening_dropped(asked.names, asked.opening, self._common_word, self._known)
        named = first_named(len(hits), lambda i: self._names_in_document(names, hits[i][0]))
        place = named_place(hits[0][1], hits[named][1]) if named else 0  # where the named passage goes
        if named:
            hits = hits[:place] + [hits[named]] + hits[place:named] + hits[named + 1:]
        read = hits[:max(top_k, place + 1)]  # the answers, and the judged passage even when only one is asked for
        passages = [self.index.passage(n) for n, _ in read]
        folded = [self.index.folded_text(n) for n, _ in read]
        matches = [wanted.matches(f) for f in folded]
        answers = [_answer(rank, p, sentence_spans_in(f), m, score, wanted)
                   for rank, (p, f, m, (_, score)) in enumerate(zip(passages, folded, matches, hits[:top_k]), start=1)]
        unseen = unseen_pair_share(wanted.pairs, wanted.syllables, seen)
        # Judged: the passage with the names, even when it goes second, with its title (as BM25 sees it: a passage is
        # also about its document's title; a match in one and one in the other are no pair), its words as written.
        found = bool(answers) and named is not None and not unknown_number(wanted.syllables, seen) and \
            credible(wanted.share(_judged(wanted, passages[place], folded[place], matches[place])), unseen)
        if found:  # the answer itself, when the question asks for something and the best sentence says it
            top = answers[0]
            top.short_answer = short_answer(question, top.text, top.sentence, top.highlights)
        took = (time.perf_counter() - started) * 1000
        return Result(question, found, answers, round(took, 3))

    def _common_word(self, syllable: str) -> bool:
        """A syllable, as written (folded, "Đà" is "đã"), in so many passages that it is no part of a name."""
        return common_word(float(self.index.postings.term_idf(["s:" + syllable])[0]))

    def _known(self, syllable: str) -> bool:
        """Whether some passage has the syllable (folded)."""
        return self.index.postings.lookup(["f:" + fold(syllable)]).item() >= 0

    def _names_in_document(self, names: tuple[tuple[str, ...], ...], number: int) -> bool:
        """Every name the question gives is in the answer's document: "Đà Nẵng" is not answered about Chí Linh.

        A name of one syllable must be in it; of more, one pair of its syllables (folded): the index knows both.
        A name the document lacks may be misspelt: one letter off in the answering passage or its title will do.
        A lone syllable that is a common word of the corpus is no name to check, nor are short forms ("UBND TP").
        """
        if not names:
            return True
        index = self.index
        first, last = index.document_range(int(index.passage_doc[number]))
        nearby: list[str] = []  # the passage's and title's syllables, read only when a name is not in the index
        for name in names:
            keys = [key for syllable in naming_part(name) for key in _syllable_keys(syllable)]
            terms = ["f:" + keys[0]] if len(keys) == 1 else [f"p:{a}_{b}" for a, b in zip(keys, keys[1:])]
            if index.postings.any_within(terms, first, last):
                continue
            if not nearby:
                passage = index.passage(number)
                nearby = [k for _, _, k in _keys(passage.text)] + [""] + [k for _, _, k in _keys(passage.title)]
            unknown = [k for k, row in zip(keys, index.postings.lookup(["f:" + k for k in keys]).tolist()) if row < 0]
            if name_nearly_in(keys, nearby, unknown):
                continue
            if len(keys) > 1 or not common_word(float(index.postings.term_idf(terms)[0])):
                return False
        return True


# A syllable of a passage that the question wants: its [start, end) offsets, its folded form, and whether it comes
# right after the match before it (the two are a pair of the text).
Match = tuple[int, int, str, bool]


@dataclass(frozen=True)
class Wanted:
    """What the question asks about: its content syllables and syllable pairs (folded), weighed by idf."""

    syllables: dict[str, float]
    pairs: dict[tuple[str, str], float]
    looks_for: frozenset[str]  # the folded syllables of a text worth matching: wanted, or short for a wanted one
    marked: dict[str, frozenset[str]]  # folded syllable -> the forms asked, when the question always gives it marks

    @classmethod
    def of(cls, keywords: tuple[str, ...], rarity: dict[str, float], seen: set[str], unseen_idf: float,
           marked: dict[str, frozenset[str]]) -> "Wanted":
        """Weights from the idf the ranking asked each question term for (Postings.ranked: a pair for what it adds to
        its rarer syllable, as a passage that has "của Tesla" has "Tesla", already counted); a term no passage has
        counts as a part of the rarest idf (a typo is not evidence)."""
        def weight(term: str, unseen: float) -> float:
            return rarity[term] if term in seen else unseen * unseen_idf

        syllables = {k: weight("f:" + k, UNSEEN_SYLLABLE) for k in keywords if k not in _FOLDED_STOPWORDS}
        unknown = [k for k in syllables if "f:" + k not in seen]
        # One content syllable no passage has may be a typo or a word a small corpus happens to lack ("thuộc" in one
        # article): its absence counts once, not again in each of its pairs. Two or more: the topic is elsewhere.
        alone = set(unknown) if len(unknown) == 1 else set()
        pairs = {pair: PAIR_WEIGHT * weight(t, UNSEEN_PAIR)
                 for pair, t in ((tuple(t[2:].split("_", 1)), t) for t in rarity if t.startswith("p:"))
                 if alone.isdisjoint(pair)}
        keys = set(syllables).union(*pairs)
        return cls(syllables, pairs, frozenset(keys.union(*(_SHORTENED_IN.get(key, ()) for key in keys))), marked)

    def matches(self, folded: str) -> list[Match]:
        """The wanted syllables of a text given folded (corpus.folded_sentences), short forms as the syllables they
        stand for: all that sentence choice, highlights and found look at, with no object made for the hundreds of
        other syllables of a passage."""
        syllables = folded.split()
        found: list[Match] = []
        last, end = -2, 0  # the syllable matched before, and where it ends
        for i in compress(range(len(syllables)), map(self.looks_for.__contains__, syllables)):
            # The next place the syllable stands whole is its own: any between were not wanted, so not it.
            syllable = syllables[i]
            start = find_word(folded, syllable, end)
            end = start + len(syllable)
            if syllable in _EXPANSIONS:
                found += [(start, end, key, j > 0 or i == last + 1) for j, key in enumerate(_EXPANSIONS[syllable])]
            else:
                found.append((start, end, syllable, i == last + 1))
            last = i
        return found

    def as_written(self, matches: list[Match], text: str, folded: str) -> list[Match]:
        """The matches in a text (matches(folded)) less the words written with other marks than the question's: in
        Vietnamese the marks make the word ("bí tích" holds no "bị", "động" no "đông"). Short forms stand for their
        full forms as written (their folded text is not the syllable matched)."""
        marked = self.marked
        other = {i for i, (start, end, key, _) in enumerate(matches)
                 if key in marked and text[start:end] not in marked[key]
                 and folded[start:end] == key and text[start:end].lower() not in marked[key]}
        # A match after one dropped makes no pair with the one kept before it.
        return [(start, end, key, after and i - 1 not in other)
                for i, (start, end, key, after) in enumerate(matches) if i not in other] if other else matches

    def held(self, matches: list[Match]) -> float:
        """Weight of the wanted syllables and pairs found in a run of matches, each counted once."""
        syllables = {key for _, _, key, _ in matches}
        pairs = {(a[2], b[2]) for a, b in zip(matches, matches[1:]) if b[3]}
        # fsum: exact, so the same matches weigh the same in whatever order a set gives them.
        return fsum(self.syllables.get(k, 0.0) for k in syllables) + fsum(self.pairs.get(p, 0.0) for p in pairs)

    def share(self, matches: list[Match]) -> float:
        """The part of everything asked that the text holds: how credible it is as an answer."""
        total = sum(self.syllables.values()) + sum(self.pairs.values())
        return self.held(matches) / total if total > 0 else 0.0


def _judged(wanted: Wanted, passage: Passage, folded: str, matches: list[Match]) -> list[Match]:
    """What a passage (given folded and its matches) and its title hold of the question, as written."""
    title = folded_text(passage.title)
    return wanted.as_written(matches, passage.text, folded) + \
        wanted.as_written(wanted.matches(title), passage.title, title)


def _answer(rank: int, passage: Passage, sentences: list[tuple[int, int]], matches: list[Match], score: float,
            wanted: Wanted) -> Answer:
    """A passage as an answer: the sentence holding most of what was asked, and the words that matched."""
    starts = [start for start, _, _, _ in matches]

    def held(span: tuple[int, int]) -> float:
        first, last = bisect_left(starts, span[0]), bisect_left(starts, span[1])
        return wanted.held(matches[first:last]) if last > first else 0.0

    sentence = max(sentences or [(0, len(passage.text))], key=held)
    matched = [m for m in matches if m[2] in wanted.syllables]
    return Answer(rank, passage.id, passage.doc_id, passage.title, passage.text, round(score, 6),
                  passage.text[sentence[0]:sentence[1]], _merge(matched, passage.text))


def check_top_k(top_k: object) -> int:
    """How many answers to give, or a QuestionError."""
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
        raise QuestionError(f"top_k must be a whole number from 1 to {MAX_TOP_K}")
    return top_k


def check_question(question: object) -> str:
    """A question as a clean string, or a QuestionError that says what is wrong with it."""
    if not isinstance(question, str):
        raise QuestionError("the question must be a string")
    if _SURROGATE.search(question):  # only reachable through JSON "\ud800" escapes: not text
        raise QuestionError("the question is not valid Unicode text")
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLong(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return question


_EXPANSIONS = {fold(short): tuple(fold(full).split()) for short, full in ABBREVIATIONS.items()}
# A folded syllable -> the short forms whose full form has it ("ban" -> "ubnd", ...).
_SHORTENED_IN = {key: {short for short, full in _EXPANSIONS.items() if key in full}
                 for key in set().union(*_EXPANSIONS.values())}


def _expanded(folded: str) -> tuple[str, ...]:
    """The folded syllable(s) a folded syllable of a text answers to: itself, or a short form's full form."""
    return _EXPANSIONS.get(folded, (folded,))


@lru_cache(maxsize=65536)
def _syllable_keys(syllable: str) -> tuple[str, ...]:
    """Folded forms a syllable answers to: itself, or an abbreviation's full form."""
    return _expanded(fold(syllable.lower()))


def _keys(text: str) -> list[tuple[int, int, str]]:
    """Each syllable of the text with its offsets and the folded form(s) it answers to."""
    return [(start, end, key) for start, end, folded in folded_syllables(text) for key in _expanded(folded)]


def _merge(matches: list[Match], text: str) -> list[list[int]]:
    """Adjacent matched syllables as one highlight: "thu nhập bình quân", not four."""
    spans: list[list[int]] = []
    for start, end, _, _ in matches:
        if spans and spans[-1][1] >= start:  # an abbreviation gives several keys for one span
            continue
        if spans and not text[spans[-1][1]:start].strip():
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return spans

