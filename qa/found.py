"""Found or not: whether the best passage credibly answers (abstention), judged from what the ranking computed.

Three checks, each chosen on XQuAD-vi and the tune splits of tests/data (docs/quality.md § Found / not found):
the document of the passage judged holds every name the question gives; the passage (with its document's title)
holds enough of the question's content, weighed by idf (QuestionContent.share, at least credible()'s threshold);
and no number the question gives is missing from every passage. A keyword query ("giá vàng", "cải cách hành
chính") is judged on the first of the best passages that holds all of it (holds_query; docs/quality.md § Keyword
queries and names in questions), and a passage that names what the question names comes before one whose document
does elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from math import fsum
from typing import Callable, Collection, Iterable, Sequence

from . import terms
from .bm25 import Postings
from .corpus import Passage
from .index import Index
from .settings import (
    COMMON_NAME,
    FUZZY_NAME_FROM,
    MIN_SHARE,
    NAMED_DEPTH,
    NAMED_SCORE,
    PAIR_WEIGHT,
    TOPIC_NAME,
    UNSEEN_PAIR,
    UNSEEN_PAIRS_RAISE,
    UNSEEN_SYLLABLE,
)
from .text import ABBREVIATIONS, STOPWORDS, find_word, fold, folded_text, may_be_vietnamese

_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)
# Words of address before a person's name: "Ông Kiên", "Bà Nguyễn Thị Ngọc Bích" name Kiên and Nguyễn Thị Ngọc Bích.
HONORIFICS = frozenset("ông bà anh chị cô chú bác cụ ngài thầy".split())
_SHORT_FORMS = frozenset(fold(short) for short in ABBREVIATIONS)
# A folded short form -> the folded syllables of its full form ("ubnd" -> "uy", "ban", "nhan", "dan").
_EXPANSIONS = {fold(short): tuple(fold(full).split()) for short, full in ABBREVIATIONS.items()}
# A folded syllable -> the short forms whose full form has it ("ban" -> "ubnd", ...).
_SHORTENED_IN = {
    key: {short for short, full in _EXPANSIONS.items() if key in full} for key in set().union(*_EXPANSIONS.values())
}

# A syllable of a passage that the question asks about: its [start, end) offsets, its folded form, and whether it
# comes right after the match before it (the two are a pair of the text).
Match = tuple[int, int, str, bool]


@dataclass(frozen=True)
class QuestionContent:
    """What the question asks about: its content syllables and syllable pairs (folded), weighed by idf."""

    syllables: dict[str, float]
    pairs: dict[tuple[str, str], float]
    matchable: frozenset[str]  # the folded syllables of a text worth matching: asked, or short for one asked
    marked: dict[str, frozenset[str]]  # folded syllable -> the forms asked, when the question always gives it marks

    @classmethod
    def of(
        cls,
        keywords: tuple[str, ...],
        rarity: dict[str, float],
        seen: set[str],
        unseen_idf: float,
        marked: dict[str, frozenset[str]],
        named: Collection[str] = (),
        pair_weight: float = PAIR_WEIGHT,
        unseen_syllable: float = UNSEEN_SYLLABLE,
        unseen_pair: float = UNSEEN_PAIR,
    ) -> "QuestionContent":
        """The question's content weighed by the idf the ranking asked each of its terms for (rarity; seen: the
        terms some passage has; named: the folded syllables of the names it gives, never function words)."""

        # Postings.ranked asks a pair for what it adds to its rarer syllable, as a passage that has "của Tesla" has
        # "Tesla", already counted. A term no passage has counts as a part of the rarest idf (a typo is no evidence).
        def weight(t: str, unseen: float) -> float:
            return rarity[t] if t in seen else unseen * unseen_idf

        # Folded, "văn" is "vẫn": in "Lê Văn Hiệu" it is part of a name.
        syllables = {
            k: weight(terms.folded(k), unseen_syllable) for k in keywords if k not in _FOLDED_STOPWORDS or k in named
        }
        unknown = [k for k in syllables if terms.folded(k) not in seen]
        # One content syllable no passage has may be a typo or a word a small corpus happens to lack ("thuộc" in one
        # article): its absence counts once, not again in each of its pairs. Two or more: the topic is elsewhere.
        alone = set(unknown) if len(unknown) == 1 else set()
        pairs = {
            pair: pair_weight * weight(t, unseen_pair)
            for pair, t in ((tuple(terms.syllables(t)), t) for t in rarity if terms.kind(t) == terms.PAIR)
            if alone.isdisjoint(pair)
        }
        keys = set(syllables).union(*pairs)
        return cls(syllables, pairs, frozenset(keys.union(*(_SHORTENED_IN.get(key, ()) for key in keys))), marked)

    def written(self, key: str) -> str:
        """A folded syllable of the question as it writes it, lowercased (folded when it gives it without marks)."""
        return min(self.marked[key]).lower() if key in self.marked else key

    def matches(self, folded: str) -> list[Match]:
        """The syllables of a text given folded (corpus.folded_sentences) that the question asks about, short forms
        as the syllables they stand for."""
        # All that sentence choice, highlights and found look at, with no object made for the hundreds of other
        # syllables of a passage.
        syllables = folded.split()
        matched: list[Match] = []
        last, end = -2, 0  # the syllable matched before, and where it ends
        for i in compress(range(len(syllables)), map(self.matchable.__contains__, syllables)):
            # The next place the syllable stands whole is its own: any between were not asked about, so not it.
            syllable = syllables[i]
            start = find_word(folded, syllable, end)
            end = start + len(syllable)
            if syllable in _EXPANSIONS:
                matched += [(start, end, key, j > 0 or i == last + 1) for j, key in enumerate(_EXPANSIONS[syllable])]
            else:
                matched.append((start, end, syllable, i == last + 1))
            last = i
        return matched

    def as_written(self, matches: list[Match], text: str, folded: str) -> list[Match]:
        """The matches in a text (matches(folded)) less the words written with other marks than the question's."""
        # In Vietnamese the marks make the word ("bí tích" holds no "bị", "động" no "đông"). Short forms stand for
        # their full forms as written (their folded text is not the syllable matched).
        marked = self.marked
        other = {
            i
            for i, (start, end, key, _) in enumerate(matches)
            if key in marked
            and text[start:end] not in marked[key]
            and folded[start:end] == key
            and text[start:end].lower() not in marked[key]
        }
        # A match after one dropped makes no pair with the one kept before it.
        return (
            [
                (start, end, key, after and i - 1 not in other)
                for i, (start, end, key, after) in enumerate(matches)
                if i not in other
            ]
            if other
            else matches
        )

    def weight(self, matches: list[Match]) -> float:
        """The weight of the question's syllables and pairs in a run of matches, each counted once."""
        syllables = {key for _, _, key, _ in matches}
        pairs = {(a[2], b[2]) for a, b in zip(matches, matches[1:]) if b[3]}
        # fsum: exact, so the same matches weigh the same in whatever order a set gives them.
        return fsum(map(self.syllables.get, syllables, repeat(0.0))) + fsum(map(self.pairs.get, pairs, repeat(0.0)))

    def share(self, matches: list[Match]) -> float:
        """The part of the question's whole weight that the matches hold."""
        total = sum(self.syllables.values()) + sum(self.pairs.values())
        return self.weight(matches) / total if total > 0 else 0.0


