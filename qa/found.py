"""Found or not: whether the best passage credibly answers, judged from what the engine already computed."""
from __future__ import annotations

import math
from typing import Callable, Collection, Iterable, Sequence

from .text import ABBREVIATIONS, fold

# Every setting here was chosen on XQuAD-vi and the tune splits of tests/data (figures in docs/quality.md).

# How much of the question the best passage must hold (Wanted.share): 0.14, raised by up to 0.1 as more of the
# question's pairs of content words are pairs the corpus never has side by side ("thai sản", "ly hôn" asked of
# history articles that have "thai", "sản", "ly" and "hôn" elsewhere). A corpus that has every pair is judged on
# MIN_SHARE alone. The raise was 0.05 until the pairs of a question's one unknown syllable stopped counting
# (search.Wanted), which let more through. MIN_SHARE was 0.2 until a pair the corpus has counted only for the idf
# it adds to its syllables, which lowered every share (0.08-0.24 tried on the tune splits: docs/quality.md).
MIN_SHARE = 0.14
UNSEEN_PAIRS_RAISE = 0.1
# The best passage whose document holds the question's names, among this many of the best, goes first: a
# passage without them cannot be the answer ("Đông Đức" asked, another country's article first). 3 until the
# opening-word and number checks; 4, 5 and 10 now give the same figures, 2 fewer.
NAMED_DEPTH = 5
# It goes second, after the best, when it scores under this share of the best: the best matches the question so
# much better that a name it lacks is more likely lost in translation or paraphrase ("Giải thưởng Nobel" asked,
# "giải thưởng" in the paragraph). On XQuAD-vi the 3 named passages moved first from under 0.38 of the best were
# all wrong (the best was right), 9 of the 13 from 0.59 up right: half is between.
NAMED_SCORE = 0.5
# A lone capitalised syllable that is a common word of the corpus (in this share of the passages or more) says
# little about which document answers: "Đại học Chicago", "Nhà vua", "tiếng Anh", "Kỷ băng hà". A share, not an
# idf: the same words count as common in a small corpus and in a large one.
COMMON_NAME = 0.2
# A name syllable this long, unknown to the corpus and one letter off a syllable of the answer ("Bedigo", "Zeria",
# "Maastrich") is still the name: people misspell foreign names. Shorter syllables one letter off are mostly other
# Vietnamese syllables ("nang": "nan", "dang", "nanh").
FUZZY_NAME_FROM = 5

_SHORT_FORMS = frozenset(fold(short) for short in ABBREVIATIONS)


def naming_part(name: Sequence[str]) -> Sequence[str]:
    """A name less its short forms: in "UBND TP Hải Phòng" only "Hải Phòng" tells one city from another."""
    return [syllable for syllable in name if fold(syllable) not in _SHORT_FORMS] or name


def near(a: str, b: str) -> bool:
    """At most one letter dropped, added, changed or two neighbours swapped: the typos people make in names."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        return len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                    and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1:]


def name_nearly_in(name: Sequence[str], keys: Sequence[str], unknown: Collection[str]) -> bool:
    """The name (folded syllables) in a run of folded syllables, a long syllable no passage has (a misspelling, not
    another word of the corpus: "Trương" is not "Trung") allowed one letter off.

    A name of one syllable must be there; of more, one pair of its syllables side by side, as in the exact check.
    """
    def same(wanted: str, seen: str) -> bool:
        return wanted == seen or (wanted in unknown and len(wanted) >= FUZZY_NAME_FROM and near(wanted, seen))

    if len(name) == 1:
        return any(same(name[0], key) for key in set(keys))
    pairs = set(zip(keys, keys[1:]))
    return any(same(a, x) and same(b, y) for a, b in zip(name, name[1:]) for x, y in pairs)


def common_word(idf: float) -> bool:
    """A syllable found in so many passages that, capitalised alone, it is no name to hold the answer to."""
    return idf < math.log(1 / COMMON_NAME)  # BM25's idf, log(1 + (N - n + 0.5) / (n + 0.5)), at n = COMMON_NAME × N


def opening_dropped(names: tuple[tuple[str, ...], ...], opening: str, common: Callable[[str], bool],
                    known: Callable[[str], bool]) -> tuple[tuple[str, ...], ...]:
    """Names less a common word that opens the question and so is capitalised anyway: "Người Kenya", "Trước Manning"
    ask about Kenya and Manning. "Quảng Nam", "Hải Phòng" keep theirs unless the corpus uses it everywhere.

    An opening word alone is a name only when it cannot be Vietnamese (text.proper_names); one the corpus lacks and
    too short to be a misspelt name is a Vietnamese word that lost a letter ("Cng", "Mt" for "Cùng", "Một").
    """
    if names and names[0] == (opening,) and len(opening) < FUZZY_NAME_FROM and not known(opening):
        return names[1:]
    if names and len(names[0]) > 1 and names[0][0] == opening and common(opening):
        return (names[0][1:],) + names[1:]
    return names


def first_named(count: int, named: Callable[[int], bool]) -> int | None:
    """Which of the first passages (best first) to give first: the first whose document holds the names, if any."""
    return next((i for i in range(min(count, NAMED_DEPTH)) if named(i)), None)


def named_place(best: float, score: float) -> int:
    """Where the first passage with the question's names goes: first, or second when the best passage matches the
    question so much better that a name it lacks was more likely dropped by a translation or a paraphrase."""
    return 0 if score >= NAMED_SCORE * best else 1


def unseen_pair_share(pairs: Iterable[tuple[str, str]], content: Collection[str], seen: Collection[str]) -> float:
    """Share of the question's pairs of content syllables, both known to the corpus, that no passage has side by
    side: a phrase the corpus never uses is a topic it may not cover (a pair with an unknown syllable may be a typo).

    pairs and content are folded syllables; seen holds the question's index terms ("f:...", "p:...") the corpus has.
    """
    known = [(a, b) for a, b in pairs if a in content and b in content and f"f:{a}" in seen and f"f:{b}" in seen]
    return sum(f"p:{a}_{b}" not in seen for a, b in known) / len(known) if known else 0.0


def unknown_number(syllables: Iterable[str], seen: Collection[str]) -> bool:
    """Whether the question gives a number no passage has: a year or a count the corpus never mentions is asked
    about something it does not cover ("Bão số 3 năm 2024", "30 năm tuổi Đảng"), whatever else matches.

    syllables are the question's folded content syllables; seen holds its index terms ("f:...") the corpus has.
    """
    return any(s.isdecimal() and f"f:{s}" not in seen for s in syllables)


def credible(share: float, unseen_pairs: float) -> bool:
    """Whether the best passage holds enough of the question to be given as its answer."""
    return share >= MIN_SHARE + UNSEEN_PAIRS_RAISE * unseen_pairs
