"""Answers: a ranked passage as the person reads it, its best sentence and the words that matched marked."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

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
    rank: int, passage: Passage, folded: str, matches: list[Match], score: float, content: QuestionContent
) -> Answer:
    """A passage (given folded and its matches) as an answer: the sentence that holds most of the question (a line of
    text before a heading, which names a section rather than answers), and the spans of the words that matched."""
    starts = [start for start, _, _, _ in matches]

    def weight(span: tuple[int, int]) -> tuple[bool, float]:
        first, last = bisect_left(starts, span[0]), bisect_left(starts, span[1])
        held = content.weight(matches[first:last]) if last > first else 0.0
        return held > 0 and not passage.in_heading(span), held

    sentence = max(sentence_spans_in(folded) or [(0, len(passage.text))], key=weight)
    matched = [m for m in matches if m[2] in content.syllables]
    return Answer(
        rank,
        passage.id,
        passage.doc_id,
        passage.title,
        passage.text,
        round(score, 6),
        passage.text[sentence[0] : sentence[1]],
        _highlights(matched, passage.text),
        None,
        passage.url,
        passage.date,
    )


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