def is_found(content: QuestionContent, seen: set[str], passage: Passage, written: list[Match]) -> bool:
    """Whether the passage judged (given its matches as written: QuestionContent.as_written) credibly answers; seen
    holds the question's terms the corpus has."""
    # Judged with its title, as BM25 sees a passage (it is also about its document's title; a match in one and one
    # in the other are no pair), its words as written.
    return not unknown_number(content.syllables, seen) and credible(
        content.share(matches_with_title(content, passage, written)),
        unseen_pair_share(content.pairs, content.syllables, seen),
    )


def matches_with_title(content: QuestionContent, passage: Passage, written: list[Match]) -> list[Match]:
    """The matches of a passage (given its matches as written: QuestionContent.as_written) and of its title, as
    written."""
    title = folded_text(passage.title)
    return written + content.as_written(content.matches(title), passage.title, title)


def credible(
    share: float, unseen_pairs: float, min_share: float = MIN_SHARE, unseen_pairs_raise: float = UNSEEN_PAIRS_RAISE
) -> bool:
    """Whether a passage holding this share of the question is enough of an answer, the threshold raised by the
    share of the question's pairs that no passage has side by side."""
    # "thai sản", "ly hôn" asked of history articles that have "thai", "sản", "ly" and "hôn" elsewhere: a phrase the
    # corpus never uses is a topic it may not cover. A corpus that has every pair is judged on min_share alone.
    return share >= min_share + unseen_pairs_raise * unseen_pairs


