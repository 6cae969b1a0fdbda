"""Answers: a ranked passage as the person reads it, its best sentence and the words that matched marked."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Callable, Collection

from .corpus import Passage, sentence_spans_in
from .found import Match, QuestionContent


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
    url: str | None = None  # the source document's, when known
    date: str | None = None  # the source document's (ISO 8601), when known


def make_answer(
    rank: int,
    passage: Passage,
    folded: str,
    matches: list[Match],
    written: list[Match],
    score: float,
    content: QuestionContent,
    joined: Collection[tuple[str, str]],
) -> Answer:
    """A passage (given folded, its matches and those as written: QuestionContent.as_written) as an answer: the
    sentence that holds most of the question (a line of text before a heading, which names a section rather than
    answers), and the spans of the words that matched (joined: QuestionTerms.joined, the pairs of syllables of the
    question's words)."""
    shown = _whole_words(written, content, joined)
    sentences = sentence_spans_in(folded) or [(0, len(passage.text))]
    sentence = _best_sentence(sentences, matches, shown, content, passage)
    return Answer(
        rank,
        passage.id,
        passage.doc_id,
        passage.title,
        passage.text,
        round(score, 6),
        passage.text[sentence[0] : sentence[1]],
        _highlights(shown, passage.text),
        None,
        passage.url,
        passage.date,
    )


def _best_sentence(
    sentences: list[tuple[int, int]],
    matches: list[Match],
    shown: list[Match],
    content: QuestionContent,
    passage: Passage,
) -> tuple[int, int]:
    """The sentence holding most of the question, a line of text before a heading that holds any; between equals,
    the one where more of it is marked."""
    if len(sentences) == 1:  # nothing to weigh it against
        return sentences[0]
    held = _weigher(matches, content)
    weights = [(weight > 0 and not passage.in_heading(span), weight) for span in sentences for weight in [held(span)]]
    top = max(weights)
    best = [s for s, w in zip(sentences, weights) if w == top]
    return max(best, key=_weigher(shown, content)) if len(best) > 1 else best[0]


def _weigher(matches: list[Match], content: QuestionContent) -> Callable[[tuple[int, int]], float]:
    """The weight of the question's syllables and pairs among the matches (in order) inside a span of the text."""
    starts = [start for start, _, _, _ in matches]

    def weight(span: tuple[int, int]) -> float:
        first, last = bisect_left(starts, span[0]), bisect_left(starts, span[1])
        return content.weight(matches[first:last]) if last > first else 0.0

    return weight


def matched_spans(matches: list[Match], content: QuestionContent, text: str) -> list[list[int]]:
    """The spans of every syllable of the question in text, whatever its marks or neighbours: what a short answer
    is looked for near."""
    return _highlights([m for m in matches if m[2] in content.syllables], text)


def _whole_words(matches: list[Match], content: QuestionContent, joined: Collection[tuple[str, str]]) -> list[Match]:
    """The matches worth marking: the question's syllables, a syllable of one of its longer words only beside another
    of that word ("Đồng chí" holds no "Chí Linh", "đại học" no "học phí")."""
    in_words = {key for pair in joined for key in pair}
    asked = content.syllables
    shown = []
    for i, match in enumerate(matches):
        key = match[2]
        if key not in asked:
            continue
        # Beside another syllable of one of the question's words: the match before, or the one after.
        if (
            key not in in_words
            or (match[3] and i > 0 and (matches[i - 1][2], key) in joined)
            or (i + 1 < len(matches) and matches[i + 1][3] and (key, matches[i + 1][2]) in joined)
        ):
            shown.append(match)
    return shown


def _highlights(matches: list[Match], text: str) -> list[list[int]]:
    """The spans to mark: adjacent matched syllables as one ("thu nhập bình quân", not four)."""
    spans: list[list[int]] = []
    for start, end, _, _ in matches:
        if spans and spans[-1][1] >= start:  # an abbreviation gives several keys for one span
            continue
        if spans and not text[spans[-1][1] : start].strip():
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return spans
