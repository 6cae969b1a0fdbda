"""Index terms: how each kind of term is spelt, made and read back (the only module that knows the prefixes).

A term is a plain string, a two-character kind then its text: "w:thu_nhập", "s:nhập", "f:nhap", "p:thu_nhap",
"q:de_an". Plain strings, not objects, because a passage makes hundreds and they are hashed as they are
(bm25.term_hash): changing how a term is spelt changes the keys of every saved index.
"""

from __future__ import annotations

from typing import Sequence

WORD = "w:"  # a word as underthesea segments it, with marks: its syllables joined by JOIN
SYLLABLE = "s:"  # a syllable with marks
FOLDED = "f:"  # a syllable folded (no marks, đ -> d): what a question typed without marks meets
PAIR = "p:"  # two folded syllables side by side in a clause
COUNT = "q:"  # what a number counts: the one or two folded syllables after it ("11 đề án": "đề", "đề án")
JOIN = "_"  # between the syllables of a word, a pair or a count (no syllable has one: text.SYLLABLE)
_KIND = len(WORD)

# The kind of the syllables a term of several is made of: a pair of folded syllables, a word of marked ones.
_PART_KIND = {PAIR: FOLDED, WORD: SYLLABLE}


def word(syllables: Sequence[str]) -> str:
    """The term of a word: w:thu_nhập."""
    return WORD + JOIN.join(syllables)


def syllable(text: str) -> str:
    """The term of a syllable with its marks: s:nhập."""
    return SYLLABLE + text


def folded(text: str) -> str:
    """The term of a folded syllable: f:nhap."""
    return FOLDED + text


def pair(first: str, second: str) -> str:
    """The term of two folded syllables side by side: p:thu_nhap."""
    return PAIR + first + JOIN + second


def count(syllables: Sequence[str]) -> str:
    """The term of what a number counts, from its folded syllables: q:de_an."""
    return COUNT + JOIN.join(syllables)


def kind(term: str) -> str:
    """The kind of a term: WORD, SYLLABLE, FOLDED, PAIR or COUNT."""
    return term[:_KIND]


def syllables(term: str) -> list[str]:
    """The syllables a term is spelt with: ["thu", "nhập"] for w:thu_nhập, ["nhap"] for f:nhap."""
    return term[_KIND:].split(JOIN)


def parts(term: str) -> list[str]:
    """The syllable terms a pair or a word is made of (f:thu, f:nhap for p:thu_nhap), none for other kinds."""
    part_kind = _PART_KIND.get(term[:_KIND])
    return [part_kind + s for s in term[_KIND:].split(JOIN)] if part_kind else []