def unseen_pair_share(pairs: Iterable[tuple[str, str]], content: Collection[str], seen: Collection[str]) -> float:
    """The share of the question's pairs of content syllables, both known to the corpus, that no passage has side by
    side (pairs and content are folded syllables; seen holds the question's terms the corpus has)."""
    # A pair with an unknown syllable may be a typo: not counted.
    known = [
        (a, b)
        for a, b in pairs
        if a in content and b in content and terms.folded(a) in seen and terms.folded(b) in seen
    ]
    return sum(terms.pair(a, b) not in seen for a, b in known) / len(known) if known else 0.0


def unknown_number(syllables: Iterable[str], seen: Collection[str]) -> bool:
    """Whether the question gives a number no passage has (syllables: its folded content syllables; seen: its terms
    the corpus has)."""
    # A year or a count the corpus never mentions is asked about something it does not cover ("Bão số 3 năm 2024",
    # "30 năm tuổi Đảng"), whatever else matches.
    return any(s.isdecimal() and terms.folded(s) not in seen for s in syllables)


# Keyword queries: the first of the best passages that holds the whole query is given first, and judged.

# A content syllable of a keyword query: its folded form, the pairs it makes with its neighbours in the query, whether
# some passage has each of those side by side, and the piece of the query it belongs to (its run of syllables that
# some passage has side by side).
Link = tuple[str, tuple[tuple[str, str], ...], tuple[bool, ...], int]


def query_links(query: tuple[tuple[str, ...], ...], content: QuestionContent, seen: Collection[str]) -> list[Link]:
    """Each content syllable of a keyword query (text.QuestionTerms.query), with the pairs it makes with its
    neighbours in the query, whether some passage has each side by side (seen: the question's terms the corpus has),
    and the number of its piece."""
    # A function word in a pair the corpus has is part of the phrase ("Le Van Hieu": folded, "van" is "vẫn"); others
    # stand between their neighbours.
    links: list[Link] = []
    for clause in query:
        kept = [s if s in content.matchable else None for s in clause]
        for i, syllable in enumerate(kept):
            if syllable is None:
                continue
            pairs = tuple(
                pair
                for pair in (
                    (kept[i - 1], syllable) if i else None,
                    (syllable, kept[i + 1]) if i + 1 < len(kept) else None,
                )
                if pair and None not in pair
            )
            seen_pairs = tuple(terms.pair(*pair) in seen for pair in pairs)
            joined = bool(pairs) and pairs[0][1] == syllable and seen_pairs[0]
            links.append((syllable, pairs, seen_pairs, links[-1][3] + (not joined) if links else 0))
    return links


def query_pieces(links: list[Link]) -> list[tuple[str, ...]]:
    """The pieces of a keyword query (query_links), in order: its runs of syllables that some passage has side by
    side."""
    pieces: dict[int, list[str]] = {}
    for syllable, _, _, piece in links:
        pieces.setdefault(piece, []).append(syllable)
    return [tuple(pieces[number]) for number in sorted(pieces)]


def holds_query(
    links: list[Link], matches: list[Match], in_document: Callable[[tuple[str, ...]], bool], named: Collection[str] = ()
) -> bool:
    """Whether the matches of a passage (with its title, as written) hold a keyword query (query_links): every
    syllable, each next to a neighbour of the query when the corpus has them side by side or when it is a Vietnamese
    syllable of a longer query; or all but pieces that say what the document is about (names, named: their folded
    syllables, and words of more than one syllable) and that its document holds (in_document)."""
    # "trưởng ban dân vận tỉnh ủy Hải Dương": each syllable next to one of its neighbours, not the whole query in one
    # run. One Vietnamese syllable of a longer query next to unrelated words is no evidence of an answer: "thời tiết"
    # asked of "tiết mục văn nghệ", "giá nhà" of "giá trị sản xuất ... nhà nước", "thẻ tín dụng" of "Thẻ Tiền mặt"
    # and "tín dụng thuế". A name or a borrowed word ("Huguenot Virginia") or a number ("Apollo 11") may stand alone.
    present = {key for _, _, key, _ in matches}
    adjacent = {(a[2], b[2]) for a, b in zip(matches, matches[1:]) if b[3]}

    def held(syllable: str, pairs: tuple[tuple[str, str], ...], seen_pairs: tuple[bool, ...]) -> bool:
        """Whether the passage holds the syllable, next to a neighbour when it must be."""
        if syllable not in present:
            return False
        if any(seen_pairs):
            return not adjacent.isdisjoint(compress(pairs, seen_pairs))
        alone = len(links) == 1 or not may_be_vietnamese(syllable) or syllable.isdecimal()
        return alone or not adjacent.isdisjoint(pairs)

    def topic(piece: tuple[str, ...]) -> bool:
        """Whether a piece can say what a text is about: a word of more syllables, a name, a borrowed word."""
        return (
            len(piece) > 1
            or all(s in named for s in piece)
            or not (may_be_vietnamese(piece[0]) or piece[0].isdecimal())
        )

    missing = {piece for syllable, pairs, seen_pairs, piece in links if not held(syllable, pairs, seen_pairs)}
    if not missing:
        return bool(links)
    # "Chí Linh thu ngân sách" of the article: "Chí Linh" in the article, "thu ngân sách" in the passage. What the
    # passage holds must say something by itself: not "Lê Văn Hiệu chức vụ" of a passage on "công vụ, công chức",
    # nor "bão số 3" of a passage with "3".
    pieces = query_pieces(links)
    return any(topic(piece) for number, piece in enumerate(pieces) if number not in missing) and all(
        topic(pieces[number]) and in_document(pieces[number]) for number in missing
    )


