"""The BM25 model: rank-bm25's Okapi scores with an idf that stays positive, scored through term postings."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

K1 = 1.5
B = 0.75


def idf(n_docs: int, doc_freq: np.ndarray | float) -> np.ndarray | float:
    """Always positive, even for a term in half the passages or more (rank-bm25's gives 0 or less)."""
    return np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


class FixedIdfBM25(BM25Okapi):
    """rank-bm25's model with the idf fixed: the reference our postings must score exactly like."""

    def _calc_idf(self, nd: Mapping[str, int]) -> None:
        self.idf = {term: float(idf(self.corpus_size, freq)) for term, freq in nd.items()}


def term_hash(terms: Sequence[str]) -> np.ndarray:
    """64-bit keys for terms: the vocabulary is a sorted array, searchable memory-mapped, never a dict to load."""
    digests = b"".join(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest() for t in terms)
    return np.frombuffer(digests, dtype="<u8").copy()


@dataclass
class Postings:
    """Per term (sorted by hash): the passages that hold it and its BM25 weight there."""

    keys: np.ndarray  # uint64, sorted term hashes
    idf: np.ndarray  # float64 per term
    indptr: np.ndarray  # int64, len(keys) + 1: term t's postings are [indptr[t], indptr[t+1])
    passage: np.ndarray  # int32 passage numbers
    weight: np.ndarray  # float32 idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    n_passages: int

    @classmethod
    def build(cls, passage_terms: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> "Postings":
        vocabulary: dict[str, int] = {}
        term_ids: list[int] = []
        passage_ids: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(passage_terms), dtype=np.float64)
        for number, terms in enumerate(passage_terms):
            lengths[number] = len(terms)
            tf: dict[int, int] = {}
            for term in terms:
                tid = vocabulary.setdefault(term, len(vocabulary))
                tf[tid] = tf.get(tid, 0) + 1
            term_ids += tf.keys()
            counts += tf.values()
            passage_ids += [number] * len(tf)
        return cls.from_counts(list(vocabulary), np.array(term_ids, dtype=np.int64),
                               np.array(passage_ids, dtype=np.int32), np.array(counts, dtype=np.float64),
                               lengths, k1, b)

    @classmethod
    def from_counts(cls, vocabulary: list[str], term_ids: np.ndarray, passage_ids: np.ndarray,
                    counts: np.ndarray, lengths: np.ndarray, k1: float = K1, b: float = B) -> "Postings":
        """Postings from (term, passage, count) triples: the whole model in a few array operations."""
        n = len(lengths)
        keys = term_hash(vocabulary)
        if len(np.unique(keys)) != len(keys):
            raise ValueError("two index terms share a 64-bit hash")
        order_of_term = np.empty(len(keys), dtype=np.int64)
        order_of_term[np.argsort(keys, kind="stable")] = np.arange(len(keys))
        rows = order_of_term[term_ids]
        order = np.lexsort((passage_ids, rows))
        rows, passage_ids, counts = rows[order], passage_ids[order], counts[order]
        doc_freq = np.bincount(rows, minlength=len(keys))
        term_idf = idf(n, doc_freq.astype(np.float64))
        avgdl = lengths.sum() / n if n else 1.0
        norm = k1 * (1 - b + b * lengths[passage_ids] / avgdl)
        weight = term_idf[rows] * counts * (k1 + 1) / (counts + norm)
        indptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=indptr[1:])
        return cls(np.sort(keys), term_idf, indptr, passage_ids.astype(np.int32), weight.astype(np.float32), n)

    def lookup(self, terms: Sequence[str]) -> np.ndarray:
        """Row of each term, -1 where the corpus does not have it."""
        if not terms or not len(self.keys):
            return np.full(len(terms), -1, dtype=np.int64)
        wanted = term_hash(terms)
        rows = np.searchsorted(self.keys, wanted)
        rows[rows >= len(self.keys)] = 0
        return np.where(self.keys[rows] == wanted, rows, -1)

    def term_idf(self, terms: Sequence[str]) -> np.ndarray:
        """idf of each term; a term no passage has gets the idf of the rarest possible one."""
        rows = self.lookup(terms)
        unseen = idf(self.n_passages, 0.0)
        return np.where(rows >= 0, self.idf[np.maximum(rows, 0)] if len(self.idf) else unseen, unseen)

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every passage: each query term adds its postings, weighted by how often it is asked."""
        total = np.zeros(self.n_passages, dtype=np.float64)
        terms = list(query)
        for term, row in zip(terms, self.lookup(terms)):
            if row >= 0:
                lo, hi = self.indptr[row], self.indptr[row + 1]
                total[self.passage[lo:hi]] += query[term] * self.weight[lo:hi].astype(np.float64)
        return total

    def top(self, query: Mapping[str, float], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages, best first (ties by passage number), without sorting the whole corpus."""
        total = self.scores(query)
        k = min(k, len(total))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        best = np.argpartition(-total, k - 1)[:k] if k < len(total) else np.arange(len(total))
        best = best[np.lexsort((best, -total[best]))]
        return best, total[best]


def reference_scores(passage_terms: Sequence[Sequence[str]], query: Sequence[str]) -> np.ndarray:
    """Scores from the rank-bm25 object itself: what tests and benchmarks compare against."""
    return np.asarray(FixedIdfBM25([list(t) for t in passage_terms], k1=K1, b=B).get_scores(list(query)))

