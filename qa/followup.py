"""Follow-ups: a question that leans on the earlier ones of a conversation ("Ông ấy giữ chức vụ gì?", "Còn năm
2021?", "Ở đâu?") asked together with what they asked about; one that stands on its own asked alone."""

from __future__ import annotations

import re

from .settings import OWN_CONTENT, TOO_LITTLE
from .text import STOPWORDS, SYLLABLE, analyse_question, fold, has_marks, normalise, proper_names

_NUMBER = re.compile(r"\d[\d.,/%:-]*")
# Words that stand for a person or a thing named before. A person's pronoun of two syllables ("ông ấy") always does;
# one syllable ("họ", "nó") or a demonstrative after a noun ("năm đó", "dự án này") only in a short question, as a
# long one may name what it stands for itself. Written with marks; a question typed without marks is matched on the
# forms of two syllables only ("ong ay"), since one folded syllable ("do", "no", "ho") is an everyday word too.
_PERSON = ("ông ấy", "bà ấy", "anh ấy", "chị ấy", "cô ấy", "em ấy", "ông ta", "bà ta", "anh ta", "chị ta", "cô ta")
_REFERRING = _PERSON + ("hắn", "họ", "nó", "đó", "này", "ấy", "đấy", "kia")
_PERSON_FOLDED = _REFERRING_FOLDED = tuple(fold(r) for r in _PERSON)
# "đó" in these says when or how, not what: "sau đó" (afterwards), "trong đó" (of which).
_ADVERBS = re.compile(r" (?:sau|trước|trong|từ|do) đó(?= )")
# An opening that goes on from the last question: "Còn năm 2021?", "Thế còn thu ngân sách?".
_GOING_ON = ("còn", "thế còn", "vậy còn", "còn về", "thế thì", "vậy thì")
_GOING_ON_FOLDED = tuple(fold(g) for g in _GOING_ON if g != "còn")  # "con" alone is "con" (a child) too


def in_context(question: str, history: list[str], person: str | None = None) -> str:
    """What to ask: the question itself when it stands on its own, else the question followed by what the last
    one asked about (its number or year replaced by the question's own); person: whom the last one was answered
    with ("Lê Văn Hiệu" for "Ai phát biểu…?"), who stands where the question says "ông ấy"."""
    if not history or not refers_back(question):
        return question
    last = history[-1]
    context = in_context(last, history[:-1])
    if _NUMBER.search(question):
        context = _NUMBER.sub(" ", context)
    own = _without_references(_naming(question, person) if person else question)
    return " ".join(f"{own} {_mid_sentence(context)}".split())


def understood(question: str, history: list[str], person: str | None = None) -> str:
    """The question as a person reads what was understood of it: with the person in place of its pronoun when that
    makes it stand on its own ("Lê Văn Hiệu giữ chức vụ gì?"), else followed by the earlier questions it goes on from,
    as they were typed ("Còn năm 2021? (tiếp câu hỏi: Thu nhập năm 2020 là bao nhiêu?)"); the question itself when it
    stands alone. What is searched for is in_context's."""
    if not history or not refers_back(question):
        return question
    named = _naming(question, person) if person else question
    if person and not refers_back(named):
        return named
    return f"{named} (tiếp câu hỏi: {' → '.join(_went_on_from(history))})"


def _went_on_from(history: list[str]) -> list[str]:
    """The earlier questions the next one goes on from, oldest first: the last, and each before it that the one after
    it leans on (the questions in_context joins)."""
    chain = history[-1:]
    for earlier in reversed(history[:-1]):
        if not refers_back(chain[0]):
            break
        chain.insert(0, earlier)
    return chain


def names_a_person(question: str) -> bool:
    """Whether the question stands a person's pronoun ("ông ấy", "bà ta") for someone named before it."""
    return _person_pronoun(normalise(question)) is not None


def _person_pronoun(text: str) -> re.Match | None:
    """The first person's pronoun of a question with no name before it, or None."""
    pronouns = _PERSON if has_marks(text) else _PERSON_FOLDED
    at = re.search(rf"(?<!\w)(?:{'|'.join(pronouns)})(?!\w)", text, re.IGNORECASE)
    return at if at and not proper_names(text[: at.start()]) else None


def _naming(question: str, person: str) -> str:
    """The question with the person in place of its pronoun ("Ông ấy giữ chức vụ gì?": "Lê Văn Hiệu giữ chức vụ
    gì?")."""
    text = normalise(question)
    at = _person_pronoun(text)
    return f"{text[: at.start()]}{person}{text[at.end() :]}" if at else text


def _mid_sentence(text: str) -> str:
    """The text as it reads after other words: its first letter lowercased unless it opens a name ("Ai phát biểu…"
    -> "ai phát biểu…", "Lê Văn Hiệu…" kept), so that a capital that only opened a sentence is not read as a name."""
    first = SYLLABLE.search(text)
    if first is None or any(name[0] == first.group().lower() for name in proper_names(text)):
        return text
    return text[: first.start()] + first.group()[0].lower() + text[first.start() + 1 :]


def _without_references(question: str) -> str:
    """The question less its opening "còn", "thế còn"... and its pronouns and demonstratives: they stand for the
    context asked with it."""
    text = normalise(question)
    marked = has_marks(text)
    referring = "|".join(map(re.escape, _REFERRING if marked else _REFERRING_FOLDED))
    going_on = "|".join(map(re.escape, sorted(_GOING_ON if marked else _GOING_ON_FOLDED, key=len, reverse=True)))
    pattern = re.compile(rf"^\W*(?:{going_on})(?!\w)|(?<!\w)(?:{referring})(?!\w)", re.IGNORECASE)
    return pattern.sub(" ", text)


def refers_back(question: str) -> bool:
    """Whether a question leans on an earlier one: it opens with "còn", "thế còn"..., says too little of its own and
    names nothing, has a person's pronoun with no name before it, or has few content words and a pronoun or
    demonstrative among them."""
    typed = normalise(question)
    text = typed.lower()
    words = " ".join(SYLLABLE.findall(text))
    marked = has_marks(text)
    if any(words == g or words.startswith(g + " ") for g in (_GOING_ON if marked else _GOING_ON_FOLDED)):
        return True
    analysed = analyse_question(question)
    content = [k for k in analysed.keywords if k not in _FOLDED_STOPWORDS]
    if len(content) < TOO_LITTLE and not analysed.names:  # "Ở đâu?", but not "NASUWT là gì?"
        return True
    if _person_pronoun(typed):  # "Ông ấy giữ chức vụ gì?", but not "Manning ... anh ấy"
        return True
    padded = _ADVERBS.sub(" ", f" {words} ")
    return marked and len(content) < OWN_CONTENT and any(f" {r} " in padded for r in _REFERRING)


_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)