def written_in_document(index: Index, syllables: Sequence[str], number: int) -> bool:
    """Whether every syllable (lowercased, as the question writes it) is in the document of passage number, with the
    marks the question gives it (none given: with any)."""
    # "Chí Linh" of an article on Chí Linh, not "Đà Nẵng" of a paragraph that has "đa năng".
    first, last = index.document_range(int(index.passage_doc[number]))
    return all(
        index.postings.any_within([terms.syllable(s) if fold(s) != s else terms.folded(s)], first, last)
        for s in syllables
    )


def names_apart(names: tuple[tuple[str, ...], ...], seen: Collection[str]) -> tuple[tuple[str, ...], ...]:
    """The names of a keyword query, a run of capitals cut where no passage has its two syllables side by side
    (seen: the question's terms the corpus has)."""
    # Keywords run names together: "Tesla Edison", "Luther Wittenberg" are two names, not one the corpus lacks.
    apart: list[tuple[str, ...]] = []
    for name in names:
        run = [name[0]]
        for before, syllable in zip(name, name[1:]):
            if terms.pair(fold(before), fold(syllable)) not in seen:
                apart.append(tuple(run))
                run = []
            run.append(syllable)
        apart.append(tuple(run))
    return tuple(apart)


def order_by_query(
    hits: list[tuple[int, float]], holds: Callable[[int], bool], depth: int = NAMED_DEPTH
) -> tuple[list[tuple[int, float]], int | None]:
    """The hits (passage number, score; best first) with the first of the best few that holds the keyword query
    moved first, and 0; or the hits as they are and None when none of them holds it."""
    # A passage with all of a short query beats a shorter one with part of it ("COVID-19": not the byline's 19:36).
    first = first_with_names(len(hits), lambda i: holds(hits[i][0]), depth)
    if first is None:
        return hits, None
    return [hits[first]] + hits[:first] + hits[first + 1 :], 0


# Names: the first of the best passages whose document holds the question's names is given first, and judged.


def order_by_names(
    hits: list[tuple[int, float]],
    has_names: Callable[[int, bool], bool],
    depth: int = NAMED_DEPTH,
    named_score: float = NAMED_SCORE,
) -> tuple[list[tuple[int, float]], int | None]:
    """The hits (passage number, score; best first) with the first of the best few that has_names moved up, and where
    it now is (None: none of them has the names); has_names(number, in_passage) looks in the passage (with its
    title) or in its whole document."""
    # A passage without the names cannot be the answer ("Đông Đức" asked, another country's article first). It goes
    # second, after the best, when the best matches the question so much better that a name it lacks was more likely
    # lost in translation or paraphrase ("Giải thưởng Nobel" asked, "giải thưởng" in the paragraph). The passage that
    # names it comes before one whose document does elsewhere ("Lê Văn Hiệu giữ chức vụ gì?" of an article that names
    # him in four of its passages: not a passage on "công vụ, công chức, dịch vụ" whose "hiệu quả" holds "Hiệu").
    # Not one that scores so much lower that it would go second: then the best, its document naming it, stays first.
    named = first_with_names(len(hits), lambda i: has_names(hits[i][0], True), depth)
    if named is None or named_place(hits[0][1], hits[named][1], named_score) > 0:
        named = first_with_names(len(hits), lambda i: has_names(hits[i][0], False), depth)
    if not named:
        return hits, named
    place = named_place(hits[0][1], hits[named][1], named_score)
    return hits[:place] + [hits[named]] + hits[place:named] + hits[named + 1 :], place


