"""The BM25 model: rank-bm25's Okapi scores with an idf that stays positive, scored through term postings."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from .settings import B, COMMON_SHARE, COMPILED_FROM, FIRST_CANDIDATES, K1, NON_ESSENTIAL_SHARE

BLOCK = 1 << 22  # postings weighed at a time while building: no 8-byte temporaries of every posting


def idf(n_docs: int, doc_freq: np.ndarray | float) -> np.ndarray | float:
    """The idf of terms in doc_freq of n_docs passages: always positive, even for a term in half the passages or more
    (rank-bm25's gives 0 or less)."""
    return np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


class FixedIdfBM25(BM25Okapi):
    """rank-bm25's model with the idf fixed: the reference our postings must score exactly like."""

    def _calc_idf(self, nd: Mapping[str, int]) -> None:
        self.idf = {term: float(idf(self.corpus_size, freq)) for term, freq in nd.items()}


def term_hash(terms: Sequence[str]) -> np.ndarray:
    """The 64-bit key of each term: its blake2b digest of 8 bytes, little-endian (what saved indexes hold)."""
    # Keys, not strings: the vocabulary is a sorted array, searchable memory-mapped, never a dict to load.
    digests = b"".join(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest() for t in terms)
    return np.frombuffer(digests, dtype="<u8").copy()


@dataclass(frozen=True)
class MaxScoreSettings:
    """How the compiled MaxScore prunes (qa.maxscore; each setting is described in qa.settings)."""

    common_share: int = COMMON_SHARE
    first_candidates: int = FIRST_CANDIDATES
    non_essential_share: float = NON_ESSENTIAL_SHARE


@dataclass
class Postings:
    """Per term (sorted by hash): the passages that hold it and its BM25 weight there."""

    keys: np.ndarray  # uint64, sorted term hashes
    idf: np.ndarray  # float64 per term
    indptr: np.ndarray  # int64, len(keys) + 1: term t's postings are [indptr[t], indptr[t+1])
    passage: np.ndarray  # int32 passage numbers, ascending within a term
    weight: np.ndarray  # float32 idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    peak: np.ndarray  # float32 per term: its highest weight, the most it can add to a passage's score
    n_passages: int
    compiled: bool = field(default=False, compare=False)  # top() by the compiled MaxScore: see use_compiled()
    maxscore: MaxScoreSettings = field(default_factory=MaxScoreSettings, compare=False)

    @classmethod
    def build(cls, passage_terms: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> "Postings":
        """Postings of passages given as lists of terms (the readable way in, for tests and references)."""
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(term, len(vocabulary)) for terms in passage_terms for term in terms]
        keys, rows = np.unique(term_hash(list(vocabulary)), return_inverse=True)
        if len(keys) != len(vocabulary):
            raise ValueError("two index terms share a 64-bit hash")
        lengths = [len(terms) for terms in passage_terms]
        return cls.from_bags(keys, rows[np.array(ids, dtype=np.int64)], np.repeat(np.arange(len(lengths)), lengths),
                             np.ones(len(ids), dtype=np.int64), len(lengths), k1, b)

    @classmethod
    def from_bags(cls, keys: np.ndarray, rows: np.ndarray, passages: np.ndarray, counts: np.ndarray,
                  n_passages: int, k1: float = K1, b: float = B) -> "Postings":
        """Postings from (row of the term in keys, passage, count) triples in any order, repeats summed.

        A passage is as long as its counts add up to; every key must have a triple.
        """
        n = n_passages
        lengths = np.bincount(passages, weights=counts, minlength=n)
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
        rows = pairs
        doc_freq = np.bincount(rows, minlength=len(keys))
        term_idf = idf(n, doc_freq.astype(np.float64))
        norm = k1 * (1 - b + b * lengths / (lengths.sum() / n if n else 1.0))
        scale = term_idf * (k1 + 1)
        weight = np.empty(len(rows), dtype=np.float32)
        for lo in range(0, len(rows), BLOCK):  # in float64, a block at a time: no 8-byte temporaries of every posting
            tf = counts[lo:lo + BLOCK].astype(np.float64)
            weight[lo:lo + BLOCK] = scale[rows[lo:lo + BLOCK]] * tf / (tf + norm[passages[lo:lo + BLOCK]])
        indptr = np.concatenate([[0], np.cumsum(doc_freq)]).astype(np.int64)
        peak = np.maximum.reduceat(weight, indptr[:-1]) if len(weight) else np.zeros(0, np.float32)
        return cls(np.ascontiguousarray(keys, dtype=np.uint64), term_idf, indptr, passages, weight, peak, n)

    def lookup(self, terms: Sequence[str]) -> np.ndarray:
        """The row of each term, -1 where the corpus does not have it."""
        if not terms or not len(self.keys):
            return np.full(len(terms), -1, dtype=np.int64)
        hashes = term_hash(terms)
        rows = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        return np.where(self.keys[rows] == hashes, rows, -1)

    @property
    def unseen_idf(self) -> float:
        """The idf of a term no passage has: the highest there can be."""
        return float(idf(self.n_passages, 0.0))

    def row_idf(self, rows: np.ndarray) -> np.ndarray:
        """idf of the terms in these rows; a row of -1 (a term no passage has) gets the idf of the rarest possible."""
        return np.where(rows >= 0, self.idf[np.maximum(rows, 0)] if len(self.idf) else 0.0, self.unseen_idf)

    def term_idf(self, terms: Sequence[str]) -> np.ndarray:
        """idf of each term; a term no passage has gets the idf of the rarest possible one."""
        return self.row_idf(self.lookup(terms))

    def any_within(self, terms: Sequence[str], first: int, last: int) -> bool:
        """Whether a passage numbered from first to last (not included) holds one of the terms."""
        rows = self.lookup(terms)
        for row in rows[rows >= 0].tolist():
            holding = self.passage[self.indptr[row]:self.indptr[row + 1]]
            at = int(np.searchsorted(holding, first))
            if at < len(holding) and holding[at] < last:
                return True
        return False

    def _asked(self, query: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the query terms the corpus has, and the weight each is asked with."""
        terms = list(query)
        rows = self.lookup(terms)
        return rows[rows >= 0], np.array([query[t] for t in terms], dtype=np.float64)[rows >= 0]

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """The BM25 score of every passage: the query terms' postings summed, each times the weight it is asked with."""
        return self._add(*self._asked(query))

    def top(self, query: Mapping[str, float], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages and their scores, best first, ties to the lower passage number (as a sort of every
        score would give)."""
        return self.top_rows(*self._asked(query), k)

    def ranked(self, terms: Sequence[str], counts: Sequence[int], k: int,
               compounds: tuple[Sequence[int], Sequence[int]] = ((), ())) -> tuple[np.ndarray, ...]:
        """Each term's row (-1: no passage has it) and the idf it is asked for, and the k best passages for the terms
        and their scores.

        Each term is asked its count (1 or more) times its idf: a rare term says more than a common one. compounds
        gives the terms that contain others, as positions in terms (two sequences: compound, component): every
        passage with a compound has its components, so a compound is asked only for the idf it adds to its rarest
        component, never below 0, not its whole idf, which would count the component again. A term that adds
        nothing is not asked. A term no passage has gets the highest idf there can be, less its component's.
        """
        # Once use_compiled(), the lookup is part of MaxScore's one call: right after a question's analysis has
        # emptied the processor's caches, numpy's dozen small calls on a few terms cost more than the lookup itself.
        counts, k = np.asarray(counts, dtype=np.float64), min(k, self.n_passages)
        compound, component = np.array(compounds[0], dtype=np.int64), np.array(compounds[1], dtype=np.int64)
        if self.compiled and k > 0:
            from . import maxscore

            return maxscore.ranked(self, term_hash(terms), counts, compound, component, k, self.maxscore)
        rows = self.lookup(terms)
        asked_idf = added_idf(self.row_idf(rows), compound, component)
        known = (rows >= 0) & (asked_idf > 0)
        return (rows, asked_idf, *self.top_rows(rows[known], (counts * asked_idf)[known], k))

    def top_rows(self, rows: np.ndarray, asked: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """top() of a query given as rows of terms the corpus has, and the weight each is asked with."""
        # Most postings belong to a few common terms, and a common term adds little: once use_compiled(), MaxScore
        # (qa.maxscore) looks common terms up for the passages that can still make the top k instead of adding them
        # to the tens of thousands of passages that hold them. Otherwise numpy adds everything up.
        n = self.n_passages
        k = min(k, n)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        if not self.compiled or not np.all(asked > 0):
            return _best(self._add(rows, asked), k)
        from . import maxscore

        return maxscore.top(self, rows, asked, k, self.maxscore)

    def use_compiled(self, from_postings: int = COMPILED_FROM, settings: MaxScoreSettings | None = None) -> None:
        """Rank with the compiled MaxScore (qa.maxscore) from now on, pruning as settings say, if this corpus has
        from_postings postings or more."""
        # Loading it takes about a second: worth it for a server or a chat, not for one question, which numpy
        # answers in milliseconds by adding everything up.
        if len(self.passage) >= max(from_postings, 1):
            from . import maxscore

            self.maxscore = settings or self.maxscore
            maxscore.top(self, np.zeros(1, dtype=np.int64), np.ones(1), 1, MaxScoreSettings(common_share=1))  # loaded
            self.compiled = True

    def _add(self, rows: np.ndarray, asked: np.ndarray) -> np.ndarray:
        """Every passage's score: these terms' postings added up, each times the weight the term is asked with."""
        # One bincount over the lists put together: faster than a call per list.
        lo, hi = self.indptr[rows], self.indptr[rows + 1]
        spans = list(zip(lo.tolist(), hi.tolist()))
        passages = np.concatenate([self.passage[a:b] for a, b in spans] + [np.zeros(0, np.int32)])
        weights = np.concatenate([self.weight[a:b] for a, b in spans] + [np.zeros(0, np.float32)])
        return np.bincount(passages, weights * np.repeat(asked, hi - lo), minlength=self.n_passages)


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
        keep = np.concatenate([above, np.flatnonzero(scores == kth)[:k - len(above)]])
    else:
        keep = np.arange(len(scores))
    order = keep[np.lexsort((keep, -scores[keep]))]
    return order, scores[order]


def _low_bits(numbers: np.ndarray, bits: int) -> np.ndarray:
    """The low bits of int64 numbers as int32, without an int64 temporary as long as the input."""
    return np.bitwise_and(numbers, (1 << bits) - 1, out=np.empty(len(numbers), dtype=np.int32), casting="unsafe")


def reference_scores(passage_terms: Sequence[Sequence[str]], query: Sequence[str], k1: float = K1,
                     b: float = B) -> np.ndarray:
    """The scores rank-bm25's own object gives (with the idf fixed): what tests and benchmarks compare against."""
    return np.asarray(FixedIdfBM25([list(t) for t in passage_terms], k1=k1, b=b).get_scores(list(query)))

