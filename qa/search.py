"""The engine: a question in, the passages that answer it out, best sentence and matched words marked."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from .answers import Answer, make_answer, matched_spans
from .corpus import Passage
from .followup import in_context, names_a_person, understood
from .found import (
    Match,
    QuestionContent,
    holds_query,
    is_found,
    matches_with_title,
    names_apart,
    names_in,
    order_by_names,
    order_by_query,
    query_links,
    question_names,
    written_in_document,
)
from .settings import DEFAULT_TOP_K, MAX_HISTORY, MAX_QUESTION_CHARS, MAX_TOP_K, NAMED_DEPTH
from .short_answer import AnswerType, asked_for, short_answer
from .store import Index
from .text import analyse_question, fold

if TYPE_CHECKING:
    from .filters import Filters

log = logging.getLogger(__name__)

_SURROGATE = re.compile("[\ud800-\udfff]")


class QuestionError(ValueError):
    """The question cannot be asked: the message says why, for the person who asked it."""

    code = "bad_question"


class QuestionTooLong(QuestionError):
    code = "question_too_long"


class BadTopK(QuestionError):
    code = "bad_top_k"


class BadHistory(QuestionError):
    code = "bad_history"


@dataclass
class Result:
    question: str
    found: bool
    answers: list[Answer] = field(default_factory=list)
    took_ms: float = 0.0
    asked: str | None = None  # a follow-up as it was understood in its conversation (followup.understood), else None

    def to_dict(self) -> dict:
        """The JSON shape every face prints: {"question", "found", "answers", "took_ms", "asked"}."""
        # Field by field, one level down: dataclasses.asdict deep-copies every list and took a fifth of a cached ask.
        return {
            "question": self.question,
            "found": self.found,
            "answers": [vars(a).copy() for a in self.answers],
            "took_ms": self.took_ms,
            "asked": self.asked,
        }


class Engine:
    """Answers questions from one loaded index; safe to share between threads (it holds no mutable state)."""

    def __init__(self, index: Index):
        self.index = index

    @property
    def stats(self) -> dict:
        return self.index.stats

    def warm_up(self) -> None:
        """Ready to answer many questions: underthesea's model loaded (~0.4 s) and, for a large corpus, the
        compiled ranking (~1 s), the ask after it loading the compiled call questions use."""
        # For a server or a chat; one question is answered sooner without.
        self.index.postings.use_compiled()
        self.ask("khởi động")

    def ask(
        self, question: str, top_k: int = DEFAULT_TOP_K, filters: Filters | None = None, history: Sequence[str] = ()
    ) -> Result:
        """The top_k passages that answer the question, best first, and whether the corpus credibly answers it; with
        filters, only from the documents they allow; with history (the earlier questions, oldest first), a follow-up
        asked in their context."""
        started = time.perf_counter()
        question, top_k = check_question(question), check_top_k(top_k)
        history = check_history(history)
        person = self._person_answered(history, filters) if history and names_a_person(question) else None
        asked = in_context(question, history, person)
        result = self._answer(question, asked, top_k, filters)
        if asked != question:  # a follow-up: shown as understood; what was searched for is logged
            log.info("follow-up %r searched for as %r", question, asked)
            result.asked = understood(question, history, person)
        result.took_ms = round((time.perf_counter() - started) * 1000, 3)
        return result

    def _person_answered(self, history: list[str], filters: Filters | None) -> str | None:
        """Whom the last question of a conversation was answered with, when it asked who ("Ai phát biểu…?": "Lê Văn
        Hiệu"), else None."""
        asked = asked_for(history[-1])
        if asked is None or asked.kind is not AnswerType.PERSON:
            return None
        earlier = self.ask(history[-1], 1, filters, history[:-1])
        short = earlier.answers[0].short_answer if earlier.found else None
        return short["text"] if short else None

    def _answer(self, question: str, asked: str, top_k: int, filters: Filters | None) -> Result:
        """The result of asking `asked` (the question, or the question in its context), reported as the question."""
        analysed = analyse_question(asked)
        postings = self.index.postings
        question_terms = [t for t, _ in analysed.terms]
        doc_freq, asked_idf, numbers, scores = postings.ranked(
            question_terms,
            [count for _, count in analysed.terms],
            max(top_k, NAMED_DEPTH),
            analysed.compounds,
            filters.passages(self.index) if filters else None,
            written=analysed.written,
        )
        seen = {t for t, held in zip(question_terms, doc_freq.tolist()) if held}  # the terms the corpus has
        named = {fold(syllable) for name in analysed.names for syllable in name}
        content = QuestionContent.of(
            analysed.keywords,
            dict(zip(question_terms, asked_idf.tolist())),
            seen,
            postings.unseen_idf,
            analysed.marked,
            named,
        )
        names = question_names(analysed.names, analysed.opening, postings)
        if analysed.query:
            names = names_apart(names, seen)
        hits, judged = order_by_names(
            [(n, s) for n, s in zip(numbers.tolist(), scores.tolist()) if s > 0],
            lambda number, in_passage: names_in(self.index, names, number, in_passage),
        )
        read: dict[int, tuple[Passage, str, list[Match], list[Match]]] = {}

        def reading(number: int) -> tuple[Passage, str, list[Match], list[Match]]:
            """A passage, its folded text and the question's matches in it, all and as written, read once per
            question."""
            if number not in read:
                passage, folded = self.index.passage(number), self.index.folded_text(number)
                matches = content.matches(folded)
                read[number] = (passage, folded, matches, content.as_written(matches, passage.text, folded))
            return read[number]

        def with_title(number: int) -> list[Match]:
            """A passage's matches and its title's, as written."""
            passage, _, _, written = reading(number)
            return matches_with_title(content, passage, written)

        if analysed.query:  # a keyword query: judged on the first passage that holds all of it (and the names)
            links = query_links(analysed.query, content, seen)
            hits, judged = order_by_query(
                hits,
                lambda number: (
                    holds_query(
                        links,
                        with_title(number),
                        lambda piece: written_in_document(self.index, [content.written(k) for k in piece], number),
                        named,
                    )
                    and names_in(self.index, names, number)
                ),
            )
        # The answers, and the judged passage even when one is asked for.
        passages = [reading(n) for n, _ in hits[: max(top_k, (judged or 0) + 1)]]
        answers = [
            make_answer(rank, p, f, m, w, score, content, analysed.joined)
            for rank, ((p, f, m, w), (_, score)) in enumerate(zip(passages, hits[:top_k]), start=1)
        ]
        # Judged: the passage with the names, even when it goes second (found.order_by_names).
        found = (
            bool(answers) and judged is not None and is_found(content, seen, passages[judged][0], passages[judged][3])
        )
        if found:  # the answer itself, when the question asks for something and the best sentence says it
            top = answers[0]
            _, folded, matches, _ = passages[0]
            top.short_answer = short_answer(
                question, top.text, top.sentence, matched_spans(matches, content, top.text), asked, folded
            )
        return Result(question, found, answers)


def check_top_k(top_k: object) -> int:
    """How many answers to give (1 to MAX_TOP_K), or a BadTopK."""
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
        raise BadTopK(f"top_k must be a whole number from 1 to {MAX_TOP_K}")
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


def check_history(history: object) -> list[str]:
    """The earlier questions, oldest first, as clean strings (blank ones left out), or a BadHistory that says
    what is wrong."""
    if not isinstance(history, (list, tuple)):
        raise BadHistory("history must be a list of the earlier questions, oldest first")
    if len(history) > MAX_HISTORY:
        raise BadHistory(f"history holds {len(history)} questions; the limit is {MAX_HISTORY}")
    for earlier in history:
        if not isinstance(earlier, str):
            raise BadHistory("every earlier question in history must be a string")
        if _SURROGATE.search(earlier):
            raise BadHistory("an earlier question in history is not valid Unicode text")
        if len(earlier.strip()) > MAX_QUESTION_CHARS:
            raise BadHistory(f"an earlier question in history is over {MAX_QUESTION_CHARS} characters")
    return [earlier.strip() for earlier in history if earlier.strip()]
