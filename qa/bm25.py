"""The BM25 model: rank-bm25's Okapi scores with an idf that stays positive, scored through term postings."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from .settings import COMMON_SHARE, COMPILED_FROM, FIRST_CANDIDATES, K1, NON_ESSENTIAL_SHARE, REMEMBERED_TERM_KEYS, B

if TYPE_CHECKING:
    from . import maxscore

BLOCK = 1 << 22  # postings weighed at a time while building: no 8-byte temporaries of every posting
DELETED_NORM = 1e30  # a deleted passage's length norm: what it scores is below any live passage's score


def idf(n_docs: int, doc_freq: np.ndarray | float) -> np.ndarray | float:
    """The idf of terms in doc_freq of n_docs passages: always positive, even for a term in half the passages or more
    (rank-bm25's gives 0 or less)."""
    return np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


class FixedIdfBM25(BM25Okapi):
    """rank-bm25's model with the idf fixed: the reference our postings must score exactly like."""

    def _calc_idf(self, nd: Mapping[str, int]) -> None:
        self.idf = {term: float(idf(self.corpus_size, freq)) for term, freq in nd.items()}


def _digest(term: str) -> bytes:
    return hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()


# A question's terms are looked up several times an ask (ranking, names): their keys are remembered, as questions
# share their vocabulary; hashing a question's forty terms anew took 20 µs, a tenth of the ranking.
_remembered_digest = lru_cache(maxsize=REMEMBERED_TERM_KEYS)(_digest)


def term_hash(terms: Sequence[str], remembered: bool = False) -> np.ndarray:
    """The 64-bit key of each term: its blake2b digest of 8 bytes, little-endian (what saved indexes hold); remembered:
    each term's key kept for the next time it is asked (the terms of questions, not of a corpus being indexed)."""
    # Keys, not strings: the vocabulary is a sorted array, searchable memory-mapped, never a dict to load.
    digests = b"".join(map(_remembered_digest if remembered else _digest, terms))
    return np.frombuffer(digests, dtype="<u8").copy()


@dataclass(frozen=True)
class MaxScoreSettings:
    """How the compiled MaxScore prunes (qa.maxscore; each setting is described in qa.settings)."""

    common_share: int = COMMON_SHARE
    first_candidates: int = FIRST_CANDIDATES
    non_essential_share: float = NON_ESSENTIAL_SHARE


@dataclass(frozen=True)
class CollectionStats:
    """The statistics BM25 ranks with: live passages, their total length and, per term asked, how many hold it. One
    collection's own, or summed over the shards of a larger one, so that each shard ranks as part of the whole."""

    n_live: int
    total_length: float
    doc_freq: Mapping[str, int]

    @property
    def average(self) -> float:
        return self.total_length / self.n_live if self.n_live else 1.0

    @classmethod
    def summed(cls, parts: Sequence["CollectionStats"]) -> "CollectionStats":
        """The statistics of the collection these parts (shards) make up together."""
        doc_freq: dict[str, int] = {}
        for part in parts:
            for term, count in part.doc_freq.items():
                doc_freq[term] = doc_freq.get(term, 0) + count
        return cls(sum(p.n_live for p in parts), sum(p.total_length for p in parts), doc_freq)

    def of(self, terms: Sequence[str]) -> np.ndarray:
        """How many passages hold each term (0 for a term these statistics were not asked for)."""
        return np.array([self.doc_freq.get(t, 0) for t in terms], dtype=np.int64)


@dataclass
class Segment:
    """One segment's postings: per term (sorted by hash) the passages that hold it and how often, and each passage's
    length. No statistic of the collection is in it, so that segments written at different times rank as one."""

    keys: np.ndarray  # uint64, sorted term hashes
    indptr: np.ndarray  # int64, len(keys) + 1: term t's postings are [indptr[t], indptr[t+1])
    passage: np.ndarray  # int32 passage numbers in the segment, ascending within a term
    tf: np.ndarray  # float32 times the term occurs in the passage
    lengths: np.ndarray  # float32 per passage: how many terms it has, counted with repeats
    peak: np.ndarray  # float32 per term: its highest tf / (tf + k1 * (1 - b + b * length / average)), this segment's
    average: float  # the average length peak was computed with

    @property
    def n_passages(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_bags(
        cls,
        keys: np.ndarray,
        rows: np.ndarray,
        passages: np.ndarray,
        counts: np.ndarray,
        n_passages: int,
        k1: float = K1,
        b: float = B,
    ) -> "Segment":
        """The segment of (row of the term in keys, passage, count) triples in any order, repeats summed.

        A passage is as long as its counts add up to; every key must have a triple.
        """
        n = n_passages
        lengths = np.bincount(passages, weights=counts, minlength=n).astype(np.float32)
        shift = max(n - 1, 0).bit_length()
        pairs = rows.astype(np.int64)  # (row, passage) as one number, to sort by; in place from here on
        pairs <<= shift
        pairs |= passages
        del rows, passages
        count_bits = int(counts.max(initial=0)).bit_length()
        if int(pairs.max(initial=0)).bit_length() + count_bits <= 63:
            # Counts ride in the low bits: sorting one array is ten times faster than an argsort.
            pairs <<= count_bits
            pairs |= counts
            pairs.sort()
            counts = _low_bits(pairs, count_bits)
            pairs >>= count_bits
        else:
            order = np.argsort(pairs)
            pairs, counts = pairs[order], counts[order]
            del order
        repeats = np.flatnonzero(pairs[1:] == pairs[:-1]) + 1  # few: a term both in a passage and in its title
        if len(repeats):
            runs = np.flatnonzero(np.diff(repeats, prepend=-2) != 1)  # where each run of repeats begins
            np.add.at(counts, np.repeat(repeats[runs] - 1, np.diff(np.append(runs, len(repeats)))), counts[repeats])
            kept = np.ones(len(pairs), dtype=bool)
            kept[repeats] = False
            pairs, counts = pairs[kept], counts[kept]
        passages = _low_bits(pairs, shift)
        pairs >>= shift
        indptr = np.concatenate([[0], np.cumsum(np.bincount(pairs, minlength=len(keys)))]).astype(np.int64)
        del pairs
        tf = counts.astype(np.float32)
        average = float(lengths.sum(dtype=np.float64) / n) if n else 1.0
        norm = k1 * (1 - b + b * lengths.astype(np.float64) / average)
        saturation = np.empty(len(tf), dtype=np.float32)
        for lo in range(0, len(tf), BLOCK):  # a block at a time: no 8-byte temporaries of every posting
            block = tf[lo : lo + BLOCK].astype(np.float64)
            # Rounded up to float32: a peak is an upper bound of what a question computes in float64.
            saturation[lo : lo + BLOCK] = np.nextafter(
                (block / (block + norm[passages[lo : lo + BLOCK]])).astype(np.float32), np.float32(np.inf)
            )
        peak = np.maximum.reduceat(saturation, indptr[:-1]) if len(tf) else np.zeros(0, np.float32)
        return cls(np.ascontiguousarray(keys, dtype=np.uint64), indptr, passages, tf, lengths, peak, average)

    def rows(self, hashes: np.ndarray) -> np.ndarray:
        """The row of each term (given by term_hash), -1 where no passage of the segment has it."""
        if not len(hashes) or not len(self.keys):
            return np.full(len(hashes), -1, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        return np.where(self.keys[rows] == hashes, rows, -1)

    def doc_freq(self, rows: np.ndarray) -> np.ndarray:
        """How many of the segment's passages hold each term (by row; 0 for a row of -1)."""
        found = np.maximum(rows, 0)
        return (
            np.where(rows >= 0, self.indptr[found + 1] - self.indptr[found], 0)
            if len(self.keys)
            else np.zeros(len(rows), dtype=np.int64)
        )


class CollectionIdf:
    """The idf of terms in a collection of n_live passages whose doc_freq(terms) says how many hold each: the same
    for one collection's postings (Postings) and a sharded one's (shards.ShardedPostings)."""

    n_live: int

    @property
    def unseen_idf(self) -> float:
        """The idf of a term no passage has: the highest there can be."""
        return float(idf(self.n_live, 0.0))

    def term_idf(self, terms: Sequence[str]) -> np.ndarray:
        """idf of each term; a term no passage has gets the idf of the rarest possible one."""
        return self.idf_of(self.doc_freq(terms))

    def idf_of(self, doc_freq: np.ndarray) -> np.ndarray:
        """idf of terms held by doc_freq passages each; 0 passages give the idf of the rarest possible term."""
        return np.where(doc_freq > 0, idf(self.n_live, doc_freq.astype(np.float64)), self.unseen_idf)


@dataclass
class Postings(CollectionIdf):
    """A collection's postings: its segments ranked as one index of the passages they hold (less those deleted),
    with the collection's statistics, so that scores are exactly those of one index built of the same passages.

    Passages are numbered through the segments in order: segment s holds numbers offsets[s] to offsets[s + 1].
    """

    segments: list[Segment]
    deleted: list[np.ndarray | None] = field(default_factory=list)  # per segment, bool per passage (None: none)
    deleted_df: list[np.ndarray | None] = field(default_factory=list)  # per segment, per term: its deleted postings
    k1: float = K1
    b: float = B
    compiled: bool = field(default=False, compare=False)  # ranked by the compiled MaxScore: see use_compiled()
    maxscore: MaxScoreSettings = field(default_factory=MaxScoreSettings, compare=False)
    offsets: np.ndarray = field(init=False)
    n_live: int = field(init=False)  # passages not deleted
    total_length: float = field(init=False)  # their lengths added up
    average: float = field(init=False)  # their average length
    norms: list[np.ndarray] = field(init=False)  # per segment, per passage: k1 * (1 - b + b * length / average)

    def __post_init__(self) -> None:
        count = len(self.segments)
        self.deleted = self.deleted or [None] * count
        self.deleted_df = self.deleted_df or [None] * count
        self.offsets = np.concatenate([[0], np.cumsum([s.n_passages for s in self.segments])]).astype(np.int64)
        live = [np.ones(s.n_passages, dtype=bool) if d is None else ~d for s, d in zip(self.segments, self.deleted)]
        self.n_live = int(sum(int(keep.sum()) for keep in live))
        self.total_length = sum(float(s.lengths[keep].sum(dtype=np.float64)) for s, keep in zip(self.segments, live))
        self.average = self.total_length / self.n_live if self.n_live else 1.0
        self.norms = self._norms(live, self.average)
        self._within: tuple[tuple[int, float], Postings] | None = None  # see within()
        self._compiled_segments: maxscore.CompiledSegments | None = None  # see compiled_segments

    def _norms(self, live: list[np.ndarray], average: float) -> list[np.ndarray]:
        """Per segment, per passage: k1 * (1 - b + b * length / average)."""
        # A deleted passage's norm is huge: it scores nothing, though its postings stay until a merge drops them.
        return [
            np.where(keep, self.k1 * (1 - self.b + self.b * s.lengths.astype(np.float64) / average), DELETED_NORM)
            for s, keep in zip(self.segments, live)
        ]

    @classmethod
    def build(cls, passage_terms: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> "Postings":
        """The postings of passages given as lists of terms, in one segment (the readable way in, for tests and
        references)."""
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(term, len(vocabulary)) for terms in passage_terms for term in terms]
        keys, rows = np.unique(term_hash(list(vocabulary)), return_inverse=True)
        if len(keys) != len(vocabulary):
            raise ValueError("two index terms share a 64-bit hash")
        lengths = [len(terms) for terms in passage_terms]
        segment = Segment.from_bags(
            keys,
            rows[np.array(ids, dtype=np.int64)],
            np.repeat(np.arange(len(lengths)), lengths),
            np.ones(len(ids), dtype=np.int64),
            len(lengths),
            k1,
            b,
        )
        return cls([segment], k1=k1, b=b)

    @property
    def n_passages(self) -> int:
        """Passages numbered, deleted ones included."""
        return int(self.offsets[-1])

    def doc_freq(self, terms: Sequence[str]) -> np.ndarray:
        """How many passages hold each term (0: none)."""
        if self.compiled:  # one call, not numpy's dozen per segment: names are looked up several times a question
            from . import maxscore

            return maxscore.doc_freq(self.compiled_segments, term_hash(terms, remembered=True))
        return self._doc_freq(self._rows(term_hash(terms, remembered=True)))

    def any_within(self, terms: Sequence[str], first: int, last: int) -> bool:
        """Whether a passage numbered from first to last (not included, all in one segment) holds one of the terms."""
        if self.compiled:
            from . import maxscore

            return maxscore.any_within(self.compiled_segments, term_hash(terms, remembered=True), first, last)
        return any(len(held) for held in self._held_within(terms, first, last))

    def passages_within(self, terms: Sequence[str], first: int, last: int) -> int:
        """How many passages numbered from first to last (not included, all in one segment) hold one of the terms."""
        held = list(self._held_within(terms, first, last))
        return len(np.unique(np.concatenate(held))) if held else 0

    def _held_within(self, terms: Sequence[str], first: int, last: int) -> Iterator[np.ndarray]:
        """Per term the segment has, the numbers (in the segment) of its passages from first to last that hold it."""
        s = int(np.searchsorted(self.offsets, first, side="right")) - 1
        segment, offset = self.segments[s], int(self.offsets[s])
        rows = segment.rows(term_hash(terms, remembered=True))
        for row in rows[rows >= 0].tolist():
            holding = segment.passage[segment.indptr[row] : segment.indptr[row + 1]]
            yield holding[np.searchsorted(holding, first - offset) : np.searchsorted(holding, last - offset)]

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """The BM25 score of every passage (0 for a deleted one): the query terms' weights summed, each times the
        weight it is asked with."""
        terms = list(query)
        rows, asked = self._asked(terms, np.array([query[t] for t in terms], dtype=np.float64))
        return np.concatenate(
            [self._segment_scores(s, r, a).clip(min=0) for s, (r, a) in enumerate(zip(rows, asked))] + [np.zeros(0)]
        )

    def top(
        self, query: Mapping[str, float], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages (of those allowed, a bool per passage, when given) and their scores, best first, ties
        to the lower passage number (as a sort of every score would give)."""
        terms = list(query)
        return self._top(*self._asked(terms, np.array([query[t] for t in terms], dtype=np.float64)), k, allowed)

    def stats_for(self, terms: Sequence[str]) -> CollectionStats:
        """This collection's statistics, with the document frequency of each of the terms."""
        return CollectionStats(self.n_live, self.total_length, dict(zip(terms, self.doc_freq(terms).tolist())))

    def within(self, stats: CollectionStats) -> "Postings":
        """These postings ranked as a part (a shard) of the larger collection stats describe: with its passage count
        and average length (its document frequencies go to ranked() with stats)."""
        key = (stats.n_live, stats.total_length)
        within = self._within
        if within is None or within[0] != key:  # the whole changes only when a shard does: made once, then kept
            part = copy.copy(self)
            part.n_live, part.total_length, part.average = stats.n_live, stats.total_length, stats.average
            part.norms = self._norms([n < DELETED_NORM for n in self.norms], stats.average)
            part._within = part._compiled_segments = None
            self._within = within = (key, part)
        return within[1]

    def ranked(
        self,
        terms: Sequence[str],
        counts: Sequence[int],
        k: int,
        compounds: tuple[Sequence[int], Sequence[int]] = ((), ()),
        allowed: np.ndarray | None = None,
        stats: CollectionStats | None = None,
        written: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> tuple[np.ndarray, ...]:
        """How many passages hold each term and the idf it is asked for, and the k best passages for the terms (of
        those allowed, a bool per passage, when given: the statistics stay the whole collection's) and their
        scores.

        Each term is asked its count (1 or more) times its idf: a rare term says more than a common one. compounds
        gives the terms that contain others, as positions in terms (two sequences: compound, component): every
        passage with a compound has its components, so a compound is asked only for the idf it adds to its rarest
        component, never below 0, not its whole idf, which would count the component again. A term that adds
        nothing is not asked. A term no passage has gets the highest idf there can be, less its component's.
        written gives folded syllables beside the same syllables as the question writes them, with marks (two
        sequences of positions in terms: folded, as written): a folded syllable is asked only when some passage
        holds it as written; otherwise it meets only other words ("diễn" asked, "Diện" in the passages). Its idf is
        still given, for what the question means by it.
        stats, when given, are those of a larger collection these postings are a shard of (see within()).
        """
        if self.compiled and allowed is None and stats is None and k > 0 and self.n_passages > 0:
            from . import maxscore  # in one compiled call, the lookup in every segment included

            return maxscore.ranked(
                self.compiled_segments,
                self.n_live,
                term_hash(terms, remembered=True),
                np.asarray(counts, dtype=np.float64),
                np.array(compounds[0], dtype=np.int64),
                np.array(compounds[1], dtype=np.int64),
                np.array(written[0], dtype=np.int64),
                np.array(written[1], dtype=np.int64),
                min(k, self.n_passages),
                self.maxscore,
                self.k1,
                DELETED_NORM,
            )
        rows = self._rows(term_hash(terms, remembered=True))
        if stats is not None:
            return self.within(stats)._ranked(rows, stats.of(terms), counts, k, compounds, written, allowed)
        return self._ranked(rows, self._doc_freq(rows), counts, k, compounds, written, allowed)

    def _ranked(
        self,
        rows: list[np.ndarray],
        doc_freq: np.ndarray,
        counts: Sequence[int],
        k: int,
        compounds: tuple[Sequence[int], Sequence[int]],
        written: tuple[Sequence[int], Sequence[int]],
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, ...]:
        """ranked() for terms found at these rows of each segment, held by doc_freq passages of the collection."""
        term_idf = self.idf_of(doc_freq)
        asked_idf = added_idf(term_idf, np.array(compounds[0], dtype=np.int64), np.array(compounds[1], dtype=np.int64))
        asked = np.asarray(counts, dtype=np.float64) * asked_idf * term_idf  # BM25's weight has the idf too
        unwritten = [folded for folded, as_written in zip(*written) if not doc_freq[as_written]]
        if unwritten:  # the corpus never writes the syllable so: its folded form meets other words
            asked[unwritten] = 0.0
        wanted = (doc_freq > 0) & (asked > 0)
        return (
            doc_freq,
            asked_idf,
            *self._top([r[wanted & (r >= 0)] for r in rows], [asked[wanted & (r >= 0)] for r in rows], k, allowed),
        )

    @property
    def compiled_segments(self) -> maxscore.CompiledSegments:
        """The segments as the compiled ranking takes them (qa.maxscore), made on first use."""
        if self._compiled_segments is None:
            from . import maxscore

            self._compiled_segments = maxscore.compiled_segments(
                self.segments,
                self.norms,
                self.deleted_df,
                self.offsets[:-1],
                [max(1.0, self.average / s.average) for s in self.segments],
            )
        return self._compiled_segments

    def use_compiled(self, from_postings: int = COMPILED_FROM, settings: MaxScoreSettings | None = None) -> None:
        """Rank with the compiled MaxScore (qa.maxscore) from now on, pruning as settings say, if this collection has
        from_postings postings or more."""
        # Loading it takes about a second: worth it for a server or a chat, not for one question, which numpy
        # answers in milliseconds by adding everything up.
        if sum(len(s.passage) for s in self.segments) >= max(from_postings, 1):
            from . import maxscore

            self.maxscore = settings or self.maxscore
            maxscore.load()
            self.compiled = True

    def _rows(self, hashes: np.ndarray) -> list[np.ndarray]:
        return [segment.rows(hashes) for segment in self.segments]

    def _doc_freq(self, rows: list[np.ndarray]) -> np.ndarray:
        """How many live passages hold each term, from its row in each segment."""
        total = np.zeros(len(rows[0]) if rows else 0, dtype=np.int64)
        for segment, segment_rows, deleted_df in zip(self.segments, rows, self.deleted_df):
            total += segment.doc_freq(segment_rows)
            if deleted_df is not None:
                total -= np.where(segment_rows >= 0, deleted_df[np.maximum(segment_rows, 0)], 0)
        return total

    def _asked(self, terms: list[str], weights: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per segment, the rows of the terms it has, and each one's weight times its idf."""
        rows = self._rows(term_hash(terms, remembered=True))
        weights = weights * self.idf_of(self._doc_freq(rows))
        return [r[r >= 0] for r in rows], [weights[r >= 0] for r in rows]

    def _top(
        self, rows: list[np.ndarray], asked: list[np.ndarray], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages and their scores for the terms in each segment's rows (those it has), asked with these
        weights, merged over the segments; deleted passages, and those not allowed, never among them."""
        k = min(k, self.n_passages)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        best, scores = [], []
        for s, (segment_rows, segment_asked) in enumerate(zip(rows, asked)):
            segment = self.segments[s]
            if not segment.n_passages:
                continue
            kept = segment_asked > 0
            segment_rows, segment_asked = segment_rows[kept], segment_asked[kept] * (self.k1 + 1)
            barred = self.deleted[s]
            if allowed is not None:
                outside = ~allowed[self.offsets[s] : self.offsets[s + 1]]
                barred = outside if barred is None else barred | outside
            norm = self.norms[s] if allowed is None else np.where(barred, DELETED_NORM, self.norms[s])
            if self.compiled:
                from . import maxscore

                numbers, found = maxscore.top(
                    segment,
                    norm,
                    segment_rows,
                    segment_asked,
                    min(k, segment.n_passages),
                    self.maxscore,
                    max(1.0, self.average / segment.average),
                )
            else:
                numbers, found = _best(
                    self._segment_scores(s, segment_rows, segment_asked, True, norm, barred), min(k, segment.n_passages)
                )
            if barred is not None:
                kept = ~barred[numbers]
                numbers, found = numbers[kept], found[kept]
            best.append(numbers + self.offsets[s])
            scores.append(found)
        if len(best) == 1:  # one segment: its top k is the collection's, in order already
            return best[0][:k], scores[0][:k]
        numbers, found = np.concatenate(best + [np.zeros(0, np.int64)]), np.concatenate(scores + [np.zeros(0)])
        order = np.lexsort((numbers, -found))[:k]
        return numbers[order], found[order]

    def _segment_scores(
        self,
        s: int,
        rows: np.ndarray,
        asked: np.ndarray,
        scaled: bool = False,
        norm: np.ndarray | None = None,
        barred: np.ndarray | None = None,
    ) -> np.ndarray:
        """Every passage of segment s's score: these terms' weights added up, each times the weight it is asked with
        (times k1 + 1 already when scaled); -1 for a passage deleted or barred."""
        # One bincount over the lists put together: faster than a call per list.
        segment = self.segments[s]
        lo, hi = segment.indptr[rows], segment.indptr[rows + 1]
        spans = list(zip(lo.tolist(), hi.tolist()))
        passages = np.concatenate([segment.passage[a:b] for a, b in spans] + [np.zeros(0, np.int32)])
        tf = np.concatenate([segment.tf[a:b] for a, b in spans] + [np.zeros(0, np.float32)]).astype(np.float64)
        factor = np.repeat(asked if scaled else asked * (self.k1 + 1), hi - lo)
        norm = self.norms[s] if norm is None else norm
        scores = np.bincount(passages, factor * tf / (tf + norm[passages]), minlength=segment.n_passages)
        barred = self.deleted[s] if barred is None else barred
        if barred is not None:
            scores[barred] = -1.0  # after every live passage, even those that score 0
        return scores


def added_idf(rarity: np.ndarray, compound: np.ndarray, component: np.ndarray) -> np.ndarray:
    """Each term's idf less that of its rarest component, never below 0 (compound[i] contains component[i], positions
    in rarity): what a compound says beyond its components."""
    rest = np.zeros(len(rarity))
    np.maximum.at(rest, compound, rarity[component])
    return np.maximum(rarity - rest, 0.0)


def _best(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k passages with the highest scores, best first, ties to the lower passage number, and their scores."""
    if k < len(scores):
        kth = -np.partition(-scores, k - 1)[k - 1]
        above = np.flatnonzero(scores > kth)
        keep = np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])
    else:
        keep = np.arange(len(scores))
    order = keep[np.lexsort((keep, -scores[keep]))]
    return order, scores[order]


def _low_bits(numbers: np.ndarray, bits: int) -> np.ndarray:
    """The low bits of int64 numbers as int32, without an int64 temporary as long as the input."""
    return np.bitwise_and(numbers, (1 << bits) - 1, out=np.empty(len(numbers), dtype=np.int32), casting="unsafe")


def reference_scores(
    passage_terms: Sequence[Sequence[str]], query: Sequence[str], k1: float = K1, b: float = B
) -> np.ndarray:
    """The scores rank-bm25's own object gives (with the idf fixed): what tests and benchmarks compare against."""
    return np.asarray(FixedIdfBM25([list(t) for t in passage_terms], k1=k1, b=b).get_scores(list(query)))