def first_with_names(count: int, has_names: Callable[[int], bool], depth: int = NAMED_DEPTH) -> int | None:
    """The first of the first count passages (best first, at most depth of them) that has_names, if any."""
    return next((i for i in range(min(count, depth)) if has_names(i)), None)


def named_place(best: float, score: float, named_score: float = NAMED_SCORE) -> int:
    """Where the first passage with the question's names goes, given its score and the best: first, or second."""
    return 0 if score >= named_score * best else 1


def question_names(names: tuple[tuple[str, ...], ...], opening: str, postings: Postings) -> tuple[tuple[str, ...], ...]:
    """The names of a question (text.QuestionTerms) to look for, less a common word that opens the question."""
    return drop_opening_word(names, opening, lambda s: _common_as_written(postings, s), lambda s: _known(postings, s))


def drop_opening_word(
    names: tuple[tuple[str, ...], ...],
    opening: str,
    common: Callable[[str], bool],
    known: Callable[[str], bool],
    fuzzy_from: int = FUZZY_NAME_FROM,
) -> tuple[tuple[str, ...], ...]:
    """The names less a common word or a word of address ("Ông", "Bà") that opens the question (capitalised anyway),
    and less an opening word alone that is a Vietnamese word missing a letter."""
    # "Người Kenya", "Trước Manning" ask about Kenya and Manning, "Ông Kiên" about Kiên (an article writes "Nguyễn Văn
    # Kiên", never "Ông Kiên"). "Quảng Nam", "Hải Phòng" keep theirs unless the corpus uses it everywhere. An opening
    # word alone is a name only when it cannot be Vietnamese (text.proper_names); one the corpus lacks and too short
    # to be a misspelt name is a Vietnamese word that lost a letter ("Cng", "Mt" for "Cùng", "Một").
    if names and names[0] == (opening,) and len(opening) < fuzzy_from and not known(opening):
        return names[1:]
    if names and len(names[0]) > 1 and names[0][0] == opening and (opening in HONORIFICS or common(opening)):
        return (names[0][1:],) + names[1:]
    return names


def _common_as_written(postings: Postings, syllable: str) -> bool:
    """Whether a syllable, as written (folded, "Đà" is "đã"), is in so many passages that it is no part of a name."""
    return common_word(float(postings.term_idf([terms.syllable(syllable)])[0]))


def _known(postings: Postings, syllable: str) -> bool:
    """Whether some passage has the syllable (folded)."""
    return postings.doc_freq([terms.folded(fold(syllable))]).item() > 0


def common_word(idf: float, common_name: float = COMMON_NAME) -> bool:
    """Whether a syllable of this idf is in so many passages that, capitalised alone, it is no name."""
    # A share, not an idf: the same words count as common in a small corpus and in a large one ("Đại học Chicago",
    # "Nhà vua", "tiếng Anh", "Kỷ băng hà"). BM25's idf, log(1 + (N - n + 0.5) / (n + 0.5)), at n = share × N.
    return idf < math.log(1 / common_name)


def names_in(index: Index, names: tuple[tuple[str, ...], ...], number: int, in_passage: bool = False) -> bool:
    """Whether every name the question gives is in passage number with its title and the passage before it in its
    document (in_passage: as it is spelt) or in its document (or one letter off in the passage or its title)."""
    # "Đà Nẵng" is not answered about Chí Linh. A name of one syllable must be in it; of more, one pair of its
    # syllables (folded): the index knows both. A name the document lacks may be misspelt: one letter off in the
    # answering passage or its title will do (the document's check only: the passage's asks which of the passages
    # that name it comes first). A lone syllable that is a common word of the corpus is no name to check, nor are
    # short forms ("UBND TP"). A name the document runs through is what it is about: a passage need not repeat it
    # ("Chí Linh" of an article on Chí Linh; runs_through). A passage goes on from the one before it: "Đồng chí cũng
    # yêu cầu…" after the passage that names Lê Văn Hiệu is his.
    if not names:
        return True
    document = index.document_range(int(index.passage_doc[number]))
    first, last = (max(number - 1, document[0]), number + 1) if in_passage else document
    nearby: list[str] = []  # the passage's and title's syllables, read only when a name is not in the index
    for name in names:
        kept = without_short_forms(name)
        keys = [key for syllable in kept for key in _syllable_keys(syllable)]
        name_terms = _name_terms(kept, keys, as_written=in_passage)
        if index.postings.any_within(name_terms, first, last):
            continue
        if in_passage:
            if runs_through(index.postings.passages_within(name_terms, *document), document[1] - document[0]):
                continue
        else:
            if not nearby:
                passage = index.passage(number)
                nearby = _key_list(passage.text) + [""] + _key_list(passage.title)
            held = index.postings.doc_freq([terms.folded(k) for k in keys]).tolist()
            if name_nearly_in(keys, nearby, [k for k, count in zip(keys, held) if not count]):
                continue
        if len(keys) > 1 or not common_word(float(index.postings.term_idf(name_terms)[0])):
            return False
    return True


