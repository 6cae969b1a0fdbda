"""The k best passages of a large corpus, compiled: MaxScore over the term postings in one call a question.

numpy takes a few calls per term and per step, a microsecond or more each: at 100k passages that overhead, not
the arithmetic, was most of a question's time. A score is the float64 sum of the products Postings._add adds
(the terms in another order: equal to 1e-9 relative), summed in the same order for every passage, so equal scores
stay equal and ties go to the lower passage number as in a full sort.
"""
from __future__ import annotations

import threading

import numpy as np
from numba import njit

# The likely answers scored in full first: their k-th best score is the bar the rest must reach. More cost more
# lookups than they save (4-32 tried at 100k passages: 4 and 8 fastest, 8 with the shorter tail).
LIKELY = 8
# Terms are looked up only while all they can add is less than this share of the bar (at most 1: a passage with
# none of the added terms must not be able to reach it); past it, so many passages would be within reach that
# adding a term to all that hold it costs less. 0.5 of 0.25-1 answered fastest at 100k passages.
REACH = 0.5

_scratch = threading.local()  # per thread: a running total per passage and the passages touched, left at zero


def top(postings, rows: np.ndarray, asked: np.ndarray, k: int, common_from: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of a Postings' passages (1 <= k <= its passages), best first, ties to the lower number, and
    their scores, for the terms in rows asked with these weights (all above 0).

    A term in more than common_from passages is common: looked up for the passages that can still make the top k,
    not added to all that hold it.
    """
    total, touched = _buffers(postings.n_passages)
    return _top(postings.indptr, postings.passage, postings.weight, postings.peak, rows.astype(np.int64),
                asked.astype(np.float64), k, common_from, LIKELY, REACH, total, touched)


def _buffers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """This thread's zeroed total and touched list, at least n long."""
    if getattr(_scratch, "n", -1) < n:
        _scratch.total, _scratch.touched, _scratch.n = np.zeros(n), np.empty(n, dtype=np.int64), n
    return _scratch.total, _scratch.touched


@njit(cache=True, nogil=True)
def _top(indptr, passage, weight, peak, rows, asked, k, common_from, likely, within_reach,  # pragma: no cover
         total, touched):
    looked = np.zeros(len(rows), dtype=np.bool_)  # looked up for the passages in the running, not added
    held = 0  # passages holding an added term: touched[:held]
    for i in range(len(rows)):
        looked[i] = indptr[rows[i] + 1] - indptr[rows[i]] > common_from
        if not looked[i]:
            held = _add(i, indptr, passage, weight, rows, asked, total, touched, held)
    first_p, firsts = np.empty(0, dtype=np.int64), 0
    while True:
        # The bar: the k-th best full score among the likely answers, the passages with the highest totals so far.
        # Only a passage within reach of it (the most the looked-up terms can add) can make the top k.
        if firsts < k:
            first_p, _, firsts = _highest(touched, held, total, min(likely, held))
        best_p, best_s, found = np.empty(k, dtype=np.int64), np.empty(k), 0
        for f in range(firsts):
            p = first_p[f]
            found = _keep(best_p, best_s, found, p, _full(p, total[p], indptr, passage, weight, rows, asked, looked))
        reach, cheapest = 0.0, -1
        for i in range(len(rows)):
            if looked[i]:
                reach += asked[i] * peak[rows[i]]
                if cheapest < 0 or _reach_per_posting(i, indptr, peak, rows, asked) > \
                        _reach_per_posting(cheapest, indptr, peak, rows, asked):
                    cheapest = i
        if cheapest < 0 or (found == k and reach < best_s[k - 1] * within_reach):
            break
        # Too many passages would be within reach: add the term whose postings take most reach off, each.
        looked[cheapest] = False
        held = _add(cheapest, indptr, passage, weight, rows, asked, total, touched, held)
    if cheapest < 0:  # every term added: the totals are the scores
        best_p, best_s, found = _highest(touched, held, total, k)
        p = 0
        while found < k:  # fewer passages hold a term than were asked for: the first others, scoring 0
            if total[p] == 0.0 and not _among(best_p, found, p):
                found = _keep(best_p, best_s, found, p, 0.0)
            p += 1
        for h in range(held):
            total[touched[h]] = 0.0
    else:
        bar = best_s[k - 1] * (1 - 1e-9)
        for h in range(held):  # each total read for the last time, and left at zero for the next question
            p = touched[h]
            score = total[p]
            total[p] = 0.0
            if score >= bar - reach and not _among(best_p, found, p):
                found = _keep(best_p, best_s, found, p, _full(p, score, indptr, passage, weight, rows, asked, looked))
    return best_p, best_s


@njit(cache=True, nogil=True, inline="always")
def _reach_per_posting(i, indptr, peak, rows, asked):  # pragma: no cover
    """The most term i can add to a passage, over the number of passages it would be added to."""
    return asked[i] * peak[rows[i]] / (indptr[rows[i] + 1] - indptr[rows[i]])


@njit(cache=True, nogil=True, inline="always")
def _add(i, indptr, passage, weight, rows, asked, total, touched, held):  # pragma: no cover
    """Add term i's weights to the totals of the passages that hold it; the new count of passages touched."""
    for j in range(indptr[rows[i]], indptr[rows[i] + 1]):
        p = passage[j]
        if total[p] == 0.0:
            touched[held] = p
            held += 1
        total[p] += asked[i] * weight[j]
    return held


@njit(cache=True, nogil=True)
def _highest(touched, held, total, count):  # pragma: no cover
    """The count passages of touched[:held] with the highest total, best first, and how many there are."""
    best_p = np.empty(count, dtype=np.int64)
    best_s = np.empty(count)
    found = 0
    for h in range(held):
        p = touched[h]
        s = total[p]
        # Most fall short of the last kept: tell so here, cheaper than a call that would say it.
        if found < count or s > best_s[count - 1] or (s == best_s[count - 1] and p < best_p[count - 1]):
            found = _keep(best_p, best_s, found, p, s)
    return best_p, best_s, found


@njit(cache=True, nogil=True, inline="always")
def _full(p, score, indptr, passage, weight, rows, asked, looked):  # pragma: no cover
    """Passage p's score: its total so far plus the looked-up terms' weights there, found by binary search."""
    for i in range(len(rows)):
        if looked[i]:
            lo, hi = indptr[rows[i]], indptr[rows[i] + 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if passage[mid] < p:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < indptr[rows[i] + 1] and passage[lo] == p:
                score += asked[i] * weight[lo]
    return score


@njit(cache=True, nogil=True, inline="always")
def _keep(best_p, best_s, found, p, s):  # pragma: no cover
    """Insert passage p with score s into the best so far (found of them, best first); the new count."""
    at = found
    while at > 0 and (s > best_s[at - 1] or (s == best_s[at - 1] and p < best_p[at - 1])):
        at -= 1
    if at >= len(best_p):
        return found
    end = min(found, len(best_p) - 1)
    for i in range(end, at, -1):
        best_p[i], best_s[i] = best_p[i - 1], best_s[i - 1]
    best_p[at], best_s[at] = p, s
    return min(found + 1, len(best_p))


@njit(cache=True, nogil=True, inline="always")
def _among(best_p, found, p):  # pragma: no cover
    """Whether passage p is among the best so far."""
    for i in range(found):
        if best_p[i] == p:
            return True
    return False