def _name_terms(name: Sequence[str], keys: Sequence[str], as_written: bool) -> list[str]:
    """The index terms a name (its syllables, lowercased as the question writes them; keys: their folded forms) is
    looked for by: its one syllable (as_written: with the marks the question gives it), or the pairs of its syllables
    (folded)."""
    # Folded, "Thưởng" is "thường" (Thường trực, Thường vụ), which runs through an article that names him three times:
    # which passage names him is judged as written. Whether his document does stays folded (marks typed differently).
    if len(keys) > 1:
        return [terms.pair(a, b) for a, b in zip(keys, keys[1:])]
    marked = as_written and len(name) == 1 and fold(name[0]) != name[0]
    return [terms.syllable(name[0]) if marked else terms.folded(keys[0])]


def runs_through(holding: int, passages: int, topic_name: float = TOPIC_NAME) -> bool:
    """Whether a name held by this many of its document's passages is what the document is about."""
    # "Lĩnh vực văn hóa - xã hội của Chí Linh…" of the article on Chí Linh: its passage on culture says "Lĩnh vực văn
    # hóa - xã hội có tiến bộ" and no more; another that says "Chí Linh" and less of the question is no better answer.
    # A person it names in a few passages is not its subject: "Lê Văn Hiệu" is asked of the passages that name him.
    return holding > topic_name * passages


def without_short_forms(name: Sequence[str]) -> Sequence[str]:
    """A name less its short forms, unless it has nothing else: "Hải Phòng" of "UBND TP Hải Phòng"."""
    return [syllable for syllable in name if fold(syllable) not in _SHORT_FORMS] or name


def name_nearly_in(
    name: Sequence[str], keys: Sequence[str], unknown: Collection[str], fuzzy_from: int = FUZZY_NAME_FROM
) -> bool:
    """Whether the name (folded syllables) is in a run of folded syllables, a long syllable no passage has allowed
    one letter off."""

    # A long syllable no passage has is a misspelling ("Bedigo", "Maastrich"), not another word of the corpus
    # ("Trương" is not "Trung"); shorter syllables one letter off are mostly other Vietnamese syllables ("nang":
    # "nan", "dang", "nanh"). A name of one syllable must be there; of more, one pair of its syllables side by side,
    # as in the exact check.
    def same(asked: str, seen: str) -> bool:
        return asked == seen or (asked in unknown and len(asked) >= fuzzy_from and near(asked, seen))

    if len(name) == 1:
        return any(same(name[0], key) for key in set(keys))
    pairs = set(zip(keys, keys[1:]))
    return any(same(a, x) and same(b, y) for a, b in zip(name, name[1:]) for x, y in pairs)


def near(a: str, b: str) -> bool:
    """Whether two words are at most one letter dropped, added or changed, or two neighbours swapped, apart (the
    typos people make in names)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        return len(differ) == 1 or (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and a[differ[0]] == b[differ[1]]
            and a[differ[1]] == b[differ[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1 :]


def _expansion(folded: str) -> tuple[str, ...]:
    """The folded syllable(s) a folded syllable of a text answers to: itself, or a short form's full form."""
    return _EXPANSIONS.get(folded, (folded,))


@lru_cache(maxsize=65536)
def _syllable_keys(syllable: str) -> tuple[str, ...]:
    """The folded forms a syllable answers to: itself, or an abbreviation's full form."""
    return _expansion(fold(syllable.lower()))


def _key_list(text: str) -> list[str]:
    """The folded form(s) each syllable of the text answers to, in order."""
    return [key for folded in folded_text(text).split() for key in _expansion(folded)]
